"""Running the matrix: single runs, the microbenchmarks, and the whole run.

Every raw figure goes into ``results.json``; the summary (`summary`) and the
report (`report`, `plots`) are derived from it.
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
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import unicorn

from rtcr.checkpoint import Session
from rtcr.core import PAGE_SIZE
from rtcr.machine.component import Component
from rtcr.store import Compression, Store, native

from . import micro, store_limits
from .matrix import BenchOptions, Config, plan
from .migration import run_migration
from .modes import ACCESS_TRACKED, BASELINE, MODES, TRACKED
from .stats import median, percentile
from .summary import summarize
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

def _null_sink(component: Component, line: str) -> None:
    pass


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, component: Component, line: str) -> None:
        self.lines.append(line)


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
        if settings["migration"]:
            results["migration"] = run_migration(settings["migration_sizes"],
                                                 settings["migration_fractions"], scratch, tick)
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
    tick("this machine's limits: memcpy and codec of the same pages")
    out["limits"] = _limits(cache)
    return out


def _limits(scratch: Path, pages: int = 4096) -> dict[str, float]:
    """This machine's limits for the data path, per page, measured now.

    ``memcpy_us``: a native copy of pages into a warm buffer (what a pause
    must at least do); for program-like pages stored with lz4 (see
    `store_limits`): ``codec_us`` the codec on every core, ``disk_us`` the
    write and data sync of its output, ``store_us`` the tighter of the two
    (what a store must at least do).
    """
    import random

    rng = random.Random(4)
    words = [rng.randbytes(rng.randrange(2, 12)) for _ in range(256)]
    data = bytearray()
    while len(data) < pages * PAGE_SIZE:
        data += rng.choice(words) if rng.random() < 0.6 else bytes(rng.randrange(8, 48))
    del data[pages * PAGE_SIZE:]
    staging = bytearray(pages * PAGE_SIZE)
    addrs = array("Q", range(0, pages * PAGE_SIZE, PAGE_SIZE))
    copies = []
    for _ in range(5):
        started = time.perf_counter()
        native.gather(native.address(data), addrs, native.address(staging))
        copies.append(time.perf_counter() - started)
    store = store_limits.measure(native.address(data), pages, Compression(), scratch, rounds=3)
    return {"memcpy_us": min(copies) / pages * 1e6, "codec_us": store.codec_s / pages * 1e6,
            "disk_us": store.disk_s / pages * 1e6, "store_us": store.limit_s / pages * 1e6,
            "pages": float(pages)}


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
