"""Heat map of which pages each checkpoint stored (for tuning tracking granularity)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rtcr.checkpoint.view import object_names
from rtcr.core import PAGE_SIZE
from rtcr.errors import StoreError
from rtcr.store import CheckpointInfo, Store
from rtcr.store.branches import Branch, branches

MAX_ROWS = 1200
MAX_COLS = 1500
#: No object's band is thinner than this share of the picture, so a 4 KiB object beside a
#: 64 MiB one stays visible (bands are labelled with their real size).
MIN_BAND_SHARE = 0.04

STORED_COLOUR = "#1f4e9c"
CLEAN_COLOUR = "#dfe6ee"
#: (legend label, colour, the dirty share it stays below) of each class of cell.
CLASSES = (("clean", CLEAN_COLOUR, 0.5), ("dirty (stored)", STORED_COLOUR, 1.5))
BINNED_CLASSES = (("clean", CLEAN_COLOUR, 1e-9), ("under half dirty", "#9ab8de", 0.5),
                  ("half or more dirty", "#4f7fc0", 1.0 - 1e-9),
                  ("all dirty", STORED_COLOUR, 1.5))
NOT_LIVE_COLOUR = "white"
BRANCH_COLOUR = "#2a7f3f"
#: Branches beyond this many share the last lane (a picture of 1,000 lanes shows nothing).
MAX_LANES = 12
#: Checkpoints are drawn as dots up to this many (beyond, the lines alone stay readable).
MAX_DOTS = 300


def _bands(heights: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Key -> (first row, rows) of its band: its page count, but never below the minimum."""
    total = sum(heights.values())
    floor = max(1, int(total * MIN_BAND_SHARE))
    bands: dict[str, tuple[int, int]] = {}
    row = 0
    for key, pages in heights.items():
        rows = max(pages, floor)
        bands[key] = (row, rows)
        row += rows
    return bands


def _draw_branches(ax: Any, tree: list[Branch], infos: list[CheckpointInfo]) -> None:
    """The branches as lanes over the heat map: each checkpoint joined to its parent."""
    from matplotlib.collections import LineCollection

    column = {info.id: col for col, info in enumerate(infos)}
    parents = {info.id: info.parent for info in infos}
    lane = {cid: min(b.number, MAX_LANES) - 1 for b in tree for cid in b.ids}
    # Within a lane a checkpoint joins its parent; a fork drops from its parent to the
    # new lane and runs (dotted) along it to the branch's first checkpoint.
    along, drops, runs = [], [], []
    for cid, parent in parents.items():
        if parent not in column:
            continue
        start, end = (column[parent], lane[parent]), (column[cid], lane[cid])
        if start[1] == end[1]:
            along.append([start, end])
        else:
            drops.append([start, (start[0], end[1])])
            runs.append([(start[0], end[1]), end])
    ax.add_collection(LineCollection(along + drops, colors=BRANCH_COLOUR, linewidths=1.2))
    ax.add_collection(LineCollection(runs, colors=BRANCH_COLOUR, linewidths=1.0,
                                     linestyles="dotted"))
    if len(infos) <= MAX_DOTS:
        ax.scatter([column[c] for c in lane], list(lane.values()), s=12, color=BRANCH_COLOUR,
                   zorder=3)
    for b in tree:
        if b.fork is not None and b.fork in column and b.number <= MAX_LANES:
            ax.annotate(f"from {b.fork}", (column[b.ids[0]], b.number - 1), fontsize=7,
                        xytext=(4, 3), textcoords="offset points", color="#444444")
    count = min(len(tree), MAX_LANES)
    ax.set_ylim(count - 0.5, -0.5)
    ax.set_yticks(range(count), [f"branch {n + 1}" if n + 1 < MAX_LANES or len(tree) == count
                                 else f"branches {MAX_LANES}–{len(tree)}"
                                 for n in range(count)], fontsize=7)
    ax.tick_params(axis="x", labelbottom=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def plot_pages(store: Store, infos: list[CheckpointInfo], out: Path) -> None:
    """Write a PNG: x = checkpoint id, y = memory objects, colour = page stored, clean, not live.

    Each object is a band named for what it is (``.text of c``, ``stack of
    main``, ``RAM 5 (32 KiB)``) as the newest checkpoint shows it, as tall
    as its largest page count but never thinner than `MIN_BAND_SHARE` of
    the picture; a page of an object that does not exist in a checkpoint is
    *not live*. Large stores are binned, and a cell's shade is then the
    fraction of its pages that were stored.
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    maps = [store.page_map(i.id) for i in infos]
    heights: dict[str, int] = {}
    for m in maps:
        for key, (npages, _idx) in m.items():
            heights[key] = max(heights.get(key, 0), npages, 1)
    names: dict[str, str] = {}
    for info in (infos[0], infos[-1]) if infos else ():
        names.update(object_names(store.load(info.id).manifest))
    bands = _bands(heights)
    total = max(sum(rows for _start, rows in bands.values()), 1)
    ncols = max(len(infos), 1)
    ybin = max(1, -(-total // MAX_ROWS))
    xbin = max(1, -(-ncols // MAX_COLS))
    rows, cols = -(-total // ybin), -(-ncols // xbin)
    stored = np.zeros((rows, cols))
    present = np.zeros((rows, cols))
    for col, m in enumerate(maps):
        x = col // xbin
        for key, (npages, idx) in m.items():
            start, band = bands[key]
            # Page i of the object covers rows [start + i*band/npages, start + (i+1)*band/npages).
            edges = start + (np.arange(npages + 1) * band) // max(npages, 1)
            scale = np.repeat(np.arange(npages), np.diff(edges))
            ys = (start + np.arange(len(scale))) // ybin
            np.add.at(present[:, x], ys, 1)
            if idx:
                hit = np.isin(scale, np.asarray(idx))
                np.add.at(stored[:, x], ys[hit], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(present > 0, stored / np.maximum(present, 1), np.nan)
    data = np.ma.masked_invalid(frac)

    tree = branches((i.id, i.parent) for i in infos)
    lanes = min(len(tree), MAX_LANES) if len(tree) > 1 else 0
    height = min(12.0, 3.5 + 0.35 * len(bands) + rows / 200) + 0.3 * lanes
    width = min(16.0, 6.0 + cols / 8)
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    if lanes:
        top, ax = fig.subplots(2, 1, sharex=True, gridspec_kw={
            "height_ratios": [0.3 * lanes + 0.4, height - 0.3 * lanes - 0.4]})
        _draw_branches(top, tree, infos)
    else:
        ax = fig.add_subplot(1, 1, 1)
    binned = ybin > 1 or xbin > 1
    # Discrete classes, so the legend names each colour: a binned cell is classed by the
    # share of its pages that were dirty.
    classes = BINNED_CLASSES if binned else CLASSES
    cmap = ListedColormap([colour for _label, colour, _upto in classes]).with_extremes(
        bad=NOT_LIVE_COLOUR)
    norm = BoundaryNorm([-1.0, *(upto for _label, _colour, upto in classes)], len(classes))
    # x is the checkpoint's place in the listing (ids may have gaps); ticks name the ids.
    ax.imshow(data, aspect="auto", interpolation="nearest", cmap=cmap, norm=norm,
              origin="lower", extent=(-0.5, cols * xbin - 0.5, 0, rows * ybin))
    ax.set_xlim(-0.5, ncols - 0.5)
    ids = [i.id for i in infos]
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=12))
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda x, _pos: str(ids[int(x)]) if 0 <= x < len(ids) and x == int(x) else ""))
    for start, _rows in bands.values():
        if start:
            ax.axhline(start, color="#c04040", linewidth=0.6)
    if len(bands) <= 40:
        from rtcr.core.quota import format_bytes

        def label(key: str) -> str:
            name = names.get(key, key)
            return name if name.startswith("RAM ") else (
                f"{name} ({format_bytes(heights[key] * PAGE_SIZE)})")

        ax.set_yticks([start + band / 2 for start, band in bands.values()],
                      [label(k) for k in bands], fontsize=7)
    ax.set_xlabel("checkpoint id")
    (top if lanes else ax).set_title(
        f"{store.path.name}: pages stored per checkpoint"
        + (f" (bins of {ybin} pages)" if ybin > 1 else ""))
    ax.legend(handles=[*(Patch(facecolor=colour, label=label) for label, colour, _upto in classes),
                       Patch(facecolor=NOT_LIVE_COLOUR, edgecolor="#888888",
                             label="not live (no such object)")],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out)
    except OSError as exc:
        raise StoreError(f"cannot write the plot {out}: {exc.strerror or exc}") from exc
