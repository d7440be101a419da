"""``rtcr import``: add a checkpoint archive (``rtcr export``) to a store."""

from __future__ import annotations

from pathlib import Path

import click

from rtcr.store import Store
from rtcr.store.archive import import_archive


@click.command("import")
@click.argument("archive", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("directory", metavar="STORE", type=click.Path(path_type=Path))
def command(archive: Path, directory: Path) -> None:
    """Add the checkpoint in FILE to STORE (created if missing) as a new full checkpoint.

    Every frame of the archive is checked before the checkpoint commits; a
    damaged or truncated archive is refused and the store stays as it was.

    \b
    Example:
      rtcr import counter-7.rtcr ck2 && rtcr restore ck2
    """
    with Store.open_or_create(directory) as store:
        cid, info = import_archive(store, archive)
    click.echo(f"rtcr: imported checkpoint {info.source_id} of {archive} into {directory} "
               f"as checkpoint {cid} ({info.pages:,} pages)", err=True)
