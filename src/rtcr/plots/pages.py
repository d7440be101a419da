"""Heat map of which pages each checkpoint stored (for tuning tracking granularity)."""

from __future__ import annotations

from pathlib import Path

from rtcr.errors import StoreError
from rtcr.store import CheckpointInfo, Store

MAX_ROWS = 1200
MAX_COLS = 1500


def plot_pages(store: Store, infos: list[CheckpointInfo], out: Path) -> None:
    """Write a PNG: x = checkpoint id, y = page (objects stacked), colour = stored or not.

    Objects are stacked in order of first appearance, each as tall as its
    largest size; a cell is blank where the object does not exist in that
    checkpoint. Large stores are binned: a cell's colour is then the fraction
    of its pages that were stored.
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    maps = [store.page_map(i.id) for i in infos]
    heights: dict[str, int] = {}
    for m in maps:
        for key, (npages, _idx) in m.items():
            heights[key] = max(heights.get(key, 0), npages, 1)
    base: dict[str, int] = {}
    total = 0
    for key, h in heights.items():
        base[key] = total
        total += h
    total = max(total, 1)
    ncols = max(len(infos), 1)
    ybin = max(1, -(-total // MAX_ROWS))
    xbin = max(1, -(-ncols // MAX_COLS))
    rows = -(-total // ybin)
    cols = -(-ncols // xbin)
    stored = np.zeros((rows, cols))
    present = np.zeros((rows, cols))
    for col, m in enumerate(maps):
        x = col // xbin
        for key, (npages, idx) in m.items():
            start = base[key]
            ys = (start + np.arange(npages)) // ybin
            np.add.at(present[:, x], ys, 1)
            if idx:
                np.add.at(stored[:, x], (start + np.asarray(idx)) // ybin, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(present > 0, stored / np.maximum(present, 1), np.nan)
    data = np.ma.masked_invalid(frac)

    height = min(12.0, 3.0 + rows / 60)
    width = min(16.0, 4.0 + cols / 8)
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    binned = ybin > 1 or xbin > 1
    if binned:
        import matplotlib

        cmap = matplotlib.colormaps["Blues"].with_extremes(bad="white")
    else:
        cmap = ListedColormap(["#dfe6ee", "#1f4e9c"]).with_extremes(bad="white")
    first = infos[0].id if infos else 0
    last = infos[-1].id if infos else 1
    im = ax.imshow(
        data, aspect="auto", interpolation="nearest", cmap=cmap, vmin=0.0, vmax=1.0,
        origin="lower", extent=(first - 0.5, last + 0.5, 0, rows * ybin),
    )
    for start in base.values():
        if start:
            ax.axhline(start, color="#c04040", linewidth=0.6)
    if len(base) <= 40:
        ax.set_yticks([base[k] + heights[k] / 2 for k in base], list(base), fontsize=7)
    ax.set_xlabel("checkpoint id")
    ax.set_ylabel("page (memory objects stacked)")
    ax.set_title(f"{store.path.name}: pages stored per checkpoint"
                 + (f" (bins of {ybin} pages)" if ybin > 1 else ""))
    cbar = fig.colorbar(im, ax=ax)
    cbar.set_label("fraction of pages stored" if binned else "stored (1) / not stored (0)")
    fig.tight_layout()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out)
    except OSError as exc:
        raise StoreError(f"cannot write the plot {out}: {exc.strerror or exc}") from exc
