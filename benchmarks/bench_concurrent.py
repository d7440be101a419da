"""The pause against dirty pages, stopped and concurrent, as ratios to this machine's limit.

A 64 MB target writes 1 % to 50 % of its pages per interval; one checkpoint
per interval. For each dirty fraction, in one run, medians over the
incremental checkpoints:

- for both: the *stop*, timed outside the runtime -- from unicorn returning
  at the end of the slice before a checkpoint to unicorn running the next
  one -- against which the runtime's own ``pause_us`` can be checked;
- stopped checkpoints: the pause and its parts (capturing the image,
  re-arming tracking, copying the pages), the copy per dirty page and the
  *limit* measured in the same run -- a native memcpy of the same number of
  dirty pages out of the machine's RAM into a warm buffer -- with the ratio
  copy / limit;
- concurrent (copy-on-write) checkpoints, at the long interval (`--spin`)
  and at a short one (`--short-spin`, shorter than a commit, where
  checkpoints are pipelined): the pause from the stop until the target runs
  again, split into its parts -- capture (the image), rearm (the bank
  swaps), plan (the copy's bookkeeping), resume (from the end of `take`
  until the target runs), off-CPU (the paused thread not running: waiting
  for the GIL or for a core), worker (CPU the commit worker used in the
  pause), waiting for staging memory -- and the ratio stop / limit (the
  memcpy of the same dirty pages: what a stopped pause could at best cost);
  the commit latency, the copy-on-write saves, the longest stop at a time
  slice boundary (re-arming the swapped-out maps happens there), the
  target's slowdown against running without checkpoints.

    .venv/bin/python benchmarks/bench_concurrent.py [--target-mb 64] [--rounds 8]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from unicorn import Uc

from rtcr.checkpoint import CheckpointStats, ConcurrentCheckpointer, Policy, Session
from rtcr.core import PAGE_SIZE
from rtcr.store import Store
from rtcr.store.native import address, gather
from rtcr.toolchain import compile_component

HERE = Path(__file__).parent
FRACTIONS = (10, 50, 100, 250, 500)  # per mille of pages dirty per interval
STOPPED_PARTS = ("capture", "rearm", "copy")
CONCURRENT_PARTS = ("capture", "rearm", "plan", "resume", "offcpu", "worker")


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


def timed_slices(checkpointer: ConcurrentCheckpointer) -> list[float]:
    """Make ``checkpointer.background`` record how long each slice boundary takes (s),
    once the first checkpoint committed (before, the new RAM's second map is armed)."""
    stops: list[float] = []
    background: Callable[[], list[CheckpointStats]] = checkpointer.background

    def timed() -> list[CheckpointStats]:
        started = time.perf_counter()
        try:
            return background()
        finally:
            if checkpointer.history:
                stops.append(time.perf_counter() - started)

    checkpointer.background = timed  # type: ignore[method-assign]
    return stops


@contextlib.contextmanager
def timed_stops(checkpointer: object) -> Iterator[list[float]]:
    """The stops of the target for ``checkpointer``'s checkpoints (s), timed at unicorn:
    from its return before a `take` to its next start."""
    stops: list[float] = []
    left = [0.0, 0.0]  # unicorn's last return; that of the take in progress (0: none)
    emu_start = Uc.emu_start
    take: Callable[[], bool] = checkpointer.take  # type: ignore[attr-defined]

    def timed_emu_start(uc: Uc, *args: Any, **kwargs: Any) -> None:
        if left[1]:
            stops.append(time.perf_counter() - left[1])
            left[1] = 0.0
        try:
            emu_start(uc, *args, **kwargs)
        finally:
            left[0] = time.perf_counter()

    def timed_take() -> bool:
        left[1] = left[0]
        return take()

    Uc.emu_start = timed_emu_start
    checkpointer.take = timed_take  # type: ignore[attr-defined]
    try:
        yield stops
    finally:
        Uc.emu_start = emu_start


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
    checkpointer = session.checkpointer
    slices = (timed_slices(checkpointer) if isinstance(checkpointer, ConcurrentCheckpointer)
              else [])
    with timed_stops(checkpointer) as stops:
        started = time.perf_counter()
        outcome = session.run(every=every)
        wall = time.perf_counter() - started
    later = outcome.checkpoints[1:]  # the first one is full; the rest are deltas
    dirty = statistics.median(c.dirty_pages for c in later)
    out = {f"{name}_ms": statistics.median((c.pause_parts or {}).get(f"{name}_us", 0)
                                           for c in later) / 1000
           for name in STOPPED_PARTS + CONCURRENT_PARTS}
    return {
        **out,
        "pause_ms": statistics.median(c.pause_us for c in later) / 1000,
        "wait_ms": statistics.median((c.wait_us or 0) for c in later) / 1000,
        "dirty": dirty,
        "commit_ms": statistics.median((c.commit_us or c.pause_us) for c in later) / 1000,
        "saves": checkpointer.saves if isinstance(checkpointer, ConcurrentCheckpointer) else 0,
        "slice_ms": max(slices, default=0.0) * 1000,
        "stop_ms": statistics.median(stops[1:len(later) + 1]) * 1000,
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
    parser.add_argument("--fractions", default=",".join(str(f) for f in FRACTIONS),
                        help="per mille of pages dirty per interval, comma-separated")
    args = parser.parse_args()
    fractions = [int(f) for f in args.fractions.split(",")]
    with tempfile.TemporaryDirectory(prefix="rtcr-bench-concurrent-") as tmp:
        work = Path(tmp)
        runs = []
        for permille in fractions:
            elf = build(work, args.target_mb, permille, args.rounds, args.spin)
            short = build(work, args.target_mb, permille, args.rounds, args.short_spin)
            runs.append((permille,
                         measure(elf, work, args.target_mb, args.rounds, None),
                         measure(elf, work, args.target_mb, args.rounds, Policy.WAIT),
                         measure(short, work, args.target_mb, args.rounds, Policy.WAIT)))
        print(f"target {args.target_mb} MB, {args.rounds} intervals, one checkpoint each; "
              "medians over the incremental checkpoints (ms unless said). stop = the target's "
              "stop, timed at unicorn (its return before the checkpoint to its next start); "
              "pause = the runtime's pause_us. Stopped pause = "
              "capture (the image) + rearm (tracking) + copy (the pages into staging) + the "
              "rest; limit = native memcpy of the same dirty pages, this run; "
              "ratio = copy / limit")
        header = (f"{'dirty':>6} {'pages':>6} {'stop':>7} {'pause':>7} {'capture':>7} {'rearm':>6} "
                  f"{'copy':>6} {'copy µs/p':>9} {'limit µs/p':>10} {'ratio':>6} "
                  f"{'faults':>7} {'slowdown':>8}")
        print(header)
        print("-" * len(header))
        for permille, stopped, _, _ in runs:
            per_page = stopped["copy_ms"] * 1000 / stopped["dirty"]
            limit = stopped["limit_us"] / stopped["dirty"]
            print(f"{permille / 10:>5.1f}% {stopped['dirty']:>6.0f} {stopped['stop_ms']:>7.2f} "
                  f"{stopped['pause_ms']:>7.2f} "
                  f"{stopped['capture_ms']:>7.3f} {stopped['rearm_ms']:>6.3f} "
                  f"{stopped['copy_ms']:>6.2f} {per_page:>9.2f} {limit:>10.2f} "
                  f"{per_page / limit:>6.1f} {stopped['faults']:>7.0f} "
                  f"{stopped['slowdown']:>8.2f}")
        print()
        print("Concurrent: pause = from the stop until the target runs again = capture + "
              "rearm (bank swaps) + plan (the copy's bookkeeping) + resume (end of take until "
              "the target runs) + staging wait + the rest; off-CPU = the paused thread not "
              "running (waiting for the GIL or a core); worker = CPU the commit worker used "
              "in the pause; ratio = stop / limit (memcpy of the same dirty pages); "
              "slice = longest stop at a time slice boundary (re-arming)")
        header = (f"{'dirty':>6} {'interval':>8} {'stop':>6} {'pause':>6} {'capture':>7} "
                  f"{'rearm':>6} {'plan':>6} {'resume':>6} {'off-CPU':>7} {'worker':>6} "
                  f"{'wait':>6} {'limit':>6} {'ratio':>6} {'commit':>7} {'saves':>6} {'slice':>6} "
                  f"{'faults':>7} {'slowdown':>8}")
        print(header)
        print("-" * len(header))
        for permille, _, long_run, short_run in runs:
            for label, run in (("long", long_run), ("short", short_run)):
                limit_ms = run["limit_us"] / 1000
                print(f"{permille / 10:>5.1f}% {label:>8} {run['stop_ms']:>6.3f} "
                      f"{run['pause_ms']:>6.3f} "
                      f"{run['capture_ms']:>7.3f} {run['rearm_ms']:>6.3f} "
                      f"{run['plan_ms']:>6.3f} {run['resume_ms']:>6.3f} "
                      f"{run['offcpu_ms']:>7.3f} {run['worker_ms']:>6.3f} "
                      f"{run['wait_ms']:>6.3f} {limit_ms:>6.3f} "
                      f"{run['stop_ms'] / limit_ms:>6.2f} {run['commit_ms']:>7.1f} "
                      f"{run['saves']:>6} {run['slice_ms']:>6.2f} {run['faults']:>7.0f} "
                      f"{run['slowdown']:>8.2f}")


if __name__ == "__main__":
    main()
