"""``rtcr inspect``: list the checkpoints of a store (table, JSON, branch tree, page heat map)."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import click

from rtcr.checkpoint.provenance import describe, recorded
from rtcr.checkpoint.view import component_tree
from rtcr.errors import RtcrError
from rtcr.store import CheckpointInfo, Store
from rtcr.store.branches import Branch, branches, children, current, line

from ._options import output_directory
from ._ranges import id_ranges

CAPTION = ("pages: pages stored by the checkpoint; stored bytes: compressed, deduplicated; "
           "ratio: raw / stored; pause: the component stopped; commit: pause start to "
           "durable commit")

#: The most rows drawn as a rich table (its layout costs about 1 ms a row).
RICH_ROWS = 200


def _ratio(info: CheckpointInfo) -> str:
    r = info.compression_ratio
    if r is None:
        return "∞" if info.raw_bytes else "-"
    return f"{r:.1f}×"


def _table(infos: list[CheckpointInfo], title: str, branch_of: dict[int, int] | None,
           tags_of: dict[int, list[str]]) -> None:
    """The listing; ``branch_of`` None leaves the branch column out (a store of one branch).

    Printed through rich only on a terminal and up to `RICH_ROWS` rows:
    otherwise it is the same table as plain aligned text (rich lays out
    20,000 rows in 20 s, plain text in a tenth of a second).
    """
    names = ["id", "parent", "instructions", "pages", "stored bytes", "ratio", "dirty",
             "pause µs", "commit µs", "strategy"]
    if branch_of is not None:
        names.insert(2, "branch")
    if tags_of:
        names.append("tags")
    rows = []
    for i in infos:
        row = [str(i.id), "-" if i.parent is None else str(i.parent), f"{i.instructions:,}",
               f"{i.pages:,}", f"{i.bytes:,}", _ratio(i), f"{i.dirty_pages:,}",
               f"{i.pause_us:,.0f}", f"{i.commit_us:,.0f}", i.strategy]
        if branch_of is not None:
            row.insert(2, str(branch_of[i.id]))
        if tags_of:
            row.append(", ".join(tags_of.get(i.id, ())))
        rows.append(row)
    left = {"strategy", "tags"}
    from rich.console import Console

    console = Console()
    if console.is_terminal and len(rows) <= RICH_ROWS:
        from rich.table import Table

        table = Table(title=title, caption=CAPTION)
        for name in names:
            table.add_column(name, justify="left" if name in left else "right")
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    widths = [max(map(len, column)) for column in zip(names, *rows, strict=True)]
    line = "  ".join(f"{{:{'<' if n in left else '>'}{w}}}"
                     for n, w in zip(names, widths, strict=True))
    click.echo("\n".join([title, *(line.format(*r).rstrip() for r in [names, *rows]),
                          CAPTION]))


def _branch_label(b: Branch, infos: dict[int, CheckpointInfo], newest: Branch | None) -> str:
    n = len(b.ids)
    tip = infos[b.tip]
    text = (f"branch {b.number}: {id_ranges(b.ids)} ({n:,} checkpoint{'s' if n != 1 else ''}"
            f", newest at {tip.instructions:,} instructions)")
    if b.fork is not None:
        text += f", forks from {b.fork}"
    return text + ("  ← current" if b is newest else "")


def tree_lines(tree: list[Branch], infos: dict[int, CheckpointInfo]) -> list[str]:
    """The branches as an indented tree, each one line, children under the branch they fork from."""
    kids = children(tree)
    newest = current(tree)
    out: list[str] = []
    stack: list[tuple[Branch, str, str]] = [(b, "", "") for b in reversed(kids.get(None, []))]
    while stack:  # not recursive: a store may fork thousands of times in a row
        branch, head, body = stack.pop()
        out.append(head + _branch_label(branch, infos, newest))
        under = kids.get(branch.number, [])
        for k, child in reversed(list(enumerate(under))):
            last = k == len(under) - 1
            stack.append((child, body + ("└─ " if last else "├─ "),
                          body + ("   " if last else "│  ")))
    return out


def _tree_json(tree: list[Branch]) -> list[dict[str, Any]]:
    newest = current(tree)
    out = []
    for b in tree:
        runs: list[list[int]] = []
        for cid in b.ids:
            if runs and cid == runs[-1][1] + 1:
                runs[-1][1] = cid
            else:
                runs.append([cid, cid])
        out.append({"branch": b.number, "fork": b.fork, "tip": b.tip, "checkpoints": len(b.ids),
                    "ranges": runs, "current": b is newest})
    return out


def _tags_by_id(store: Store) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for name, cid in store.tags().items():
        out.setdefault(cid, []).append(name)
    return out


def _newest_lines(store: Store, cid: int) -> None:
    """Under the table: the provenance of its newest checkpoint and the components it holds.

    Only that checkpoint's manifest is read (not its chain), so a store of
    20,000 stays quick; a damaged one is still listed, and verify says more.
    """
    try:
        manifest = store.manifest(cid)
        line = f"checkpoint {cid} {describe(recorded(manifest))}"
    except RtcrError as exc:
        click.echo(f"checkpoint {cid} provenance: cannot be read ({exc})")
        return
    click.echo(line)
    _components(cid, manifest)


def _components(checkpoint: int, manifest: dict[str, Any]) -> None:
    """The components the newest checkpoint holds, when it holds more than one."""
    tree = component_tree(manifest) if isinstance(manifest.get("component"), dict) else []
    if len(tree) < 2:
        return
    click.echo(f"components in checkpoint {checkpoint}:")
    for node in tree:
        started = ("the target" if node is tree[0]
                   else "started by the runtime" if node["creator"] is None
                   else f"started by {node['creator']}")
        ended = "" if node["exit_code"] is None else f", exited with {node['exit_code']}"
        click.echo(f"{'  ' * (node['depth'] + 1)}{node['name']} ({started}{ended})")


@click.command("inspect")
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON instead of a table (with --tree: the branches).")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE.png",
              help="Also draw a heat map of the pages each checkpoint stored.")
@click.option("--tree", "as_tree", is_flag=True,
              help="Show the branches restores made, one line each, as a tree.")
@click.option("--branch", type=click.IntRange(min=1), default=None, metavar="N",
              help="Only branch N's line: its checkpoints and those it forks from.")
@click.option("--tag", "tag_pattern", default=None, metavar="PATTERN",
              help="Only checkpoints with a tag matching PATTERN (shell wildcards: '*' "
                   "is every tagged one).")
@click.option("--last", type=click.IntRange(min=1), default=None, metavar="N",
              help="Only the newest N checkpoints (of those the other filters leave).")
def command(directory: Path, as_json: bool, plot: Path | None, as_tree: bool,
            branch: int | None, tag_pattern: str | None, last: int | None) -> None:
    """List the checkpoints in the store DIR.

    Columns: id, parent, branch (when a restore forked the store), guest
    instructions, pages stored by the checkpoint, stored (compressed,
    deduplicated) bytes, compression ratio, dirty pages, pause time (how
    long the component was stopped, as --summary-json reports it), commit
    latency (pause start to the durable commit) and tags.

    A restore that writes checkpoints continues from the checkpoint it
    restored: restoring an older one forks a branch. --tree shows the
    branches; the current branch is the one of the checkpoint written last,
    whose newest checkpoint is what restore and show default to.

    \b
    Example:
      rtcr inspect ck --last 10
      rtcr inspect ck --tree
      rtcr inspect ck --branch 2 --tag 'release*' --json
    """
    if as_tree and (branch is not None or tag_pattern is not None or last is not None
                    or plot is not None):
        raise click.UsageError("--tree shows every branch: it takes no --branch, --tag, "
                               "--last or --plot")
    with Store.open(directory) as store:
        infos = store.checkpoints()
        tree = branches((i.id, i.parent) for i in infos)
        if as_tree:
            by_id = {i.id: i for i in infos}
            if as_json:
                click.echo(json.dumps(_tree_json(tree), indent=2))
            else:
                click.echo("\n".join([f"{directory}: {len(infos):,} checkpoint(s) in "
                                      f"{len(tree)} branch(es)", *tree_lines(tree, by_id)]))
            return
        total = len(infos)
        tags_of = _tags_by_id(store)
        chosen = _filter(infos, tree, branch, tag_pattern, tags_of, last)
        branch_of = {cid: b.number for b in tree for cid in b.ids}
        if as_json:
            # One checkpoint a line: readable, and the C encoder keeps 20,000 of them fast.
            click.echo("[" + ",".join(
                "\n  " + json.dumps({**i.to_dict(), "branch": branch_of[i.id],
                                     "tags": tags_of.get(i.id, [])}) for i in chosen)
                       + ("\n]" if chosen else "]"))
        else:
            shown = "" if len(chosen) == total else _shown(len(chosen), branch, tag_pattern,
                                                              last)
            _table(chosen, f"{directory}: {total:,} checkpoint(s){shown}",
                   branch_of if len(tree) > 1 else None, tags_of)
            if chosen:
                _newest_lines(store, chosen[-1].id)
        if plot is not None:
            from rtcr.plots.pages import plot_pages

            output_directory(plot, "--plot")
            plot_pages(store, chosen, plot)
            click.echo(f"rtcr: wrote {plot}", err=True)


def _shown(count: int, branch: int | None, tag_pattern: str | None, last: int | None) -> str:
    """The title's note on what the filters left: ``, the newest 10 of branch 2 shown``."""
    what = [f"the newest {count:,}" if last is not None and count == last else f"{count:,}"]
    if branch is not None:
        what.append(f"of branch {branch}'s line")
    if tag_pattern is not None:
        what.append(f"tagged {tag_pattern}")
    return f", {' '.join(what)} shown"


def _filter(infos: list[CheckpointInfo], tree: list[Branch], branch: int | None,
            tag_pattern: str | None, tags_of: dict[int, list[str]],
            last: int | None) -> list[CheckpointInfo]:
    chosen = infos
    if branch is not None:
        if branch > len(tree):
            raise click.BadParameter(f"there is no branch {branch}: the store has "
                                     f"{len(tree)} (see rtcr inspect --tree)",
                                     param_hint="--branch")
        wanted = set(line(tree, branch))
        chosen = [i for i in chosen if i.id in wanted]
    if tag_pattern is not None:
        chosen = [i for i in chosen
                  if any(fnmatchcase(t, tag_pattern) for t in tags_of.get(i.id, ()))]
    if last is not None:
        chosen = chosen[-last:]
    return chosen
