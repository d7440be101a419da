"""Pause time vs dirty pages: stopped vs concurrent (copy-on-write) checkpoints.

A 64 MB target writes 1 % to 50 % of its pages per interval; one checkpoint
per interval. For each dirty fraction, in one run: the median pause of
stopped ro-attach checkpoints and of concurrent ones (and how much of that
was waiting for the previous copy to commit), the ratio, the
copy-on-write saves (writes that hit a part still being copied), the extra
wall time the target needed compared with running without checkpoints, and
the time from pause to commit of concurrent checkpoints.

    .venv/bin/python benchmarks/bench_concurrent.py [--target-mb 64] [--rounds 8]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from rtcr.checkpoint import ConcurrentCheckpointer, Policy, Session
from rtcr.checkpoint.runtime import RamRecord
from rtcr.store import Store
from rtcr.toolchain import compile_component

HERE = Path(__file__).parent
FRACTIONS = (10, 50, 100, 250, 500)  # per mille of pages dirty per interval


def quiet(component: object, line: str) -> None:
    pass


def build(work: Path, target_mb: int, permille: int, rounds: int, spin: int) -> Path:
    return compile_component(
        [HERE / "concurrent_target.c"], work / f"target-{target_mb}-{permille}.elf",
        extra_flags=(f"-DTARGET_MB={target_mb}", f"-DDIRTY_PERMILLE={permille}",
                     f"-DROUNDS={rounds}", f"-DSPIN={spin}"))


def measure(elf: Path, work: Path, target_mb: int, rounds: int,
            policy: Policy | None) -> dict[str, float]:
    ram = (target_mb + 8) << 20
    baseline = Session.start(elf, ram_quota=ram, log_sink=quiet)
    started = time.perf_counter()
    result = baseline.run()
    plain_wall = time.perf_counter() - started
    every = result.instructions // (rounds + 1)
    store = Store.create(tempfile.mkdtemp(dir=work))
    session = Session.start(elf, ram_quota=ram, log_sink=quiet, store=store, concurrent=policy)
    saves = 0
    if isinstance(session.checkpointer, ConcurrentCheckpointer):
        checkpointer = session.checkpointer
        hook = session.runtime.before_upgrade
        assert hook is not None

        def counting(record: RamRecord, part: int) -> None:
            nonlocal saves
            copy = checkpointer._copy
            if copy is not None and part in copy.pending.get(record.oid, ()):
                saves += 1
            hook(record, part)

        session.runtime.before_upgrade = counting
    started = time.perf_counter()
    outcome = session.run(every=every)
    wall = time.perf_counter() - started
    later = outcome.checkpoints[1:]  # the first one is full; the rest are deltas
    return {
        "pause_ms": statistics.median(c.pause_us for c in later) / 1000,
        "wait_ms": statistics.median((c.wait_us or 0) for c in later) / 1000,
        "dirty": statistics.median(c.dirty_pages for c in later),
        "copy_ms": statistics.median((c.copy_us or c.pause_us) for c in later) / 1000,
        "checkpoints": len(outcome.checkpoints),
        "saves": saves,
        "slowdown": wall / plain_wall,
        "faults": outcome.faults["write"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target-mb", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--spin", type=int, default=20_000_000,
                        help="compute iterations per round (the interval must outlast a copy)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rtcr-bench-concurrent-") as tmp:
        work = Path(tmp)
        print(f"target {args.target_mb} MB, {args.rounds} intervals, one checkpoint each; "
              "medians over the incremental checkpoints")
        header = (f"{'dirty/interval':>14} {'pages':>6} {'stopped ms':>10} {'concurrent ms':>13} "
                  f"{'of it waiting':>13} "
                  f"{'ratio':>6} {'copy ms':>8} {'COW saves':>9} {'write faults s/c':>16} "
                  f"{'slowdown s/c':>13}")
        print(header)
        print("-" * len(header))
        for permille in FRACTIONS:
            elf = build(work, args.target_mb, permille, args.rounds, args.spin)
            stopped = measure(elf, work, args.target_mb, args.rounds, None)
            concurrent = measure(elf, work, args.target_mb, args.rounds, Policy.WAIT)
            print(f"{permille / 10:>13.1f}% {stopped['dirty']:>6.0f} "
                  f"{stopped['pause_ms']:>10.2f} {concurrent['pause_ms']:>13.3f} "
                  f"{concurrent['wait_ms']:>13.3f} "
                  f"{stopped['pause_ms'] / concurrent['pause_ms']:>6.0f} "
                  f"{concurrent['copy_ms']:>8.1f} {concurrent['saves']:>9} "
                  f"{stopped['faults']:>7.0f}/{concurrent['faults']:<8.0f} "
                  f"{stopped['slowdown']:>6.2f}/{concurrent['slowdown']:<6.2f}", flush=True)


if __name__ == "__main__":
    main()
