"""``rtcr export``: one checkpoint as one self-contained, checksummed file."""

from __future__ import annotations

from pathlib import Path

import click

from rtcr.core.quota import format_bytes
from rtcr.store import Store
from rtcr.store.archive import export_checkpoint

from ._checkpoint_arg import resolve_checkpoint
from ._options import output_directory
from ._progress import progress


@click.command("export")
@click.argument("directory", metavar="STORE", type=click.Path(path_type=Path))
@click.argument("checkpoint", metavar="[ID|TAG]", required=False)
@click.option("-o", "--output", required=True, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path), help="The archive to write.")
def command(directory: Path, checkpoint: str | None, output: Path) -> None:
    """Write checkpoint ID (or TAG) of STORE (default: the newest) to one file.

    The file holds the checkpoint whole (its lineage resolved: manifest and
    every non-zero page), every part checksummed; `rtcr import` adds it to
    any store, `rtcr restore FILE` continues it directly. Copying a live
    store directory is not a safe way to move a checkpoint; this is.

    \b
    Example:
      rtcr export ck 7 -o counter-7.rtcr
    """
    output_directory(output, "-o")
    with Store.open(directory) as store:
        cid = resolve_checkpoint(store, directory, checkpoint)
        pages = sum(npages for npages, _stored in store.page_map(cid).values())
        with progress(f"exporting checkpoint {cid} (pages)", pages) as advance:
            info = export_checkpoint(store, cid, output,
                                     on_object=lambda _key, npages: advance(npages))
    click.echo(f"rtcr: wrote checkpoint {cid} to {output} ({info.pages:,} pages, "
               f"{format_bytes(info.file_bytes)})", err=True)
