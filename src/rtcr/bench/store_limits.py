"""This machine's limits for the store's write path, measured on the pages being stored.

Writing a checkpoint hashes and compresses its pages (the native codec, on
every core this process may use), writes the new blobs to a pack and syncs
them. A store that overlaps the two is bound by the slower one: the codec
alone, into memory, or the disk writing and syncing exactly the codec's
output. Both are measured here, on the same pages and in the same run as
the store they are compared with; the store's figure is its ratio to the
tighter of them (`StoreLimits.limit_s`), so a store that beats the limit is
a limit that was measured wrong. The codec on one thread is measured beside,
for reference (what the store could reach before its codec used both cores).

The disk's figure is the faster of two ways to make those bytes durable:
one write and one data sync, or the store's batches written one after the
other with their writeback started at once (`native.start_writeback`) and
one data sync at the end.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

from rtcr.core import PAGE_SIZE
from rtcr.store import Compression
from rtcr.store.native import CODEC_THREADS, BlobIndex, encode, start_writeback
from rtcr.store.writer import BATCH_PAGES


@dataclass(frozen=True)
class StoreLimits:
    """Best-of-rounds seconds for storing ``pages`` pages, and the bytes they compress to."""

    pages: int
    codec_s: float  # hash + dedup + compress on every core, into memory
    codec_one_s: float  # the same on one thread
    disk_s: float  # write + data sync of the codec's output
    stored_bytes: int

    @property
    def limit_s(self) -> float:
        """The tighter limit: a store can at best overlap the codec and the disk."""
        return max(self.codec_s, self.disk_s)

    @classmethod
    def best(cls, runs: Sequence[StoreLimits]) -> StoreLimits:
        """The best of each limit over several measurements of the same pages."""
        return cls(runs[0].pages, min(r.codec_s for r in runs),
                   min(r.codec_one_s for r in runs), min(r.disk_s for r in runs),
                   runs[0].stored_bytes)

    def mb_s(self, seconds: float) -> float:
        """Page bytes per second, in MB/s, of storing these pages in ``seconds``."""
        return self.pages * PAGE_SIZE / seconds / 1e6


def _encode_all(base: int, npages: int, compression: Compression, threads: int
                ) -> tuple[float, bytearray]:
    """Seconds for the codec over every page (in the writer's batches), and its output."""
    index = BlobIndex()
    out = bytearray(BATCH_PAGES * PAGE_SIZE)
    stored = bytearray()
    seconds = 0.0
    try:
        for start in range(0, npages, BATCH_PAGES):
            n = min(BATCH_PAGES, npages - start)
            addrs = array("Q", range(start * PAGE_SIZE, (start + n) * PAGE_SIZE, PAGE_SIZE))
            begun = perf_counter()
            enc = encode(index, base, addrs, int(compression.codec), compression.level, 1,
                         len(stored), out, threads)
            seconds += perf_counter() - begun
            stored += enc.blob_bytes
            enc.blob_bytes.release()
    finally:
        index.close()
    return seconds, stored


def _write_and_sync(path: Path, data: bytearray, batched: bool) -> float:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        begun = perf_counter()
        step = BATCH_PAGES * PAGE_SIZE if batched else max(len(data), 1)
        with memoryview(data) as view:
            for at in range(0, len(data), step):
                chunk = view[at:at + step]
                os.pwrite(fd, chunk, at)
                if batched:
                    start_writeback(fd, at, len(chunk))
        os.fdatasync(fd)
        return perf_counter() - begun
    finally:
        os.close(fd)
        path.unlink()


def measure(base: int, npages: int, compression: Compression, scratch: Path,
            rounds: int = 2) -> StoreLimits:
    """The limits for storing the pages at ``base`` (contiguous), best of ``rounds``.

    ``scratch`` is a directory on the disk the store writes to.
    """
    runs = []
    for _ in range(rounds):
        codec, stored = _encode_all(base, npages, compression, CODEC_THREADS)
        one = _encode_all(base, npages, compression, 1)[0]
        disk = min(_write_and_sync(scratch / "limit.pack", stored, batched)
                   for batched in (False, True))
        runs.append(StoreLimits(npages, codec, one, disk, len(stored)))
    return StoreLimits.best(runs)
