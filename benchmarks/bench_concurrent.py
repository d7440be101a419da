"""The pause against dirty pages, stopped and concurrent, as ratios to this machine's limit.

A 64 MB target writes 1 % to 50 % of its pages per interval; one checkpoint
per interval. For each dirty fraction, in one run:

- stopped checkpoints: the median pause and its parts (capturing the
  image, re-arming tracking, copying the pages), the copy per dirty page and
  the *limit* measured in the same run -- a native memcpy of the same number
  of dirty pages out of the machine's RAM into a warm buffer -- with the
  ratio copy / limit;
- concurrent (copy-on-write) checkpoints: the median pause and how much of
  it was waiting for staging memory, at the long interval (`--spin`) and at
  a short one (`--short-spin`, shorter than a commit), where checkpoints
  are pipelined; the commit latency (pause start to durable commit); the
  copy-on-write saves; the target's slowdown against running without
  checkpoints.

    .venv/bin/python benchmarks/bench_concurrent.py [--target-mb 64] [--rounds 8]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from array import array
from pathlib import Path

from rtcr.checkpoint import ConcurrentCheckpointer, Policy, Session
from rtcr.checkpoint.runtime import RamRecord
from rtcr.core import PAGE_SIZE
from rtcr.store import Store
from rtcr.store.native import address, gather
from rtcr.toolchain import compile_component

HERE = Path(__file__).parent
FRACTIONS = (10, 50, 100, 250, 500)  # per mille of pages dirty per interval


def quiet(component: object, line: str) -> None:
    pass


def build(work: Path, target_mb: int, permille: int, rounds: int, spin: int) -> Path:
    return compile_component(
        [HERE / "concurrent_target.c"], work / f"target-{target_mb}-{permille}-{spin}.elf",
        extra_flags=(f"-DTARGET_MB={target_mb}", f"-DDIRTY_PERMILLE={permille}",
                     f"-DROUNDS={rounds}", f"-DSPIN={spin}"))


def memcpy_limit_us(session: Session, pages: int) -> float:
    """Microseconds to copy ``pages`` pages of the session's RAM into a warm buffer."""
    ram = next(r.tracked.ram for r in session.runtime.ram_records()
               if r.tracked.ram is not None and r.size >= pages * PAGE_SIZE)
    assert ram is not None
    addrs = array("Q", (ram.frame(i) for i in range(pages)))
    buffer = bytearray(pages * PAGE_SIZE)
    base = address(session.machine.core.ram.buffer)
    gather(base, addrs, address(buffer))  # warm up both sides
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        gather(base, addrs, address(buffer))
        best = min(best, time.perf_counter() - started)
    return best * 1e6


def measure(elf: Path, work: Path, target_mb: int, rounds: int,
            policy: Policy | None) -> dict[str, float]:
    ram = (target_mb + 8) << 20
    baseline = Session.start(elf, ram_quota=ram, log_sink=quiet)
    started = time.perf_counter()
    result = baseline.run()
    plain_wall = time.perf_counter() - started
    every = result.instructions // (rounds + 1)
    store = Store.create(tempfile.mkdtemp(dir=work) + "/store")
    session = Session.start(elf, ram_quota=ram, log_sink=quiet, store=store, concurrent=policy)
    saves = 0
    if isinstance(session.checkpointer, ConcurrentCheckpointer):
        checkpointer = session.checkpointer
        hook = session.runtime.before_upgrade
        assert hook is not None

        def counting(record: RamRecord, part: int) -> None:
            nonlocal saves
            if part in checkpointer.pending(record.oid):
                saves += 1
            hook(record, part)

        session.runtime.before_upgrade = counting
    started = time.perf_counter()
    outcome = session.run(every=every)
    wall = time.perf_counter() - started
    later = outcome.checkpoints[1:]  # the first one is full; the rest are deltas
    dirty = statistics.median(c.dirty_pages for c in later)

    def part(name: str) -> float:
        return statistics.median((c.pause_parts or {}).get(name, 0) for c in later) / 1000

    return {
        "capture_ms": part("capture_us"),
        "rearm_ms": part("rearm_us"),
        "copy_ms": part("copy_us"),
        "pause_ms": statistics.median(c.pause_us for c in later) / 1000,
        "wait_ms": statistics.median((c.wait_us or 0) for c in later) / 1000,
        "dirty": dirty,
        "commit_ms": statistics.median((c.commit_us or c.pause_us) for c in later) / 1000,
        "checkpoints": len(outcome.checkpoints),
        "saves": saves,
        "slowdown": wall / plain_wall,
        "faults": outcome.faults["write"],
        "limit_us": memcpy_limit_us(session, int(dirty)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target-mb", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--spin", type=int, default=20_000_000,
                        help="compute iterations per round (long intervals)")
    parser.add_argument("--short-spin", type=int, default=1_000_000,
                        help="compute iterations per round of the short-interval runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rtcr-bench-concurrent-") as tmp:
        work = Path(tmp)
        print(f"target {args.target_mb} MB, {args.rounds} intervals, one checkpoint each; "
              "medians over the incremental checkpoints. Stopped pause = capture (the image) + "
              "rearm (tracking) + copy (the pages into staging) + the rest; limit = native "
              "memcpy of the same dirty pages, this run; ratio = copy / limit. Concurrent: "
              "pause and the part of it waiting for staging memory, at long intervals and at "
              "short ones (shorter than a commit)")
        header = (f"{'dirty':>6} {'pages':>6} {'stopped ms':>10} {'capture':>7} {'rearm':>7} "
                  f"{'copy':>6} {'copy µs/p':>9} {'limit µs/p':>10} {'ratio':>6} "
                  f"{'conc. ms':>8} {'waiting':>8} "
                  f"{'short ms':>8} {'waiting':>8} {'commit ms':>9} {'COW saves':>9} "
                  f"{'faults s/c':>12} {'slowdown s/c':>12}")
        print(header)
        print("-" * len(header))
        for permille in FRACTIONS:
            elf = build(work, args.target_mb, permille, args.rounds, args.spin)
            short = build(work, args.target_mb, permille, args.rounds, args.short_spin)
            stopped = measure(elf, work, args.target_mb, args.rounds, None)
            concurrent = measure(elf, work, args.target_mb, args.rounds, Policy.WAIT)
            fast = measure(short, work, args.target_mb, args.rounds, Policy.WAIT)
            per_page = stopped["copy_ms"] * 1000 / stopped["dirty"]
            limit = stopped["limit_us"] / stopped["dirty"]
            print(f"{permille / 10:>5.1f}% {stopped['dirty']:>6.0f} "
                  f"{stopped['pause_ms']:>10.2f} {stopped['capture_ms']:>7.2f} "
                  f"{stopped['rearm_ms']:>7.2f} {stopped['copy_ms']:>6.2f} {per_page:>9.2f} "
                  f"{limit:>10.2f} {per_page / limit:>6.1f} {concurrent['pause_ms']:>8.3f} "
                  f"{concurrent['wait_ms']:>8.3f} {fast['pause_ms']:>8.3f} "
                  f"{fast['wait_ms']:>8.3f} {concurrent['commit_ms']:>9.1f} "
                  f"{concurrent['saves']:>9} "
                  f"{stopped['faults']:>6.0f}/{concurrent['faults']:<6.0f}"
                  f"{stopped['slowdown']:>6.2f}/{concurrent['slowdown']:<6.2f}", flush=True)


if __name__ == "__main__":
    main()
