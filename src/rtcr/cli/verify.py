"""``rtcr verify``: re-check every checksum of a store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rtcr.store import Store

from ._progress import progress


@click.command("verify")
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--checkpoint", "checkpoint_id", type=click.IntRange(min=1), metavar="ID",
              help="Verify only this checkpoint (and the ancestors it needs).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: ok, checked, corrupt (id: why), store_errors.")
def command(directory: Path, checkpoint_id: int | None, as_json: bool) -> None:
    """Verify the checkpoints in the store DIR (all of them by default).

    Prints one line per checkpoint, OK or CORRUPT with the reason; exits
    with status 1 if anything is corrupt.
    """
    with Store.open(directory) as store:
        total = 1 if checkpoint_id is not None else len(store.ids())
        with progress("verifying checkpoints", total) as advance:
            report = store.verify(checkpoint_id, on_checked=lambda cid: advance(
                what=f"verifying checkpoint {cid}"))
    if as_json:
        click.echo(json.dumps({"ok": report.ok, "checked": report.checked,
                               "corrupt": {str(k): v for k, v in sorted(report.corrupt.items())},
                               "store_errors": report.store_errors}, indent=2))
        sys.exit(0 if report.ok else 1)
    for problem in report.store_errors:
        click.echo(f"store: CORRUPT: {problem}")
    for cid in report.checked:
        why = report.corrupt.get(cid)
        click.echo(f"checkpoint {cid}: OK" if why is None else f"checkpoint {cid}: CORRUPT: {why}")
    if not report.ok:
        click.echo(f"rtcr: {directory}: {len(report.corrupt)} corrupt checkpoint(s)"
                   + (", store metadata damaged" if report.store_errors else ""), err=True)
        sys.exit(1)
