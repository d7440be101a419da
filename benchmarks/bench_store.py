#!/usr/bin/env python3
"""Throughput of the checkpoint store, as a ratio to this machine's limit.

Writes one checkpoint per workload (random, program-like and duplicate
pages) through the bulk writer (`put_pages`, what the checkpointer uses)
and through `put_page` one page at a time, restores it with one native
scatter per object (`Checkpoint.scatter`: read, decompress, verify), and
measures in the same run the *limit* for the same pages: the native codec
alone (hash + compress into memory) plus one write and one data sync of
its output to a file. Prints MB/s, the ratio store / limit, the restore
time per MB, compression and dedup.

    python benchmarks/bench_store.py [--pages N] [--dir DIR] [--compress lz4]
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

from rtcr.store import PAGE_SIZE, Compression, Store
from rtcr.store.native import BlobIndex, address, encode

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


def limit(data: bytearray, npages: int, compression: Compression, path: Path
          ) -> tuple[float, float]:
    """Seconds for the native codec alone, and with one write and data sync of its output."""
    index = BlobIndex()
    out = bytearray(1024 * PAGE_SIZE)
    coding = 0.0
    started = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        offset = 0
        for start in range(0, npages, 1024):
            n = min(1024, npages - start)
            addrs = array("Q", range(start * PAGE_SIZE, (start + n) * PAGE_SIZE, PAGE_SIZE))
            begun = time.perf_counter()
            enc = encode(index, address(data), addrs, int(compression.codec), compression.level,
                         1, offset, out)
            coding += time.perf_counter() - begun
            os.pwrite(fd, enc.blob_bytes, offset)
            offset += len(enc.blob_bytes)
            enc.blob_bytes.release()
        os.fdatasync(fd)
    finally:
        os.close(fd)
    index.close()
    return coding, time.perf_counter() - started


def run(root: Path, name: str, npages: int, compression: Compression) -> dict[str, float]:
    make = WORKLOADS[name](npages)
    data = bytearray(b"".join(make(i) for i in range(npages)))  # not part of the timing
    raw = npages * PAGE_SIZE
    limits = [limit(data, npages, compression, root / f"{name}.limit") for _ in range(2)]
    t_codec = min(t for t, _ in limits)
    t_limit = min(t for _, t in limits)
    path = root / name
    store = Store.create(path)
    store.compression = compression
    indices = array("I", range(npages))
    addrs = array("Q", range(0, raw, PAGE_SIZE))
    t0 = time.perf_counter()
    with store.begin() as w:
        w.declare("ds:bench", npages)
        w.put_pages("ds:bench", indices, address(data), addrs)
        cid = w.commit({"workload": name}, dirty_pages=npages)
    t_bulk = time.perf_counter() - t0
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
        "write": raw / t_bulk / MB,
        "limit": raw / t_limit / MB,
        "codec": raw / t_codec / MB,
        "single": raw / t_single / MB,
        "restore_ms_per_mb": t_read * 1e3 / (raw / MB),
        "compression": stats.compression_ratio or 0.0,
        "dedup": (stats.dedup_ratio or 0.0) / 2,  # (the second checkpoint doubles every entry)
        "stored": stats.pack_bytes / MB,
        "raw": raw / MB,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=20_000, help="pages per workload")
    ap.add_argument("--dir", type=Path, default=None, help="where to write (default: tmp)")
    ap.add_argument("--compress", default="lz4", help="none, lz4 or zstd:LEVEL")
    args = ap.parse_args()
    compression = Compression.parse(args.compress)
    root = Path(tempfile.mkdtemp(prefix="rtcr-bench-", dir=args.dir))
    try:
        results = {name: run(root, name, args.pages, compression) for name in WORKLOADS}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    table = Table(title=f"rtcr store: {args.pages:,} pages of 4 KiB per workload, "
                        f"compression {compression}")
    for col in ("workload", "write MB/s", "limit MB/s", "write / limit", "codec MB/s",
                "put_page MB/s",
                "restore ms/MB", "stored MB", "compression", "dedup"):
        table.add_column(col, justify="left" if col == "workload" else "right")
    for name, r in results.items():
        table.add_row(name, f"{r['write']:.0f}", f"{r['limit']:.0f}",
                      f"{r['write'] / r['limit']:.2f}", f"{r['codec']:.0f}",
                      f"{r['single']:.0f}",
                      f"{r['restore_ms_per_mb']:.2f}", f"{r['stored']:.2f}",
                      f"{r['compression']:.2f}×", f"{r['dedup']:.1f}×")
    Console(width=160).print(table)
    print("limit = the native codec (hash + compress) and one write + data sync of its output, "
          "for the same pages, in this run; codec = the native codec alone (no disk); "
          "write = the store's bulk writer with its commit; "
          "put_page = one call per page (deduplicated against the first write); restore = "
          "load + one native scatter (read, decompress, verify); compression = unique pages' "
          "raw size / stored size; dedup = non-zero page entries / unique blobs")


if __name__ == "__main__":
    main()
