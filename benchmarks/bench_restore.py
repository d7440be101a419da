"""Restore of a whole target against the store's decode of the same pages, per MB.

A target (concurrent_target.c) writes every page of its RAM object and is
checkpointed there. Each round then measures, alternately: the *limit* --
the checkpoint loaded and every memory object scattered into fresh host
memory (private anonymous, as the machine's RAM) by the store's one native
call per object (read, decompress, verify, and the first touch of memory
that was never used, which on a VM costs more than the decode) -- and ``Session.resume`` of the same
checkpoint (the machine, the runtime, every object and region, the
threads, tracking). Printed: ms per MB of the image's pages for both, per
round, and restore / limit. The rounds are alternated so that a machine
whose load changes sees both under the same load.

    .venv/bin/python benchmarks/bench_restore.py [--size 64] [--rounds 5]
"""

from __future__ import annotations

import argparse
import mmap
import statistics
import tempfile
import time
from array import array
from pathlib import Path

from bench_lazy import Lines, build, checkpoint_after_round_one
from rtcr.checkpoint import Session
from rtcr.core import PAGE_SIZE
from rtcr.store import Checkpoint, Store
from rtcr.store.native import address

MB = 1 << 20


def decode_limit(checkpoint: Checkpoint) -> float:
    """Seconds to scatter every memory object of ``checkpoint`` into fresh memory."""
    objects = checkpoint.objects()
    memory = mmap.mmap(-1, max(1, sum(objects.values())) * PAGE_SIZE,
                       flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)  # as the machine's RAM
    base, at = address(memory), 0
    started = time.perf_counter()
    for key, pages in objects.items():
        checkpoint.scatter(key, base, array("Q", range(at, at + pages * PAGE_SIZE, PAGE_SIZE)),
                           zeroed=True)
        at += pages * PAGE_SIZE
    seconds = time.perf_counter() - started
    memory.close()
    return seconds


def restore(store: Store, cid: int) -> float:
    """Seconds of ``Session.resume`` of checkpoint ``cid`` (no checkpoints afterwards)."""
    started = time.perf_counter()
    session = Session.resume(store, cid, log_sink=Lines(), checkpoint=False)
    seconds = time.perf_counter() - started
    del session
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=64, help="target RAM object in MiB")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rtcr-restore-") as tmp:
        work = Path(tmp)
        elf = build(work, args.size, 100)
        with Store.create(work / "store") as store:
            cid = checkpoint_after_round_one(elf, store, (args.size + 16) << 20)
            checkpoint = store.load(cid)
            mb = sum(checkpoint.objects().values()) * PAGE_SIZE / MB
            print(f"{args.size} MiB target, {mb:.1f} MB of pages in the image")
            print(f"{'round':>5} {'limit ms/MB':>12} {'restore ms/MB':>14} {'restore / limit':>16}")
            ratios, limits, restores = [], [], []
            for n in range(args.rounds):
                limit = decode_limit(store.load(cid)) * 1e3 / mb
                took = restore(store, cid) * 1e3 / mb
                limits.append(limit)
                restores.append(took)
                ratios.append(took / limit)
                print(f"{n + 1:>5} {limit:>12.2f} {took:>14.2f} {took / limit:>16.2f}")
            print(f"{'best':>5} {min(limits):>12.2f} {min(restores):>14.2f} "
                  f"{min(restores) / min(limits):>16.2f}")
            print(f"{'med.':>5} {statistics.median(limits):>12.2f} "
                  f"{statistics.median(restores):>14.2f} {statistics.median(ratios):>16.2f}")


if __name__ == "__main__":
    main()
