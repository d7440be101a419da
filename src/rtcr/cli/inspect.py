"""``rtcr inspect``: list the checkpoints of a store (table, JSON, or a page heat map)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rtcr.checkpoint.provenance import describe, recorded
from rtcr.errors import RtcrError
from rtcr.store import CheckpointInfo, Store

from ._options import output_directory


def _ratio(info: CheckpointInfo) -> str:
    r = info.compression_ratio
    if r is None:
        return "∞" if info.raw_bytes else "-"
    return f"{r:.1f}×"


def _table(infos: list[CheckpointInfo], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for name in ("id", "parent", "instructions", "pages", "stored bytes", "ratio",
                 "dirty", "pause µs", "commit µs", "strategy"):
        table.add_column(name, justify="left" if name == "strategy" else "right")
    for i in infos:
        table.add_row(
            str(i.id), "-" if i.parent is None else str(i.parent), f"{i.instructions:,}",
            f"{i.pages:,}", f"{i.bytes:,}", _ratio(i), f"{i.dirty_pages:,}",
            f"{i.pause_us:,.0f}", f"{i.commit_us:,.0f}", i.strategy,
        )
    table.caption = ("pages: pages stored by the checkpoint; stored bytes: compressed, "
                     "deduplicated; ratio: raw / stored; pause: the component stopped; "
                     "commit: pause start to durable commit")
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 120)
    console.print(table)


def _provenance_line(store: Store, cid: int) -> str:
    try:
        return f"checkpoint {cid} {describe(recorded(store.load(cid).manifest))}"
    except RtcrError as exc:  # a damaged checkpoint is still listed; verify says more
        return f"checkpoint {cid} provenance: cannot be read ({exc})"


@click.command("inspect")
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE.png",
              help="Also draw a heat map of the pages each checkpoint stored.")
@click.option("--last", type=click.IntRange(min=1), default=None, metavar="N",
              help="Only the newest N checkpoints.")
def command(directory: Path, as_json: bool, plot: Path | None, last: int | None) -> None:
    """List the checkpoints in the store DIR.

    Columns: id, parent, guest instructions, pages stored by the checkpoint,
    stored (compressed, deduplicated) bytes, compression ratio, dirty pages,
    pause time (how long the component was stopped, as `--summary-json`
    reports it) and commit latency (pause start to the durable commit).
    """
    with Store.open(directory) as store:
        infos = store.checkpoints()
        total = len(infos)
        if last is not None:
            infos = infos[-last:]
        if as_json:
            click.echo(json.dumps([i.to_dict() for i in infos], indent=2))
        else:
            shown = "" if len(infos) == total else f", the newest {len(infos)} shown"
            _table(infos, f"{directory}: {total} checkpoint(s){shown}")
            if infos:
                click.echo(_provenance_line(store, infos[-1].id))
        if plot is not None:
            from rtcr.plots.pages import plot_pages

            output_directory(plot, "--plot")
            plot_pages(store, infos, plot)
            click.echo(f"rtcr: wrote {plot}", err=True)
