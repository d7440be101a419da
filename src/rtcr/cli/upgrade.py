"""``rtcr upgrade``: convert a store written by rtcr 0.1 to the current format."""

from __future__ import annotations

from pathlib import Path

import click

from rtcr.errors import StoreError
from rtcr.store.format import DB_NAME
from rtcr.store.legacy import upgrade


@click.command("upgrade")
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
def command(directory: Path) -> None:
    """Convert the store DIR from format 1 (rtcr 0.1) to format 2.

    Every checkpoint is verified first and converted with the same id,
    parent, manifest and contents; one that does not verify is left out
    (and named). The old store stays beside the new one as DIR.format1.
    """
    if not (directory / DB_NAME).is_file():
        raise StoreError(f"{directory}: is not an rtcr store")
    report = upgrade(directory)
    for cid, why in sorted(report.skipped.items()):
        click.echo(f"checkpoint {cid}: not converted: {why}", err=True)
    click.echo(f"converted {len(report.converted)} checkpoint(s); the format-1 store is "
               f"kept as {report.backup}")
