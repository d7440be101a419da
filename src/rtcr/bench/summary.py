"""The summary of one benchmark run: every figure the report shows, from the raw records.
"""

from __future__ import annotations

from typing import Any

from .modes import ACCESS_TRACKED, COPY_ALL, TRACKED
from .stats import mean, median, percentile, ratio, spread


def _steady(checkpoints: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checkpoints after the first (the first is a full image under every mode)."""
    return checkpoints[1:] if len(checkpoints) > 1 else checkpoints


def _commit_us(checkpoint: dict[str, Any]) -> float:
    return float(checkpoint.get("commit_us") or checkpoint["pause_us"])


def _per_run(run: dict[str, Any], baseline_wall: float | None) -> dict[str, float | None]:
    cps = run["checkpoints"]
    steady = _steady(cps)
    pause_total = sum(c["pause_us"] for c in cps) / 1e6
    commit_total = sum(_commit_us(c) for c in cps) / 1e6
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
        # The store's throughput: page bytes over pause start to commit (the store
        # works after the pause).
        "first_store_mb_s": (cps[0]["raw_bytes"] / _commit_us(cps[0]))
        if cps and cps[0]["raw_bytes"] and _commit_us(cps[0]) else None,
        "wall_s": run["wall_s"],
        "pause_total_s": pause_total,
        "running_s": run["wall_s"] - pause_total,
        "slowdown": ratio(run["wall_s"], baseline_wall),
        "tracking_slowdown": ratio(run["wall_s"] - pause_total, baseline_wall),
        "store_mb_s": (raw_total / commit_total / 1e6) if commit_total else None,
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
    summary["limits"] = (results.get("micro") or {}).get("limits")
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
