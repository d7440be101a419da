"""report.md, rendered from results.json alone (the PNG plots: `plots`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rtcr.core import PAGE_SIZE

from .migration import migration_lines
from .modes import ACCESS_TRACKED, COPY_ALL, TRACKED
from .plots import PLOTS, write_plots

HEADLINE_WORKLOADS = ("read_mostly", "write_heavy")


def _f(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    value = float(value)
    if value != 0 and abs(value) < 10 ** -digits:
        return f"{value:.1e}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _spread(s: dict[str, Any] | None, scale: float = 1.0, digits: int = 2) -> str:
    if not s or s.get("median") is None:
        return "–"
    med = s["median"] * scale
    if (s.get("n") or 0) > 1 and s["min"] is not None and s["max"] is not None:
        return f"{_f(med, digits)} ({_f(s['min'] * scale, digits)}–{_f(s['max'] * scale, digits)})"
    return _f(med, digits)


def _mb(n: float | None) -> str:
    return "–" if n is None else f"{n / (1 << 20):,.1f} MiB"


def _table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return [*lines, ""]


def _interval(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def render(results: dict[str, Any], figures: str = ".") -> str:
    s = results["summary"]
    settings = results["settings"]
    env = results["environment"]
    configs = s["configs"]
    md: list[str] = ["# rtcr bench report", ""]
    cmd = ["rtcr bench"]
    if settings["quick"]:
        cmd.append("--quick")
    md += [f"Command: `{' '.join(cmd)}` (workloads {', '.join(settings['workloads'])}; "
           f"strategies {', '.join(settings['strategies'])}; granularities "
           f"{', '.join(map(str, settings['granularities']))} pages; intervals "
           f"{', '.join('×' + str(x) for x in settings['interval_scales'])} of each "
           f"workload's default; {settings['repeat']} repeat(s)). "
           f"Host: {env['platform']}, {env['cpus']} CPUs, Python {env['python']}, "
           f"unicorn {env['unicorn']}. Total {_f(results['wall_seconds'], 0)} s.", ""]
    checks = s["checks"]
    md += [f"Configurations: {checks['configs']}; every run exited: "
           f"{_f(checks['all_exited'])}; every run's output equals the uncheckpointed run's: "
           f"{_f(checks['outputs_match_baseline'])}.", ""]
    md += ["Cells show the median over repeats and, in brackets, the range (min–max). "
           "Per-checkpoint figures leave out each run's first checkpoint, which is a full "
           "image under every strategy.", ""]

    md += ["## Workloads and the baseline (no checkpointing)", ""]
    rows = []
    for name, w in results["workloads"].items():
        b = s["baselines"].get(name, {})
        defines = " ".join(f"{k}={v}" for k, v in w["defines"].items())
        rows.append([name, w["description"], f"`{defines}`", _interval(w["interval"]),
                     _f(b.get("instructions")), _spread(b.get("wall_s"), 1e3, 1),
                     _spread(b.get("mips"), 1, 0)])
    md += _table(["workload", "what", "size", "interval (instr.)", "instructions",
                  "run time ms", "MIPS"], rows)

    md += ["## Headline ratios", "",
           f"Same workload, granularity and interval. Faults: {ACCESS_TRACKED} / {TRACKED} "
           "per interval; *expected* is the ratio of pages accessed to pages written "
           f"({ACCESS_TRACKED}'s dirty pages / {TRACKED}'s). Pause and bytes copied: {COPY_ALL} "
           f"/ {TRACKED} per checkpoint. Tracking slowdown: run time outside checkpoint pauses "
           "/ run time without checkpointing.", ""]
    rows = []
    for r in s["ratios"]:
        rows.append([r["workload"], str(r["granularity"]), _interval(r["interval"]),
                     _f(r["detach_faults"], 0), _f(r["ro_faults"], 0), _f(r["fault_ratio"]),
                     _f(r["expected_ratio"]), _f(r["pause_ratio"]), _f(r["bytes_ratio"]),
                     _f(r["ro_us_per_dirty_page"], 1), _f(r["ro_tracking_slowdown"]),
                     _f(r["detach_tracking_slowdown"])])
    md += _table(["workload", "g", "interval", f"{ACCESS_TRACKED} faults/int.",
                  f"{TRACKED} faults/int.", "fault ratio", "expected", "pause full/ro",
                  "bytes full/ro", "µs per dirty page (ro)", "tracking slowdown ro",
                  f"tracking slowdown {ACCESS_TRACKED}"], rows)

    md += ["## Every configuration", ""]
    rows = []
    for entry in sorted(configs.values(), key=lambda e: (e["workload"], e["mode"],
                                                          e["granularity"], e["interval"])):
        m = entry["metrics"]
        rows.append([entry["workload"], entry["mode"], str(entry["granularity"]),
                     _interval(entry["interval"]), _spread(m.get("checkpoints"), 1, 0),
                     _spread(m.get("faults_per_interval"), 1, 0),
                     _spread(m.get("dirty_pages_per_cp"), 1, 0),
                     _spread(m.get("pause_us_median"), 1e-3, 2),
                     _spread(m.get("pause_us_p99"), 1e-3, 2),
                     _spread(m.get("us_per_dirty_page"), 1, 0),
                     _spread(m.get("raw_bytes_per_cp"), 1 / 1024, 0),
                     _spread(m.get("bytes_per_cp"), 1 / 1024, 0),
                     _spread(m.get("slowdown"), 1, 1),
                     _spread(m.get("tracking_slowdown"), 1, 2)])
    md += _table(["workload", "mode", "g", "interval", "checkpoints", "faults/interval",
                  "dirty pages/cp", "pause ms (median)", "pause ms (p99)", "µs/dirty page",
                  "copied KiB/cp", "stored KiB/cp", "slowdown", "tracking slowdown"], rows)

    md += _plots(figures)
    md += _fault_cost(s)
    md += _mips(s)
    md += _store(s)
    md += _memory(s)
    md += _migration(results)
    md += _headline_figures(s)
    md += _profile(results)
    md += ["## Published anchors (not measured here)", ""]
    md += _table(["figure", "value"], ([a["what"], f"{a['value']} {a['unit']}"]
                                       for a in results["anchors"]))
    return "\n".join(md)


def _plots(figures: str) -> list[str]:
    md = ["## Plots", ""]
    captions = {"faults": "Faults per checkpoint interval, by strategy (log scale)",
                "pause": "Checkpoint pause vs dirty pages (every steady-state checkpoint)",
                "bytes": "Bytes of pages copied per checkpoint, by strategy (log scale)",
                "slowdown": "Run time with checkpointing / without (log scale)"}
    for key, name in PLOTS.items():
        md += [f"![{captions[key]}]({figures}/{name})", ""]
    return md


def _fault_cost(s: dict[str, Any]) -> list[str]:
    f = s.get("fault_cost") or {}
    if not f:
        return []
    md = ["## Write-fault cost", "",
          f"A component reads, then writes one byte of each of {f['pages']:,} fresh pages. "
          "*By difference*: (run time tracked − run time untracked) / faults. *Fill path*: "
          "time.perf_counter_ns around the CPU's TLB-fill call that resolved a tracking fault. "
          "*Handler*: around the runtime's fault handler alone. The floor is bare unicorn in "
          "virtual-TLB mode whose Python fill hook grants a page read-only and write "
          "permission on the write fill.", ""]
    rows = []
    for mode, m in f["modes"].items():
        rows.append([f"rtcr, {mode}", _f(m["per_fault_us_median"]),
                     _f(m["fill_us_median"]), _f(m["fill_us_p99"]),
                     _f(m["handler_us_median"]), _f(m["handler_us_p99"]),
                     _f(m["faults_per_run"])])
    bare = f.get("bare")
    if bare:
        rows.append(["bare unicorn + Python hook", _f(bare["per_fault_us_median"]),
                     _f(bare["hook_us_median"]), _f(bare["hook_us_p99"]), "–", "–",
                     _f(bare["pages"])])
    md += _table(["path", "by difference µs (median)", "fill path µs (median)",
                  "fill path µs (p99)", "handler µs (median)", "handler µs (p99)",
                  "faults per run"], rows)
    if f.get("runtime_over_bare") is not None:
        md += [f"Runtime / floor (by difference): {_f(f['runtime_over_bare'])}×.", ""]
    return md


def _mips(s: dict[str, Any]) -> list[str]:
    mips = s.get("mips") or {}
    if not mips:
        return []
    md = ["## Guest speed: rtcr (no checkpointing) vs bare unicorn", "",
          "Bare: the same ELF flat-mapped into unicorn, one emu_start, a minimal system-call "
          "hook.", ""]
    rows = [[name, _f(m["instructions"]), _f(m["rtcr_mips"], 0), _f(m["bare_mips"], 0),
             _f(m["ratio"]), _f(m["same_output"])] for name, m in mips.items()]
    return md + _table(["workload", "instructions", "rtcr MIPS", "bare MIPS", "rtcr / bare",
                        "same output"], rows)


def _store(s: dict[str, Any]) -> list[str]:
    limits = s.get("limits") or {}
    memcpy, codec = limits.get("memcpy_us"), limits.get("store_us")
    md = ["## Store and restore", "",
          "Per strategy, median over every run: MB/s = page bytes written / total commit "
          "latency (pause start to durable commit), and for the first checkpoint alone (a full "
          "image); pause fit = least "
          "squares pause = fixed + per-page × dirty pages over every steady checkpoint; "
          "compression = unique page bytes / their compressed size; dedup = non-zero "
          "page entries / unique blobs; restore = `Session.resume` of the newest checkpoint "
          "(load + rebuild), per MB of the target's RAM. *This machine's limits*, measured in "
          f"the same run: a native memcpy of pages {_f(memcpy)} µs/page (the pause's floor), "
          f"the slower of hash + lz4 on every core ({_f(limits.get('codec_us'))} µs/page) and "
          f"the disk's write and data sync of its output ({_f(limits.get('disk_us'))} µs/page): "
          f"{_f(codec)} µs/page = {_f(PAGE_SIZE / codec if codec else None, 0)} MB/s (the "
          "store's floor); the ratio columns divide by them.", ""]
    rows = []
    for mode, m in s["by_mode"].items():
        fit = m.get("pause_fit") or {}
        fixed = fit.get("fixed_us")
        per_page = fit.get("per_page_us")
        store_limit = PAGE_SIZE / codec if codec else None
        rows.append([mode, _f(m["store_mb_s"], 1),
                     _f(m["store_mb_s"] / store_limit if store_limit and m["store_mb_s"]
                        else None),
                     _f(m.get("first_store_mb_s"), 1),
                     _f(fixed / 1e3 if fixed is not None else None),
                     _f(per_page, 1),
                     _f(per_page / memcpy if per_page and memcpy else None, 1),
                     _f(m["compression_ratio"]),
                     _f(m["dedup_ratio"]),
                     _f(m["restore_s"] * 1e3 if m["restore_s"] is not None else None, 1),
                     _f(m["restore_ms_per_mb"], 1), str(m["runs"])])
    return md + _table(["mode", "store MB/s", "store / limit", "first checkpoint MB/s",
                        "pause fit: fixed ms", "pause fit: µs/page", "µs/page / memcpy",
                        "compression", "dedup", "restore ms",
                        "restore ms/MB", "runs"], rows)


def _memory(s: dict[str, Any]) -> list[str]:
    m = s.get("memory") or {}
    if not m:
        return []
    md = ["## Resident memory of the runtime", ""]
    if "error" in m:
        return [*md, f"Not measured for a {_mb(m['ram_quota'])} target: {m['error']}", ""]
    md += [f"Target: heap_grow with a RAM quota of {_mb(m['ram_quota'])}, "
           f"{_mb(m['target_ram_bytes'])} of it allocated as RAM dataspaces; peak RSS of a "
           "fresh process, with ro-attach checkpointing vs without.", ""]
    rows = [["peak RSS without checkpointing", _mb(m["baseline_rss"])],
            ["peak RSS with checkpointing", _mb(m["tracked_rss"])],
            ["extra resident memory", _mb(m["extra_rss"])],
            ["goal (64 MiB + 5 % of target RAM)", _mb(m["goal_bytes"])],
            ["meets goal", _f(m["meets_goal"])],
            ["arming time (start with tracking)", f"{_f(m['arm_seconds'])} s"],
            ["run time with / without checkpointing",
             f"{_f(m['run_seconds'])} s / {_f(m['baseline_run_seconds'])} s"],
            ["checkpoints", _f(m["checkpoints"])]]
    return md + _table(["", "value"], rows)


def _migration(results: dict[str, Any]) -> list[str]:
    figures = results.get("migration")
    if not figures:
        return []
    return ["## Migration and lazy restore", "",
            "Two rtcr processes on loopback per migration; a target of random words writing "
            "a fraction of its pages per interval; downtime: stopped at the source until "
            "running at the receiver. Ratios divide by stop-and-copy of the same run. Then "
            "a checkpoint of the filled target restored eagerly and lazily, to the first "
            "instruction and to the end with every page back.", "",
            *migration_lines(figures), ""]


def _headline_figures(s: dict[str, Any]) -> list[str]:
    rows = []
    for r in s["ratios"]:
        if r["workload"] not in HEADLINE_WORKLOADS or r["granularity"] != 1:
            continue
        cfg = s["configs"].get(f"{r['workload']}/{TRACKED}/g1/i{r['interval']}")
        restore = cfg["metrics"].get("restore_s") if cfg else None
        rows.append([r["workload"], _interval(r["interval"]), _f(r["fault_ratio"]),
                     _f(r["full_pause_us"] / 1e3 if r["full_pause_us"] else None),
                     _f(r["ro_pause_us"] / 1e3 if r["ro_pause_us"] else None),
                     _f(r["pause_ratio"]),
                     _f(r["full_bytes"] / 1024 if r["full_bytes"] else None, 0),
                     _f(r["ro_bytes"] / 1024 if r["ro_bytes"] else None, 0),
                     _f(r["bytes_ratio"]),
                     _f(r["full_stored"] / 1024 if r["full_stored"] else None, 0),
                     _f(r["ro_stored"] / 1024 if r["ro_stored"] else None, 0),
                     _spread(restore, 1e3, 1)])
    if not rows:
        return []
    md = ["## Headline figures: faults, pause and bytes at granularity 1", "",
          "Granularity 1. Faults: detach / ro-attach per interval; pause and stored bytes per "
          "checkpoint, full and ro-attach; restore of the newest checkpoint (ro-attach run).", ""]
    md += _table(["workload", "interval", "fault ratio", "full pause ms", "ro pause ms",
                  "pause full/ro", "full copied KiB/cp", "ro copied KiB/cp", "bytes full/ro",
                  "full stored KiB/cp", "ro stored KiB/cp", "restore ms"], rows)
    f = s.get("fault_cost") or {}
    ro = (f.get("modes") or {}).get(TRACKED)
    if ro:
        md += [f"Median write-fault cost through the runtime: {_f(ro['per_fault_us_median'])} "
               f"µs by difference, {_f(ro['fill_us_median'])} µs on the fill path "
               f"(p99 {_f(ro['fill_us_p99'])} µs); goal < 10 µs.", ""]
    m = s.get("memory") or {}
    if m and "error" not in m:
        md += [f"Extra resident memory with a {_mb(m['ram_quota'])} target: "
               f"{_mb(m['extra_rss'])} (goal {_mb(m['goal_bytes'])}: "
               f"{'met' if m['meets_goal'] else 'missed'}).", ""]
    return md


def _profile(results: dict[str, Any]) -> list[str]:
    p = results.get("profile")
    if not p:
        return []
    md = ["## Where the time goes (cProfile)", "",
          f"`{p['config']}`: {_f(p['wall_s'])} s under the profiler, "
          f"{_f(p['pause_s'])} s of it in checkpoint pauses. Top functions by own time:", ""]
    md += _top_table(p["top"])
    q = results.get("profile_faults")
    if q:
        md += [f"The write-fault path alone (`{q['config']}`, {_f(q['faults'])} faults, "
               f"{_f(q['wall_s'])} s):", ""]
        md += _top_table(q["top"])
    return md


def _top_table(top: list[dict[str, Any]]) -> list[str]:
    rows = [[f"`{t['function']}`", _f(t["calls"]), _f(t["tottime_s"], 3),
             _f(t["cumtime_s"], 3), f"{t['share'] * 100:.1f} %"] for t in top]
    return _table(["function", "calls", "own s", "cumulative s", "share"], rows)


# -- plots -----------------------------------------------------------------------------------
def write_report(results: dict[str, Any], out: Path) -> Path:
    write_plots(results, out)
    path = out / "report.md"
    path.write_text(render(results) + "\n")
    return path
