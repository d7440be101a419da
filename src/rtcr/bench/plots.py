"""The PNG plots of a benchmark run, drawn from results.json alone (matplotlib)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PLOTS = {
    "faults": "faults_per_interval.png",
    "pause": "pause_vs_dirty_pages.png",
    "bytes": "bytes_per_checkpoint.png",
    "slowdown": "slowdown.png",
}


def _figure(width: float = 9, height: float = 4.5) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _grouped_bars(ax: Any, workloads: list[str], series: dict[str, list[float | None]],
                  log: bool) -> None:
    """One group of bars per workload; a value of 0 (no bar on a log scale) is written "0"."""
    n = max(1, len(series))
    width = 0.8 / n
    for i, (label, values) in enumerate(series.items()):
        xs = [j + (i - (n - 1) / 2) * width for j in range(len(workloads))]
        ys = [v if v is not None and v > 0 else 0 for v in values]
        bars = ax.bar(xs, ys, width, label=label)
        for x, v in zip(xs, values, strict=True):
            if v is not None and v <= 0:
                ax.annotate("0", (x, 0), xycoords=("data", "axes fraction"), xytext=(0, 2),
                            textcoords="offset points", ha="center", fontsize=7,
                            color=bars.patches[0].get_facecolor())
    ax.set_xticks(range(len(workloads)))
    ax.set_xticklabels(workloads, rotation=20, ha="right", fontsize=8)
    if log:
        ax.set_yscale("log")
    _legend(ax)
    ax.grid(axis="y", alpha=0.3)


def _legend(ax: Any) -> None:
    """The legend right of the plot, where it covers no bar and no point."""
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def _default_configs(s: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(workload, mode) -> its config at granularity 1 and the smallest interval."""
    chosen: dict[tuple[str, str], dict[str, Any]] = {}
    for e in s["configs"].values():
        if e["granularity"] != 1:
            continue
        key = (e["workload"], e["mode"])
        if key not in chosen or e["interval"] < chosen[key]["interval"]:
            chosen[key] = e
    return chosen


def write_plots(results: dict[str, Any], out: Path) -> list[Path]:
    s = results["summary"]
    workloads = list(results["workloads"])
    modes = list(results["settings"]["strategies"])
    chosen = _default_configs(s)
    written = []

    def series(metric: str, scale: float = 1.0) -> dict[str, list[float | None]]:
        data: dict[str, list[float | None]] = {}
        for mode in modes:
            vals: list[float | None] = []
            for w in workloads:
                e = chosen.get((w, mode))
                v = e["metrics"][metric]["median"] if e and e["metrics"] else None
                vals.append(None if v is None else v * scale)
            data[mode] = vals
        return data

    fig, ax = _figure()
    _grouped_bars(ax, workloads, series("faults_per_interval"), log=True)
    ax.set_ylabel("faults per checkpoint interval")
    ax.set_title("Tracking faults per interval (granularity 1, default interval)")
    written.append(_save(fig, out / PLOTS["faults"]))

    fig, ax = _figure()
    markers = "os^Dvx*+"
    for i, mode in enumerate(modes):
        xs: list[float] = []
        ys: list[float] = []
        for e in s["configs"].values():
            if e["mode"] == mode:
                for pause, dirty in e.get("pauses", []):
                    xs.append(dirty)
                    ys.append(pause / 1e3)
        if xs:
            ax.scatter(xs, ys, s=8, alpha=0.5, marker=markers[i % len(markers)], label=mode)
    ax.set_xlabel("dirty pages in the checkpoint")
    ax.set_ylabel("pause (ms)")
    ax.set_xscale("symlog", linthresh=10)
    ax.set_yscale("log")
    ax.set_title("Checkpoint pause vs dirty pages (every configuration)")
    _legend(ax)
    ax.grid(alpha=0.3)
    written.append(_save(fig, out / PLOTS["pause"]))

    fig, ax = _figure()
    _grouped_bars(ax, workloads, series("raw_bytes_per_cp", 1 / 1024), log=True)
    ax.set_ylabel("KiB of pages copied per checkpoint")
    ax.set_title("Bytes per checkpoint (granularity 1, default interval)")
    written.append(_save(fig, out / PLOTS["bytes"]))

    fig, ax = _figure()
    _grouped_bars(ax, workloads, series("slowdown"), log=True)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_ylabel("run time / run time without checkpointing")
    ax.set_title("Slowdown vs no checkpointing (granularity 1, default interval)")
    written.append(_save(fig, out / PLOTS["slowdown"]))
    return written


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path)
    return path


