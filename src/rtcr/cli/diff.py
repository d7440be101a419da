"""``rtcr diff``: what changed between two checkpoints of a store."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rtcr.checkpoint.view import View, compare, describe, pages_changed
from rtcr.store import Store

from ._checkpoint_arg import resolve_checkpoint


def render(diff: View) -> str:
    out = [f"checkpoint {diff['from']} -> {diff['to']}: {diff['instructions']:+,} instructions, "
           f"{diff['virtual_time_ns'] / 1e9:+.6f} s virtual time, "
           f"{diff['log_lines']:+,} LOG lines"]
    changed = diff["pages_changed"]
    out.append("pages changed: " + (", ".join(f"{k} {n:,}" for k, n in changed.items())
                                    if changed else "none"))
    for what in ("objects_added", "objects_gone"):
        if diff[what]:
            out.append(f"{what.replace('_', ' ')}: {', '.join(map(str, diff[what]))}")
    for what, sign in (("regions_added", "+"), ("regions_gone", "-")):
        for r in diff[what]:
            out.append(f"{sign} region [{r['start']:#x}, {r['end']:#x}) {r['what']}")
    for t in diff["threads"]:
        if t["change"] != "changed":
            out.append(f"thread {t['tid']} {t['name']}: {t['change']}")
            continue
        state = t["state"]
        head = f"thread {t['tid']} {t['name']}:"
        if state[0] != state[1]:
            head += f" {state[0]} -> {state[1]}"
        out.append(head)
        for name, (old, new) in sorted(t["registers"].items()):
            old_text = "-" if old is None else f"{old:#x}"
            out.append(f"    {name}: {old_text} -> {new:#x}")
    if diff["log"]:
        shown = len(diff["log"])
        more = diff["log_lines"] - shown
        out.append(f"LOG between them{f' (the last {shown}, {more} more before)' if more else ''}:")
        out += [f"  {line}" for line in diff["log"]]
    return "\n".join(out)


@click.command("diff")
@click.argument("directory", metavar="STORE", type=click.Path(path_type=Path))
@click.argument("first", metavar="A")
@click.argument("second", metavar="B", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the difference as JSON.")
def command(directory: Path, first: str, second: str | None, as_json: bool) -> None:
    """What changed from checkpoint A to checkpoint B of STORE (ids or tags; default B: the newest).

    Pages changed per memory object (by content: a page written back to
    what it was does not count), objects and regions added or gone,
    threads added or gone, their state and every register that changed,
    and how many instructions, how much virtual time and how many LOG
    lines lie between them.

    \b
    Example:
      rtcr diff ck 3 7
      rtcr diff ck 3 --json
    """
    with Store.open(directory) as store:
        a = resolve_checkpoint(store, directory, first)
        b = resolve_checkpoint(store, directory, second)
        cp_a, cp_b = store.load(a), store.load(b)
        diff = compare(describe(cp_a.manifest, store.info(a)),
                       describe(cp_b.manifest, store.info(b)), pages_changed(cp_a, cp_b))
    if as_json:
        click.echo(json.dumps(diff, indent=2))
    else:
        click.echo(render(diff))
