"""A 1 GiB component checkpoints and restores within a stated bound of extra resident
memory (docs/performance.md): staging budget + 48 MiB + 2 % of the target's RAM.

The bound is checked on the peak RSS of `rtcr` subprocesses, against the same
component run without a store: what checkpointing and restoring add.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

RAM = 1 << 30
BUDGET = 64 << 20
BOUND = BUDGET + (48 << 20) + RAM // 50

SOURCE = Path(__file__).parents[2] / "benchmarks" / "large_target.c"


def peak_rss(args: list[object], out: Path) -> tuple[int, str]:
    """Peak RSS of one `rtcr` process (its own, from wait4) and what it printed."""
    with open(out, "w") as stdout, open(out.with_suffix(".err"), "w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "rtcr", *map(str, args)],
                                stdout=stdout, stderr=stderr)
        _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, out.with_suffix(".err").read_text()
    return usage.ru_maxrss * 1024, out.read_text()


@pytest.mark.slow
def test_a_1_gib_target_checkpoints_and_restores_within_the_memory_bound(
        compile_c: Callable[[str, str], Path], tmp_path: Path) -> None:
    elf = compile_c("large_target", SOURCE.read_text())
    plain, expected = peak_rss(["run", elf, "--ram", "1G"], tmp_path / "plain.out")
    store = tmp_path / "store"
    checkpointed, out = peak_rss(["run", elf, "--ram", "1G", "--store", store,
                                   "--every", "500k", "--staging-budget", BUDGET],
                                  tmp_path / "run.out")
    assert out == expected
    restored, out = peak_rss(["restore", store, "--checkpoint", "2"], tmp_path / "restore.out")
    assert out == expected
    assert checkpointed - plain <= BOUND, (checkpointed - plain) >> 20
    assert restored - plain <= BOUND, (restored - plain) >> 20
