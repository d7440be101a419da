"""Smoke test of `rtcr bench`: a small matrix runs and produces every figure."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from rtcr.bench import WORKLOADS
from rtcr.bench.plots import PLOTS
from rtcr.bench.stats import median, percentile, spread
from rtcr.cli import cli

pytestmark = pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None
                                and shutil.which("clang") is None,
                                reason="no C compiler for the workloads")


def test_workload_sources_exist() -> None:
    for workload in WORKLOADS.values():
        assert workload.source.is_file(), workload.source


def test_stats_helpers() -> None:
    assert median([3, 1, 2]) == 2
    assert median([]) is None
    assert percentile([1, 2, 3, 4, 5], 50) == 3
    assert spread([1.0, None, 3.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "n": 2.0}


def test_bench_quick_subset(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    result = CliRunner().invoke(cli, [
        "bench", "--quick", "--workloads", "read_mostly,prodcons",
        "--memory-quota", "16M", "--out", str(out)])
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    summary = results["summary"]
    expected = {f"{w}/{m}/g1/i{WORKLOADS[w].quick_interval}"
                for w in ("read_mostly", "prodcons") for m in results["settings"]["strategies"]}
    assert set(summary["configs"]) == expected
    for key, entry in summary["configs"].items():
        metrics = entry["metrics"]
        assert entry["outcomes"] == ["exited"], key
        assert entry["output_ok"], key
        assert metrics["checkpoints"]["median"] >= 20, key
        for name in ("pause_us_median", "raw_bytes_per_cp", "slowdown", "restore_s"):
            assert metrics[name]["median"] > 0, (key, name)

    def metric(workload: str, mode: str, name: str) -> float:
        key = f"{workload}/{mode}/g1/i{WORKLOADS[workload].quick_interval}"
        value: float = summary["configs"][key]["metrics"][name]["median"]
        return value

    for w in ("read_mostly", "prodcons"):
        # detach faults on every access, ro-attach on writes only, full never
        assert metric(w, "detach", "faults_per_interval") >= \
            metric(w, "ro-attach", "faults_per_interval") > metric(w, "full", "faults_per_interval")
        # full copies everything, the tracking modes what changed
        assert metric(w, "full", "raw_bytes_per_cp") >= metric(w, "ro-attach", "raw_bytes_per_cp")
        assert metric(w, "detach", "dirty_pages_per_cp") >= \
            metric(w, "ro-attach", "dirty_pages_per_cp")
    assert summary["checks"]["all_exited"] and summary["checks"]["outputs_match_baseline"]
    ratios = {r["workload"]: r for r in summary["ratios"]}
    assert ratios["read_mostly"]["fault_ratio"] > 2  # reads fault only under detach
    fault = summary["fault_cost"]
    # a fault through the runtime costs more than the bare fill hook it is built on
    assert fault["modes"]["ro-attach"]["per_fault_us_median"] > \
        fault["bare"]["per_fault_us_median"] > 0
    assert summary["mips"]["read_mostly"]["bare_mips"] > 0
    assert "prodcons" not in summary["mips"]  # threads: not on the bare runner
    assert summary["memory"]["tracked_rss"] >= summary["memory"]["baseline_rss"] > 0
    assert results["profile"]["top"]
    report = (out / "report.md").read_text()
    migration = results["migration"]
    assert [(m["target_mb"], m["permille"]) for m in migration["migrations"]] == [(16, 100)]
    assert set(migration["migrations"][0]["modes"]) == {
        "stop-and-copy", "pre-copy", "pre-copy, no auto-converge", "post-copy"}
    for heading in ("Headline ratios", "Write-fault cost", "Store and restore",
                    "Migration and lazy restore", "Published anchors"):
        assert heading in report
    for name in PLOTS.values():
        assert (out / name).stat().st_size > 1000
