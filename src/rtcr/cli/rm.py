"""``rtcr rm``: delete checkpoints by id or tag, keeping every other one restorable."""

from __future__ import annotations

from pathlib import Path

import click

from rtcr.store import Store

from ._checkpoint_arg import resolve_checkpoint
from ._ranges import id_ranges
from .gc import print_report


@click.command("rm")
@click.argument("directory", metavar="STORE", type=click.Path(path_type=Path))
@click.argument("checkpoints", metavar="ID|TAG...", nargs=-1, required=True)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
def command(directory: Path, checkpoints: tuple[str, ...], dry_run: bool) -> None:
    """Delete the named checkpoints of STORE.

    A later checkpoint that still needs pages of a deleted one is rewritten
    self-contained first (every other checkpoint stays restorable, and is
    verified); space nobody references any more is freed. The tags of the
    deleted checkpoints go with them.

    \b
    Example:
      rtcr rm ck 4 7 before-upgrade
    """
    with Store.open(directory) as store:
        remove = {resolve_checkpoint(store, directory, ref) for ref in checkpoints}
        report = store.gc(len(store.ids()), remove=remove, dry_run=dry_run)
        kept = [i.id for i in store.checkpoints()]
    print_report(report, kept, dry_run)
    if report.flattened:
        verb = "would rewrite" if dry_run else "rewrote"
        click.echo(f"rtcr: {verb} self-contained: {id_ranges(report.flattened)}", err=True)
