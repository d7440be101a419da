"""``rtcr gc``: drop old checkpoints from a store and free their space."""

from __future__ import annotations

from pathlib import Path

import click

from rtcr.store import Store


@click.command("gc")
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--keep", required=True, type=click.IntRange(min=0), metavar="N",
              help="How many of the newest checkpoints to keep.")
def command(directory: Path, keep: int) -> None:
    """Keep the newest N checkpoints of the store DIR and delete the rest.

    The oldest kept checkpoint becomes self-contained, so every kept
    checkpoint still restores. Space of pages nobody references is freed.
    """
    with Store.open(directory) as store:
        report = store.gc(keep)
        kept = [i.id for i in store.checkpoints()]
    removed = ", ".join(map(str, report.removed)) or "none"
    click.echo(f"removed checkpoints: {removed}; kept: {len(kept)}; "
               f"freed {report.bytes_freed:,} bytes ({report.blobs_freed:,} page blobs)")
