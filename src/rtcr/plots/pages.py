"""Heat map of which pages each checkpoint stored (for tuning tracking granularity)."""

from __future__ import annotations

from pathlib import Path

from rtcr.checkpoint.view import object_names
from rtcr.core import PAGE_SIZE
from rtcr.errors import StoreError
from rtcr.store import CheckpointInfo, Store

MAX_ROWS = 1200
MAX_COLS = 1500
#: No object's band is thinner than this share of the picture, so a 4 KiB object beside a
#: 64 MiB one stays visible (bands are labelled with their real size).
MIN_BAND_SHARE = 0.04

STORED_COLOUR = "#1f4e9c"
CLEAN_COLOUR = "#dfe6ee"
NOT_LIVE_COLOUR = "white"


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
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

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

    height = min(12.0, 3.5 + 0.35 * len(bands) + rows / 200)
    width = min(16.0, 6.0 + cols / 8)
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    binned = ybin > 1 or xbin > 1
    if binned:
        import matplotlib

        cmap = matplotlib.colormaps["Blues"].with_extremes(bad=NOT_LIVE_COLOUR)
    else:
        cmap = ListedColormap([CLEAN_COLOUR, STORED_COLOUR]).with_extremes(bad=NOT_LIVE_COLOUR)
    first = infos[0].id if infos else 0
    last = infos[-1].id if infos else 1
    im = ax.imshow(data, aspect="auto", interpolation="nearest", cmap=cmap, vmin=0.0,
                   vmax=1.0, origin="lower", extent=(first - 0.5, last + 0.5, 0, rows * ybin))
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
    ax.set_title(f"{store.path.name}: pages stored per checkpoint"
                 + (f" (bins of {ybin} pages)" if ybin > 1 else ""))
    not_live = Patch(facecolor=NOT_LIVE_COLOUR, edgecolor="#888888", label="not live")
    if binned:
        fig.colorbar(im, ax=ax).set_label("fraction of the bin's pages stored")
        ax.legend(handles=[not_live], loc="upper left", bbox_to_anchor=(1.18, 1.0),
                  fontsize=8, frameon=False)
    else:
        ax.legend(handles=[Patch(facecolor=STORED_COLOUR, label="stored (written)"),
                           Patch(facecolor=CLEAN_COLOUR, label="clean (not stored)"),
                           not_live],
                  loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out)
    except OSError as exc:
        raise StoreError(f"cannot write the plot {out}: {exc.strerror or exc}") from exc
