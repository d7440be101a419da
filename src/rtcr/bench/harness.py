"""The benchmark matrix: plan it, run it, keep every raw figure, derive the summary.

Everything the report shows is computed here (``summary``) from the raw
records of the same run and written to ``results.json`` next to them.
"""

from __future__ import annotations

import cProfile
import json
import os
import platform
import pstats
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import unicorn

from rtcr.checkpoint import Session
from rtcr.machine.component import Component
from rtcr.store import Store

from . import micro
from .modes import ACCESS_TRACKED, BASELINE, COPY_ALL, MODES, TRACKED
from .stats import mean, median, percentile, ratio, spread
from .workloads import TOUCH, WORKLOADS, Workload

Progress = Callable[[str], None]

#: Published figures printed beside ours (facts, not re-measured).
ANCHORS: list[dict[str, Any]] = [
    {"what": "native mprotect + SIGSEGV write tracking, per fault", "value": "4-6", "unit": "µs"},
    {"what": "synchronous userfaultfd write-protect round trip", "value": "~45", "unit": "µs"},
    {"what": "kernel asynchronous write-protect mode, per first write", "value": "~0.8",
     "unit": "µs"},
    {"what": "Firecracker userfaultfd diff snapshot pause, 128 MB guest", "value": "7-8",
     "unit": "ms"},
]


@dataclass
class BenchOptions:
    out: Path
    quick: bool = False
    workloads: list[str] | None = None
    strategies: list[str] | None = None
    granularities: list[int] | None = None
    #: Checkpoint intervals as multiples of each workload's default interval.
    interval_scales: list[int] | None = None
    repeat: int | None = None
    micro: bool = True
    memory: bool = True
    #: RAM quota of the resident-memory probe (default: 1 GiB, quick: 64 MiB).
    memory_quota: int | None = None
    profile: bool = True
    plots: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def resolved(self) -> dict[str, Any]:
        quick = self.quick
        workloads = self.workloads or list(WORKLOADS)
        strategies = self.strategies or [m for m in MODES]
        for name in workloads:
            if name not in WORKLOADS:
                raise ValueError(f"unknown workload {name!r} (known: {', '.join(WORKLOADS)})")
        for name in strategies:
            if name not in MODES:
                raise ValueError(f"unknown strategy {name!r} (known: {', '.join(MODES)})")
        return {
            "quick": quick,
            "workloads": workloads,
            "strategies": strategies,
            "granularities": self.granularities or ([1] if quick else [1, 4]),
            "interval_scales": self.interval_scales or ([1] if quick else [1, 4]),
            "repeat": self.repeat or (1 if quick else 3),
            "micro": self.micro,
            "memory": self.memory,
            "memory_quota": self.memory_quota or ((64 << 20) if quick else (1 << 30)),
            "profile": self.profile,
        }


@dataclass(frozen=True)
class Config:
    workload: str
    mode: str
    granularity: int
    interval: int
    scale: int

    @property
    def key(self) -> str:
        return f"{self.workload}/{self.mode}/g{self.granularity}/i{self.interval}"


def plan(settings: dict[str, Any]) -> list[Config]:
    configs = []
    for name in settings["workloads"]:
        workload = WORKLOADS[name]
        base = workload.quick_interval if settings["quick"] else workload.interval
        for mode_name in settings["strategies"]:
            mode = MODES[mode_name]
            grans = settings["granularities"] if mode.granular else [1]
            for granularity in grans:
                for scale in settings["interval_scales"]:
                    configs.append(Config(name, mode_name, granularity, base * scale, scale))
    return configs


def _null_sink(component: Component, line: str) -> None:
    pass


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, component: Component, line: str) -> None:
        self.lines.append(line)


# -- single runs ---------------------------------------------------------------------------
def run_baseline(elf: Path, workload: Workload) -> dict[str, Any]:
    sink = _Lines()
    session = BASELINE.start(elf, ram_quota=workload.ram_quota, granularity=1, store=None,
                             log_sink=sink)
    result = session.run()
    return {"outcome": result.outcome.value, "exit_code": result.exit_code,
            "instructions": result.instructions, "wall_s": result.wall_seconds,
            "faults": result.faults, "lines": sink.lines}


def run_config(elf: Path, workload: Workload, config: Config, scratch: Path,
               profile: cProfile.Profile | None = None) -> dict[str, Any]:
    """One checkpointed run, then a restore of its newest checkpoint."""
    mode = MODES[config.mode]
    root = Path(tempfile.mkdtemp(prefix="run-", dir=scratch))
    try:
        store = Store.create(root / "store")
        sink = _Lines()
        session = mode.start(elf, ram_quota=workload.ram_quota, granularity=config.granularity,
                             store=store, log_sink=sink)
        if profile is not None:
            profile.enable()
        try:
            result = session.run(every=config.interval)
        finally:
            if profile is not None:
                profile.disable()
        infos = {i.id: i for i in store.checkpoints()}
        checkpoints = []
        for stats in result.checkpoints:
            record = stats.as_json()
            info = infos.get(stats.id)
            record["raw_bytes"] = info.raw_bytes if info is not None else None
            checkpoints.append(record)
        st = store.stats()
        store_stats = {"checkpoints": st.checkpoints, "page_rows": st.page_rows,
                       "nonzero_page_rows": st.nonzero_page_rows, "blobs": st.blobs,
                       "blob_bytes": st.blob_bytes, "pack_bytes": st.pack_bytes,
                       "db_bytes": st.db_bytes, "compression_ratio": st.compression_ratio,
                       "dedup_ratio": st.dedup_ratio}
        restore: dict[str, Any] = {}
        newest = store.newest()
        if newest is not None:
            started = time.perf_counter()
            restored = Session.resume(store, newest, log_sink=_null_sink, checkpoint=False)
            restore["seconds"] = time.perf_counter() - started
            restore["checkpoint"] = newest
            restore["ram_bytes"] = sum(r.size for r in restored.runtime.ram_records()
                                       if r.tracked.ram is not None)
            del restored
        store.close()
        return {
            "workload": config.workload, "mode": config.mode,
            "granularity": config.granularity, "interval": config.interval,
            "scale": config.scale, "outcome": result.outcome.value,
            "exit_code": result.exit_code, "instructions": result.instructions,
            "wall_s": result.wall_seconds, "faults": result.faults,
            "checkpoints": checkpoints, "store": store_stats, "restore": restore,
            "lines": sink.lines,
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def profile_top(profile: cProfile.Profile, count: int = 15) -> list[dict[str, Any]]:
    stats = pstats.Stats(profile)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values()) or 1.0
    rows = []
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in raw.items():
        rows.append({"function": _where(filename, line, func), "calls": ncalls,
                     "tottime_s": tottime, "cumtime_s": cumtime,
                     "share": tottime / total})
    rows.sort(key=lambda r: -r["tottime_s"])
    return rows[:count]


def _where(filename: str, line: int, func: str) -> str:
    if filename == "~":
        return func
    path = filename.replace(os.sep, "/")
    for marker in ("/site-packages/", "/src/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{line}({func})"


# -- the whole run ---------------------------------------------------------------------------
def count_tasks(settings: dict[str, Any]) -> int:
    n: int = len(settings["workloads"]) * 2  # compile + baselines
    n += len(plan(settings)) * settings["repeat"]
    if settings["micro"]:
        n += 3  # write-fault cost, bare floor, bare MIPS
    if settings["memory"]:
        n += 1
    if settings["profile"]:
        n += 2
    return n


def run_bench(options: BenchOptions, progress: Progress | None = None) -> dict[str, Any]:
    """Run everything, write ``results.json`` (and the report), return the results."""
    settings = options.resolved()
    tick = progress or (lambda what: None)
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    cache = out / "cache"
    cache.mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="scratch-", dir=out))
    started = time.perf_counter()
    repeat = settings["repeat"]
    results: dict[str, Any] = {
        "version": 1,
        "settings": settings,
        "environment": {"python": platform.python_version(), "machine": platform.machine(),
                        "cpus": os.cpu_count(), "unicorn": unicorn.__version__,
                        "platform": platform.platform()},
        "anchors": ANCHORS,
        "workloads": {}, "baselines": {}, "runs": [], "micro": {}, "profile": None,
    }
    try:
        elves: dict[str, Path] = {}
        for name in settings["workloads"]:
            workload = WORKLOADS[name]
            defines = workload.sizes(settings["quick"])
            tick(f"compile {name}")
            elves[name] = workload.build(cache, defines)
            results["workloads"][name] = {
                "description": workload.description, "defines": defines,
                "interval": workload.quick_interval if settings["quick"] else workload.interval,
                "ram_quota": workload.ram_quota, "elf": str(elves[name])}
        base_repeat = max(3, repeat)
        for name in settings["workloads"]:
            tick(f"{name}: no checkpointing ({base_repeat}×)")
            run_baseline(elves[name], WORKLOADS[name])  # warm-up, discarded
            results["baselines"][name] = [run_baseline(elves[name], WORKLOADS[name])
                                          for _ in range(base_repeat)]
        configs = plan(settings)
        for r in range(repeat):  # interleave repeats: drift hits every config alike
            for config in configs:
                tick(f"{config.key} ({r + 1}/{repeat})")
                record = run_config(elves[config.workload], WORKLOADS[config.workload],
                                    config, scratch)
                record["repeat"] = r
                results["runs"].append(record)
        if settings["profile"] and configs:
            tick("profile")
            results["profile"] = _profile(settings, configs, elves, scratch)
            tick("profile of the fault path")
            results["profile_faults"] = _profile_faults(settings, cache)
        if settings["micro"]:
            results["micro"].update(_micro(settings, elves, cache, tick))
        if settings["memory"]:
            tick("resident memory")
            results["micro"]["memory"] = _memory(settings, cache, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results["wall_seconds"] = time.perf_counter() - started
    results["summary"] = summarize(results)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    if options.plots:
        from .report import write_report
        write_report(results, out)
    return results


def _profile(settings: dict[str, Any], configs: list[Config], elves: dict[str, Path],
             scratch: Path) -> dict[str, Any]:
    preferred = [c for c in configs if c.mode == TRACKED and c.granularity == 1
                 and c.scale == 1]
    order = ["write_heavy", "streaming"]
    preferred.sort(key=lambda c: order.index(c.workload) if c.workload in order else 99)
    config = (preferred or configs)[0]
    profile = cProfile.Profile()
    record = run_config(elves[config.workload], WORKLOADS[config.workload], config, scratch,
                        profile=profile)
    pause = sum(c["pause_us"] for c in record["checkpoints"]) / 1e6
    return {"config": config.key, "wall_s": record["wall_s"], "pause_s": pause,
            "top": profile_top(profile)}


def _profile_faults(settings: dict[str, Any], cache: Path) -> dict[str, Any] | None:
    """cProfile of the write-fault path alone: the touch workload, tracked, no store."""
    if TRACKED not in MODES:
        return None
    defines = TOUCH.sizes(settings["quick"])
    elf = TOUCH.build(cache, defines)
    session = MODES[TRACKED].start(elf, ram_quota=TOUCH.ram_quota, granularity=1, store=None,
                                   log_sink=_null_sink)
    profile = cProfile.Profile()
    profile.enable()
    result = session.run()
    profile.disable()
    return {"config": f"{TOUCH.name}/{TRACKED}/no store", "wall_s": result.wall_seconds,
            "faults": sum(result.faults.values()), "top": profile_top(profile, 12)}


def _micro(settings: dict[str, Any], elves: dict[str, Path], cache: Path,
           tick: Progress) -> dict[str, Any]:
    quick = settings["quick"]
    repeat = max(3, settings["repeat"]) if not quick else 3
    out: dict[str, Any] = {}
    tick("write-fault cost through the runtime")
    touch_defines = TOUCH.sizes(quick)
    touch = TOUCH.build(cache, touch_defines)
    pages = int(touch_defines["PAGES"])
    fault: dict[str, Any] = {"pages": pages, "repeat": repeat, "modes": {}}
    for mode_name in [m for m in (TRACKED, ACCESS_TRACKED) if m in MODES]:
        mode = MODES[mode_name]
        per_fault: list[float] = []
        faults_seen = 0
        for _ in range(repeat):
            base = BASELINE.start(touch, ram_quota=TOUCH.ram_quota, granularity=1, store=None,
                                  log_sink=_null_sink).run()
            tracked = mode.start(touch, ram_quota=TOUCH.ram_quota, granularity=1, store=None,
                                 log_sink=_null_sink).run()
            faults_seen = sum(tracked.faults.values())
            per_fault.append((tracked.wall_seconds - base.wall_seconds) / max(1, faults_seen)
                             * 1e6)
        samples: dict[str, list[int]] = {"handler": [], "fill": []}
        for _ in range(repeat):
            with micro.timed_fault_path() as timed:
                mode.start(touch, ram_quota=TOUCH.ram_quota, granularity=1, store=None,
                           log_sink=_null_sink).run()
            for key in samples:
                samples[key].extend(timed[key])
        fault["modes"][mode_name] = {
            "faults_per_run": faults_seen,
            "per_fault_us_runs": per_fault,
            "per_fault_us_median": median(per_fault),
            "fill_us_median": _us(median(samples["fill"])),
            "fill_us_p99": _us(percentile(samples["fill"], 99)),
            "fill_samples": len(samples["fill"]),
            "handler_us_median": _us(median(samples["handler"])),
            "handler_us_p99": _us(percentile(samples["handler"], 99)),
            "handler_samples": len(samples["handler"]),
        }
    out["fault_cost"] = fault
    tick("write-fault cost on bare unicorn")
    micro.bare_fault_cost(pages, 1)  # warm-up
    out["bare_fault_cost"] = micro.bare_fault_cost(pages, max(repeat, 5))
    tick("guest MIPS on bare unicorn")
    mips: dict[str, Any] = {}
    for name, elf in elves.items():
        if not WORKLOADS[name].bare:
            continue
        micro.bare_run(elf)  # warm-up
        runs = [micro.bare_run(elf) for _ in range(max(3, settings["repeat"]))]
        mips[name] = {"seconds": [r["seconds"] for r in runs],
                      "lines": runs[0]["lines"], "exit_code": runs[0]["exit_code"],
                      "error": runs[0]["error"]}
    out["bare_runs"] = mips
    return out


def _us(ns: float | None) -> float | None:
    return None if ns is None else ns / 1000


def _memory(settings: dict[str, Any], cache: Path, scratch: Path) -> dict[str, Any]:
    quota = settings["memory_quota"]
    chunks = 56
    chunk_kb = quota // 64 // 1024
    defines = {"CHUNKS": str(chunks), "CHUNK_KB": str(chunk_kb), "WORK": "1000UL",
               "FILL_STRIDE": "512"}
    workload = WORKLOADS["heap_grow"]
    elf = workload.build(cache, defines)
    every = 200_000
    base = micro.measure_rss(elf, ram_quota=quota, mode="none", every=None, store_root=scratch)
    mode = TRACKED if TRACKED in MODES else next(iter(MODES))
    tracked = micro.measure_rss(elf, ram_quota=quota, mode=mode, every=every,
                                store_root=scratch)
    return {"ram_quota": quota, "defines": defines, "every": every, "baseline": base,
            "tracked": tracked}


# -- summary -------------------------------------------------------------------------------
def _steady(checkpoints: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checkpoints after the first (the first is a full image under every mode)."""
    return checkpoints[1:] if len(checkpoints) > 1 else checkpoints


def _per_run(run: dict[str, Any], baseline_wall: float | None) -> dict[str, float | None]:
    cps = run["checkpoints"]
    steady = _steady(cps)
    pause_total = sum(c["pause_us"] for c in cps) / 1e6
    dirty = sum(c["dirty_pages"] for c in steady)
    raw_total = sum(c["raw_bytes"] or 0 for c in cps)
    restore = run.get("restore") or {}
    restore_mb = (restore.get("ram_bytes") or 0) / 1e6
    return {
        "checkpoints": float(len(cps)),
        "faults_per_interval": mean(sum(c["faults"].values()) for c in steady),
        "write_faults_per_interval": mean(c["faults"].get("write", 0) for c in steady),
        "read_faults_per_interval": mean(c["faults"].get("read", 0) for c in steady),
        "dirty_pages_per_cp": mean(c["dirty_pages"] for c in steady),
        "pause_us_median": median(c["pause_us"] for c in steady),
        "pause_us_p99": percentile((c["pause_us"] for c in steady), 99),
        "first_pause_us": float(cps[0]["pause_us"]) if cps else None,
        "us_per_dirty_page": (sum(c["pause_us"] for c in steady) / dirty) if dirty else None,
        "bytes_per_cp": mean(c["bytes"] for c in steady),
        "raw_bytes_per_cp": mean(c["raw_bytes"] for c in steady),
        "first_store_mb_s": (cps[0]["raw_bytes"] / cps[0]["pause_us"])
        if cps and cps[0]["raw_bytes"] and cps[0]["pause_us"] else None,
        "wall_s": run["wall_s"],
        "pause_total_s": pause_total,
        "running_s": run["wall_s"] - pause_total,
        "slowdown": ratio(run["wall_s"], baseline_wall),
        "tracking_slowdown": ratio(run["wall_s"] - pause_total, baseline_wall),
        "store_mb_s": (raw_total / pause_total / 1e6) if pause_total else None,
        "compression_ratio": run["store"]["compression_ratio"],
        "dedup_ratio": run["store"]["dedup_ratio"],
        "restore_s": restore.get("seconds"),
        "restore_ms_per_mb": (restore["seconds"] * 1e3 / restore_mb)
        if restore.get("seconds") and restore_mb else None,
        "restore_ram_mb": restore_mb or None,
    }


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    baselines: dict[str, Any] = {}
    for name, runs in results["baselines"].items():
        walls = [r["wall_s"] for r in runs]
        instructions = runs[0]["instructions"] if runs else 0
        baselines[name] = {
            "wall_s": spread(walls), "instructions": instructions,
            "mips": spread(instructions / w / 1e6 for w in walls if w),
            "outcome": runs[0]["outcome"] if runs else None,
            "lines": runs[0]["lines"] if runs else [],
        }
    configs: dict[str, dict[str, Any]] = {}
    for run in results["runs"]:
        key = f"{run['workload']}/{run['mode']}/g{run['granularity']}/i{run['interval']}"
        entry = configs.setdefault(key, {
            "workload": run["workload"], "mode": run["mode"],
            "granularity": run["granularity"], "interval": run["interval"],
            "scale": run["scale"], "per_run": [], "outcomes": [], "output_ok": True})
        base = baselines.get(run["workload"], {})
        entry["per_run"].append(_per_run(run, (base.get("wall_s") or {}).get("median")))
        entry["outcomes"].append(run["outcome"])
        if base and run["lines"] != base["lines"]:
            entry["output_ok"] = False
    for entry in configs.values():
        metrics = entry["per_run"][0].keys() if entry["per_run"] else []
        entry["metrics"] = {m: spread(r[m] for r in entry["per_run"]) for m in metrics}
    # every steady pause, pooled over repeats (for percentiles and the scatter plot)
    for run in results["runs"]:
        key = f"{run['workload']}/{run['mode']}/g{run['granularity']}/i{run['interval']}"
        pooled = configs[key].setdefault("pauses", [])
        pooled.extend([c["pause_us"], c["dirty_pages"]] for c in _steady(run["checkpoints"]))

    def metric(workload: str, mode: str, g: int, interval: int, name: str) -> float | None:
        entry = configs.get(f"{workload}/{mode}/g{g}/i{interval}")
        return entry["metrics"][name]["median"] if entry and entry["metrics"] else None

    ratios = []
    seen = {(e["workload"], e["granularity"], e["interval"]) for e in configs.values()}
    for workload, g, interval in sorted(seen):
        row: dict[str, Any] = {"workload": workload, "granularity": g, "interval": interval}
        row["detach_faults"] = metric(workload, ACCESS_TRACKED, g, interval,
                                      "faults_per_interval")
        row["ro_faults"] = metric(workload, TRACKED, g, interval, "faults_per_interval")
        row["fault_ratio"] = ratio(row["detach_faults"], row["ro_faults"])
        row["expected_ratio"] = ratio(
            metric(workload, ACCESS_TRACKED, g, interval, "dirty_pages_per_cp"),
            metric(workload, TRACKED, g, interval, "dirty_pages_per_cp"))
        row["full_pause_us"] = metric(workload, COPY_ALL, 1, interval, "pause_us_median")
        row["ro_pause_us"] = metric(workload, TRACKED, g, interval, "pause_us_median")
        row["pause_ratio"] = ratio(row["full_pause_us"], row["ro_pause_us"])
        row["full_bytes"] = metric(workload, COPY_ALL, 1, interval, "raw_bytes_per_cp")
        row["ro_bytes"] = metric(workload, TRACKED, g, interval, "raw_bytes_per_cp")
        row["bytes_ratio"] = ratio(row["full_bytes"], row["ro_bytes"])
        row["full_stored"] = metric(workload, COPY_ALL, 1, interval, "bytes_per_cp")
        row["ro_stored"] = metric(workload, TRACKED, g, interval, "bytes_per_cp")
        row["ro_us_per_dirty_page"] = metric(workload, TRACKED, g, interval,
                                             "us_per_dirty_page")
        row["ro_tracking_slowdown"] = metric(workload, TRACKED, g, interval,
                                             "tracking_slowdown")
        row["detach_tracking_slowdown"] = metric(workload, ACCESS_TRACKED, g, interval,
                                                 "tracking_slowdown")
        if any(row[k] is not None for k in ("fault_ratio", "pause_ratio")):
            ratios.append(row)

    by_mode: dict[str, Any] = {}
    for mode in sorted({e["mode"] for e in configs.values()}):
        entries = [e for e in configs.values() if e["mode"] == mode]

        def pooled(name: str, entries: list[dict[str, Any]] = entries) -> list[float | None]:
            return [r[name] for e in entries for r in e["per_run"]]

        by_mode[mode] = {name: median(pooled(name)) for name in (
            "store_mb_s", "first_store_mb_s", "compression_ratio", "dedup_ratio",
            "restore_ms_per_mb", "restore_s", "us_per_dirty_page", "slowdown",
            "tracking_slowdown")}
        by_mode[mode]["runs"] = len(pooled("wall_s"))
        points = [p for e in entries for p in e.get("pauses", [])]
        by_mode[mode]["pause_fit"] = _fit(points)

    summary: dict[str, Any] = {"baselines": baselines, "configs": configs, "ratios": ratios,
                               "by_mode": by_mode}
    summary["mips"] = _mips_summary(results, baselines)
    summary["fault_cost"] = _fault_summary(results)
    summary["memory"] = _memory_summary(results)
    summary["checks"] = {
        "configs": len(configs),
        "all_exited": all(o == "exited" for e in configs.values() for o in e["outcomes"]),
        "outputs_match_baseline": all(e["output_ok"] for e in configs.values()),
    }
    return summary


def _fit(points: list[list[float]]) -> dict[str, float | None]:
    """Least squares pause_us = fixed + per_page * dirty_pages over steady checkpoints."""
    n = len(points)
    if n < 2:
        return {"fixed_us": None, "per_page_us": None, "points": float(n)}
    mx = sum(p[1] for p in points) / n
    my = sum(p[0] for p in points) / n
    sxx = sum((p[1] - mx) ** 2 for p in points)
    if sxx == 0:
        return {"fixed_us": my, "per_page_us": None, "points": float(n)}
    slope = sum((p[1] - mx) * (p[0] - my) for p in points) / sxx
    return {"fixed_us": my - slope * mx, "per_page_us": slope, "points": float(n)}


def _mips_summary(results: dict[str, Any], baselines: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, bare in (results.get("micro") or {}).get("bare_runs", {}).items():
        base = baselines.get(name)
        if not base:
            continue
        instructions = base["instructions"]
        bare_mips = median(instructions / s / 1e6 for s in bare["seconds"] if s)
        rtcr_mips = base["mips"]["median"]
        out[name] = {"instructions": instructions, "rtcr_mips": rtcr_mips,
                     "bare_mips": bare_mips, "ratio": ratio(rtcr_mips, bare_mips),
                     "same_output": bare["lines"] == base["lines"]}
    return out


def _fault_summary(results: dict[str, Any]) -> dict[str, Any]:
    micro_results = results.get("micro") or {}
    fault = micro_results.get("fault_cost")
    bare = micro_results.get("bare_fault_cost")
    if not fault:
        return {}
    out: dict[str, Any] = {"pages": fault["pages"], "modes": fault["modes"], "bare": bare}
    ro = fault["modes"].get(TRACKED, {})
    if bare:
        out["runtime_over_bare"] = ratio(ro.get("per_fault_us_median"),
                                         bare.get("per_fault_us_median"))
    return out


def _memory_summary(results: dict[str, Any]) -> dict[str, Any]:
    memory = (results.get("micro") or {}).get("memory")
    if not memory:
        return {}
    base, tracked = memory["baseline"], memory["tracked"]
    if "error" in base or "error" in tracked:
        return {"error": base.get("error") or tracked.get("error"),
                "ram_quota": memory["ram_quota"]}
    extra = tracked["maxrss_bytes"] - base["maxrss_bytes"]
    quota = memory["ram_quota"]
    goal = (64 << 20) + quota * 0.05
    return {"ram_quota": quota, "target_ram_bytes": tracked["target_ram_bytes"],
            "baseline_rss": base["maxrss_bytes"], "tracked_rss": tracked["maxrss_bytes"],
            "extra_rss": extra, "goal_bytes": goal, "meets_goal": extra < goal,
            "arm_seconds": tracked["arm_seconds"], "run_seconds": tracked["run_seconds"],
            "baseline_run_seconds": base["run_seconds"],
            "checkpoints": tracked["checkpoints"], "faults": tracked["faults"]}
