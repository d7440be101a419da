"""``rtcr gc``: drop old checkpoints from a store and free their space."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from rtcr.store import GcReport, Store

from ._progress import progress
from ._ranges import id_ranges


@click.command("gc")
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--keep", required=True, type=click.IntRange(min=0), metavar="N",
              help="How many of the newest checkpoints to keep.")
@click.option("--force", is_flag=True,
              help="If some of the newest N are corrupt, keep the newest N good ones and "
                   "drop the corrupt ones (without it, gc refuses).")
@click.option("--dry-run", is_flag=True, help="Say what would be removed and freed; change "
                                              "nothing.")
@click.option("--keep-tagged", is_flag=True,
              help="Also keep every tagged checkpoint (rtcr tag), however old.")
def command(directory: Path, keep: int, force: bool, dry_run: bool, keep_tagged: bool) -> None:
    """Keep the newest N checkpoints of the store DIR and delete the rest.

    Everything kept is verified first. The oldest kept checkpoint becomes
    self-contained, so every kept checkpoint still restores. Space of pages
    nobody references is freed, and the metadata database shrinks. Tags of
    deleted checkpoints go with them.

    \b
    Example:
      rtcr gc ck --keep 3 --keep-tagged --dry-run
    """
    with Store.open(directory) as store:
        also = store.tags().values() if keep_tagged else ()
        before = store.ids()
        try:
            with progress(f"{'checking' if dry_run else 'collecting'} (verifying what is "
                          "kept)"):
                report = store.gc(keep, keep_also=set(also), force=force, dry_run=dry_run)
        except KeyboardInterrupt:
            _interrupted(before, store.ids())
        kept = [i.id for i in store.checkpoints()]
    print_report(report, kept, dry_run)


def _interrupted(before: list[int], after: list[int]) -> NoReturn:
    """Ctrl-C during gc: say whether its transaction had committed, exit 130."""
    if after == before:
        click.echo("rtcr: interrupted: gc changed nothing", err=True)
    else:
        removed = sorted(set(before) - set(after))
        click.echo(f"rtcr: interrupted after gc committed: removed checkpoints "
                   f"{id_ranges(removed)}, kept {id_ranges(after)}; the next gc or "
                   "checkpoint frees what is left of their space", err=True)
    sys.exit(130)


def print_report(report: GcReport, kept: list[int], dry_run: bool) -> None:
    """The one line of `rtcr gc` and `rtcr rm`, and the disk-full note."""
    removed = id_ranges(report.removed)
    verb = "would remove" if dry_run else "removed"
    still = len(kept) - len(report.removed) - len(report.corrupt_dropped) if dry_run \
        else len(kept)
    line = (f"{verb} checkpoints: {removed}; kept: {still}; "
            f"{'would free' if dry_run else 'freed'} {report.bytes_freed:,} bytes "
            f"({report.blobs_freed:,} page blobs)")
    if report.corrupt_dropped:
        line += f"; dropped corrupt: {id_ranges(report.corrupt_dropped)}"
    if report.db_bytes_freed:
        line += f"; database shrank by {report.db_bytes_freed:,} bytes"
    click.echo(line)
    if report.needed:
        click.echo(f"rtcr: gc: disk full: compacting the packs needs {report.needed:,} more "
                   "bytes free; freed what it could", err=True)
