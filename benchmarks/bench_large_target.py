"""Resident memory of checkpointing and restoring a 1 GiB component.

Peak RSS (from wait4) of `rtcr run --ram 1G` without a store, with
checkpoints, and of `rtcr restore` of one of them, and the bound the
runtime promises for what checkpointing adds (docs/performance.md):
staging budget + 48 MiB + 2 % of the target's RAM.

    .venv/bin/python benchmarks/bench_large_target.py [--staging-budget 64M]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rtcr.toolchain import compile_component

HERE = Path(__file__).parent
RAM = 1 << 30


def peak_rss(args: list[str], out: Path) -> tuple[int, float, str]:
    started = time.perf_counter()
    with open(out, "w") as stdout:
        proc = subprocess.Popen([sys.executable, "-m", "rtcr", *args], stdout=stdout)
        _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"rtcr {' '.join(args)} exited {proc.returncode}")
    return usage.ru_maxrss * 1024, time.perf_counter() - started, out.read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--staging-budget", default="64M")
    parser.add_argument("--every", default="500k")
    args = parser.parse_args()
    budget = int(args.staging_budget.rstrip("M")) << 20
    bound = budget + (48 << 20) + RAM // 50
    with tempfile.TemporaryDirectory(prefix="rtcr-large-") as tmp:
        work = Path(tmp)
        elf = str(compile_component([HERE / "large_target.c"], work / "large.elf"))
        plain, t_plain, expected = peak_rss(["run", elf, "--ram", "1G"], work / "plain")
        store = str(work / "store")
        run, t_run, out = peak_rss(["run", elf, "--ram", "1G", "--store", store, "--every",
                                    args.every, "--staging-budget", args.staging_budget],
                                   work / "run")
        assert out == expected
        restored, t_restore, out = peak_rss(["restore", store, "--checkpoint", "2"],
                                            work / "restore")
        assert out == expected
    mib = 1 << 20
    print(f"target 1 GiB, staging budget {args.staging_budget}, checkpoint every {args.every}")
    print(f"{'run':<34} {'peak RSS MiB':>12} {'extra MiB':>10} {'bound MiB':>10} {'s':>7}")
    for name, rss, seconds in (("without a store", plain, t_plain),
                               ("with checkpoints", run, t_run),
                               ("restore of checkpoint 2, to the end", restored, t_restore)):
        extra = rss - plain
        print(f"{name:<34} {rss / mib:>12.1f} {extra / mib:>10.1f} {bound / mib:>10.1f} "
              f"{seconds:>7.1f}")


if __name__ == "__main__":
    main()
