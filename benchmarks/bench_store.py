#!/usr/bin/env python3
"""Throughput of the checkpoint store, as a ratio to this machine's limit.

Writes one checkpoint per workload (random, program-like and duplicate
pages) through the bulk writer (`put_pages`, what the checkpointer uses)
and through `put_page` one page at a time, restores it with one native
scatter per object (`Checkpoint.scatter`: read, decompress, verify), and
measures in the same run this machine's *limits* for the same pages
(`rtcr.bench.store_limits`): the native codec alone (hash + compress into
memory, on every core) and the disk's write and data sync of its output;
the store's ratio is to the tighter of them. Prints MB/s, the ratio store
/ limit, the restore time per MB, compression and dedup; with ``--tmpfs``
once more on /dev/shm, where there is no disk to wait for.

    python benchmarks/bench_store.py [--pages N] [--dir DIR] [--tmpfs] [--compress lz4]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from array import array
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rtcr.bench import store_limits
from rtcr.store import PAGE_SIZE, Compression, Store
from rtcr.store.native import CODEC_THREADS, address

MB = 1e6
TMPFS = Path("/dev/shm")


def random_pages(n: int) -> Callable[[int], bytes]:
    pool = [os.urandom(PAGE_SIZE) for _ in range(min(n, 4096))]

    def page(i: int) -> bytes:
        # unique and incompressible: a pool page with the index stamped in
        return i.to_bytes(8, "little") + pool[i % len(pool)][8:]
    return page


def compressible_pages(n: int) -> Callable[[int], bytes]:
    rng = random.Random(1)
    words = [rng.randbytes(rng.randrange(2, 12)).hex() for _ in range(512)]

    def page(i: int) -> bytes:
        # program-like memory: a few distinct words, small integers, zero runs
        r = random.Random(i)
        parts: list[bytes] = [i.to_bytes(8, "little")]
        size = 8
        while size < PAGE_SIZE:
            kind = r.random()
            if kind < 0.4:
                chunk = words[r.randrange(len(words))].encode()
            elif kind < 0.7:
                chunk = r.randrange(1000).to_bytes(8, "little")
            else:
                chunk = bytes(r.randrange(8, 64))
            parts.append(chunk)
            size += len(chunk)
        return b"".join(parts)[:PAGE_SIZE]
    return page


def sparse_pages(n: int) -> Callable[[int], bytes]:
    program = compressible_pages(n)
    return lambda i: program(i) if i % 8 == 0 else bytes(PAGE_SIZE)  # mostly untouched RAM


def duplicate_pages(n: int) -> Callable[[int], bytes]:
    pool = [os.urandom(PAGE_SIZE) for _ in range(16)]
    return lambda i: pool[i % len(pool)]


WORKLOADS: dict[str, Callable[[int], Callable[[int], bytes]]] = {
    "random": random_pages,
    "program-like": compressible_pages,
    "sparse": sparse_pages,
    "duplicate": duplicate_pages,
}


def run(root: Path, name: str, npages: int, compression: Compression,
        rounds: int) -> dict[str, float]:
    make = WORKLOADS[name](npages)
    data = bytearray(b"".join(make(i) for i in range(npages)))  # not part of the timing
    raw = npages * PAGE_SIZE
    indices = array("I", range(npages))
    addrs = array("Q", range(0, raw, PAGE_SIZE))
    path = root / name
    writes, runs = [], []
    for _ in range(rounds):  # limits and store in turn: both see the machine's load alike
        runs.append(store_limits.measure(address(data), npages, compression, root, 1))
        shutil.rmtree(path, ignore_errors=True)  # a new store: nothing to deduplicate against
        store = Store.create(path)
        store.compression = compression
        t0 = time.perf_counter()
        with store.begin() as w:
            w.declare("ds:bench", npages)
            w.put_pages("ds:bench", indices, address(data), addrs)
            cid = w.commit({"workload": name}, dirty_pages=npages)
        writes.append(time.perf_counter() - t0)
        store.close()
    limits = store_limits.StoreLimits.best(runs)
    store = Store.open(path)
    t0 = time.perf_counter()
    with store.begin() as w:  # the same pages again, one call per page (all deduplicated)
        w.declare("ds:bench", npages, fresh=True)
        view = memoryview(data)
        for i in range(npages):
            w.put_page("ds:bench", i, view[i * PAGE_SIZE:(i + 1) * PAGE_SIZE])
        w.commit({"workload": name}, dirty_pages=npages)
    t_single = time.perf_counter() - t0
    target = bytearray(raw)
    t0 = time.perf_counter()
    cp = store.load(cid)
    cp.scatter("ds:bench", address(target), addrs)
    t_read = time.perf_counter() - t0
    assert target == data
    stats = store.stats()
    store.close()
    shutil.rmtree(path)
    return {
        "write": limits.mb_s(min(writes)),
        "codec": limits.mb_s(limits.codec_s),
        "codec_one": limits.mb_s(limits.codec_one_s),
        "disk": limits.mb_s(limits.disk_s),
        "limit": limits.mb_s(limits.limit_s),
        "single": raw / t_single / MB,
        "restore_ms_per_mb": t_read * 1e3 / (raw / MB),
        "compression": stats.compression_ratio or 0.0,
        "dedup": (stats.dedup_ratio or 0.0) / 2,  # (the second checkpoint doubles every entry)
        "stored": stats.pack_bytes / MB,
        "raw": raw / MB,
    }


def table(title: str, results: dict[str, dict[str, float]]) -> Table:
    out = Table(title=title)
    for col in ("workload", "write MB/s", "limit MB/s", "write / limit", "codec MB/s",
                "disk MB/s", "codec 1 thread", "put_page MB/s", "restore ms/MB", "stored MB",
                "compression", "dedup"):
        out.add_column(col, justify="left" if col == "workload" else "right")
    for name, r in results.items():
        out.add_row(name, f"{r['write']:.0f}", f"{r['limit']:.0f}",
                    f"{r['write'] / r['limit']:.2f}", f"{r['codec']:.0f}", f"{r['disk']:.0f}",
                    f"{r['codec_one']:.0f}", f"{r['single']:.0f}",
                    f"{r['restore_ms_per_mb']:.2f}", f"{r['stored']:.2f}",
                    f"{r['compression']:.2f}×", f"{r['dedup']:.1f}×")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=20_000, help="pages per workload")
    ap.add_argument("--dir", type=Path, default=None, help="where to write (default: tmp)")
    ap.add_argument("--tmpfs", action="store_true",
                    help=f"also write to {TMPFS} (memory: no disk to wait for)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="best of this many writes and limit measurements, in turn")
    ap.add_argument("--compress", default="lz4", help="none, lz4 or zstd:LEVEL")
    args = ap.parse_args()
    compression = Compression.parse(args.compress)
    places = [("disk", args.dir)] + ([("tmpfs", TMPFS)] if args.tmpfs else [])
    console = Console(width=170)
    for place, directory in places:
        root = Path(tempfile.mkdtemp(prefix="rtcr-bench-", dir=directory))
        try:
            results = {name: run(root, name, args.pages, compression, args.rounds)
                       for name in WORKLOADS}
        finally:
            shutil.rmtree(root, ignore_errors=True)
        console.print(table(f"rtcr store on {place} ({root.parent}): {args.pages:,} pages of "
                            f"4 KiB per workload, compression {compression}, "
                            f"{CODEC_THREADS} codec threads", results))
    print("limit = the tighter of codec and disk, for the same pages, in this run "
          "(rtcr.bench.store_limits); codec = the native codec (hash + dedup + compress) "
          "alone, into memory, on every core; disk = write + data sync of the codec's output; "
          "codec 1 thread = the codec on one thread; "
          "write = the store's bulk writer with its commit; limits and write: best of "
          "--rounds, measured in turn; "
          "put_page = one call per page (deduplicated against the first write); restore = "
          "load + one native scatter (read, decompress, verify); compression = unique pages' "
          "raw size / stored size; dedup = non-zero page entries / unique blobs; all MB/s are "
          "of page bytes")


if __name__ == "__main__":
    main()
