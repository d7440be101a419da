"""The migration figures of `rtcr bench`: every mode migrates, the ratios are against
stop-and-copy of the same run, and the restores are timed both ways."""

from __future__ import annotations

from pathlib import Path

from rtcr.bench.migration import BASELINE, MODES, migration_lines, run_migration


def test_every_mode_migrates_a_target_and_the_baseline_sends_the_image_once(
        tmp_path: Path) -> None:
    figures = run_migration([8], [100], tmp_path)
    (entry,) = figures["migrations"]
    assert set(entry["modes"]) == set(MODES)
    base = entry["modes"][BASELINE]
    assert base["rounds"] == 1 and base["downtime_ratio"] == 1.0
    assert base["sent_per_image"] >= 1.0  # random words: nothing shrinks them
    assert entry["modes"]["post-copy"]["rounds"] == 1
    assert entry["modes"]["pre-copy"]["rounds"] >= 2
    (restore,) = figures["restores"]
    assert restore["eager"]["complete_s"] > 0 and restore["lazy"]["complete_s"] > 0
    lines = migration_lines(figures)
    assert sum(line.startswith("| 8 MiB |") for line in lines) == len(MODES) + 1
