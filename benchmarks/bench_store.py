#!/usr/bin/env python3
"""Throughput of the checkpoint store.

Writes one checkpoint per workload (random, compressible and duplicate
pages), then reads it back through ``Checkpoint.pages`` (decompress + hash
verify), and prints MB/s, compression ratio and dedup ratio.

    python benchmarks/bench_store.py [--pages N] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rtcr.store import PAGE_SIZE, Store

MB = 1e6


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


def duplicate_pages(n: int) -> Callable[[int], bytes]:
    pool = [os.urandom(PAGE_SIZE) for _ in range(16)]
    return lambda i: pool[i % len(pool)]


WORKLOADS: dict[str, Callable[[int], Callable[[int], bytes]]] = {
    "random": random_pages,
    "compressible": compressible_pages,
    "duplicate": duplicate_pages,
}


def run(root: Path, name: str, npages: int) -> dict[str, float]:
    make = WORKLOADS[name](npages)
    data = [make(i) for i in range(npages)]  # generated up front: not part of the timing
    path = root / name
    store = Store.create(path)
    t0 = time.perf_counter()
    with store.begin() as w:
        w.declare("ds:bench", npages)
        for i, page in enumerate(data):
            w.put_page("ds:bench", i, page)
        cid = w.commit({"workload": name}, dirty_pages=npages)
    t_write = time.perf_counter() - t0
    raw = npages * PAGE_SIZE
    t0 = time.perf_counter()
    cp = store.load(cid)
    count = 0
    for _i, page in cp.pages("ds:bench"):
        count += len(page)
    t_read = time.perf_counter() - t0
    assert count == raw
    stats = store.stats()
    store.close()
    shutil.rmtree(path)
    return {
        "write": raw / t_write / MB,
        "read": raw / t_read / MB,
        "compression": stats.compression_ratio or 0.0,
        "dedup": stats.dedup_ratio or 0.0,
        "stored": stats.pack_bytes / MB,
        "raw": raw / MB,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=20_000, help="pages per workload")
    ap.add_argument("--dir", type=Path, default=None, help="where to write (default: tmp)")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="rtcr-bench-", dir=args.dir))
    try:
        results = {name: run(root, name, args.pages) for name in WORKLOADS}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    table = Table(title=f"rtcr store: {args.pages:,} pages of 4 KiB per workload")
    for col in ("workload", "write MB/s", "restore MB/s", "raw MB", "stored MB",
                "compression", "dedup"):
        table.add_column(col, justify="left" if col == "workload" else "right")
    for name, r in results.items():
        table.add_row(name, f"{r['write']:.1f}", f"{r['read']:.1f}", f"{r['raw']:.1f}",
                      f"{r['stored']:.2f}", f"{r['compression']:.2f}×", f"{r['dedup']:.1f}×")
    Console(width=110).print(table)
    print("compression = unique pages' raw size / their stored size; "
          "dedup = non-zero page entries / unique blobs")


if __name__ == "__main__":
    main()
