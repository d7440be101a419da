"""Live migration: pre-copy and post-copy against stop-and-copy, and lazy against eager restore.

The figures of `rtcr bench`'s migration section (`rtcr.bench.migration`,
which says how they are measured), for any sizes: per target size and
fraction of its pages written per interval, each mode's rounds, downtime,
total time and bytes sent per image byte, with the downtime and total
time as ratios to stop-and-copy's of the same run; then, per size, the
time to the first restored instruction and to the end of the run with
every page back, eager and lazy.

    .venv/bin/python benchmarks/bench_migrate.py [--sizes 64,1024] [--fractions 10,100,500]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from rtcr.bench.migration import FRACTIONS, migration_lines, run_migration


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name")), platform.processor())
    except OSError:
        return platform.processor()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="64", help="target sizes in MiB, e.g. 64,1024")
    parser.add_argument("--fractions", default=",".join(map(str, FRACTIONS)),
                        help="per mille of the pages written per interval")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    fractions = [int(p) for p in args.fractions.split(",")]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-migrate-") as tmp:
        figures = run_migration(sizes, fractions, Path(tmp),
                                lambda what: print(f"# {what}", flush=True))
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.platform()}, "
          f"{os.cpu_count()} CPUs ({_cpu_model()}), {time.perf_counter() - started:.0f} s")
    print("\n".join(migration_lines(figures)))


if __name__ == "__main__":
    main()
