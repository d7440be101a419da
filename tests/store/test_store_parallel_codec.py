"""The codec's two threads: a batch encodes to the same bytes however many threads it uses."""

from __future__ import annotations

import os
import random
from array import array
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_helpers import ZERO, text_page

from rtcr.store import PAGE_SIZE, Compression
from rtcr.store.native import BlobIndex, PageTable, address, decode, encode

# A page of a batch: zero, random (incompressible), text (compressible) or a mix,
# from small pools so that batches repeat pages (within themselves and across).
PAGE_KINDS = st.one_of(
    st.just(("zero", 0)),
    st.tuples(st.sampled_from(["random", "text", "mixed"]), st.integers(0, 300)),
)


def make_page(kind: str, seed: int) -> bytes:
    if kind == "zero":
        return ZERO
    noise = random.Random(seed).randbytes(PAGE_SIZE)
    if kind == "random":
        return noise
    text = text_page(seed)
    return text if kind == "text" else text[:PAGE_SIZE // 2] + noise[PAGE_SIZE // 2:]


PACK = 7


def encode_all(batches: list[bytes], threads: int, compression: Compression
               ) -> tuple[list[tuple[bytes, bytes, bytes, int]], BlobIndex]:
    """Encode the batches one after the other into one fresh index, as one writer does."""
    index = BlobIndex()
    results = []
    offset = 0
    for data in batches:
        n = len(data) // PAGE_SIZE
        out = bytearray(max(n, 1) * PAGE_SIZE)
        enc = encode(index, address(data), array("Q", range(0, n * PAGE_SIZE, PAGE_SIZE)),
                     int(compression.codec), compression.level, PACK, offset, out, threads)
        results.append((enc.hashes, enc.locations, bytes(enc.blob_bytes), enc.blobs))
        offset += enc.blob_bytes.nbytes
        enc.blob_bytes.release()
    return results, index


def decoded(blob_bytes: bytes, table: PageTable, scratch: Path) -> bytes:
    """The pages ``table`` reads from a pack holding ``blob_bytes``."""
    n = len(table)
    pack = scratch / "pack"
    pack.write_bytes(blob_bytes)
    out = bytearray(n * PAGE_SIZE)
    fd = os.open(pack, os.O_RDONLY)
    try:
        done, problem = decode([(PACK, fd, len(blob_bytes))], table, address(out),
                               array("Q", range(0, n * PAGE_SIZE, PAGE_SIZE)))
    finally:
        os.close(fd)
    assert (done, problem) == (n, None)
    return bytes(out)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(batches=st.tuples(st.lists(PAGE_KINDS, min_size=100, max_size=300),  # (both threads)
                         st.lists(st.lists(PAGE_KINDS, max_size=300), max_size=2))
       .map(lambda batches: [batches[0], *batches[1]]),
       compression=st.sampled_from(["lz4", "none", "zstd:1"]))
def test_two_threads_give_the_blobs_places_and_index_of_one(
        batches: list[list[tuple[str, int]]], compression: str, tmp_path: Path) -> None:
    chosen = Compression.parse(compression)
    data = [b"".join(make_page(kind, seed) for kind, seed in batch) for batch in batches]
    serial, serial_index = encode_all(data, 1, chosen)
    parallel, parallel_index = encode_all(data, 2, chosen)
    assert parallel == serial
    assert len(parallel_index) == len(serial_index)
    pack = b"".join(blob_bytes for _hashes, _locations, blob_bytes, _blobs in parallel)
    for (hashes, locations, _blob_bytes, _blobs), pages in zip(parallel, data, strict=True):
        indices = array("I", range(len(pages) // PAGE_SIZE)).tobytes()
        assert decoded(pack, PageTable(indices, hashes, locations), tmp_path) == pages
    # The same pages again find the same blobs at the same places in both indexes.
    again = data[0]
    n = len(again) // PAGE_SIZE
    addrs = array("Q", range(0, n * PAGE_SIZE, PAGE_SIZE))
    out = bytearray(max(n, 1) * PAGE_SIZE)
    looked_up = [encode(index, address(again), addrs, int(chosen.codec), chosen.level, 8, 0,
                        out, 1).locations for index in (serial_index, parallel_index)]
    assert looked_up[0] == looked_up[1]
    for index in (serial_index, parallel_index):
        index.close()


def test_a_page_repeated_across_the_halves_of_a_batch_is_stored_once() -> None:
    page = make_page("mixed", 1)
    others = [make_page("random", seed) for seed in range(200)]
    data = b"".join([page, *others, page])  # first and last page: one in each half
    [(_hashes, locations, blob_bytes, blobs)], index = encode_all([data], 2, Compression())
    locs = array("I", locations)
    assert blobs == 201
    assert locs[:4] == locs[-4:]
    assert len(blob_bytes) == sum(locs[4 * i + 2] for i in range(201))
    index.close()
