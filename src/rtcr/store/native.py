"""The store's native page codec (`pagecodec.c`), built on first use and bound with ctypes.

Every call works on a whole batch of pages and runs without the GIL (ctypes
releases it for the duration of a foreign call), so hashing, compressing and
verifying never hold up the target's thread. The C source is compiled with
the same compiler and cache as the machine's helpers
(`rtcr.compilers.build_shared_library`). Hashing and compression come from the
system's libxxhash, liblz4 and libzstd, which are loaded here first, with
their symbols global, so that the codec resolves against them.

Tables cross the boundary as little-endian packed arrays (`PageTable`):
indices u32, digests 16 bytes, locations four u32 (pack, offset, length,
codec).
"""

from __future__ import annotations

import ctypes
import mmap
import os
import subprocess
import sys
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rtcr.compilers import build_shared_library
from rtcr.core import PAGE_SIZE
from rtcr.errors import RtcrError, ToolchainError

if sys.byteorder != "little":  # packed tables are stored as the machine lays them out
    raise ImportError("the rtcr store needs a little-endian host")

_SYSTEM_LIBRARIES = ("libxxhash.so.0", "liblz4.so.1", "libzstd.so.1")
_SOURCE = Path(__file__).with_name("pagecodec.c")

DIGEST_SIZE = 16
LOCATION_SIZE = 16

# Threads `encode` hashes and compresses on by default: every core this process may
# run on. A commit runs after the pause, beside the target: while it encodes, the
# target shares its core with the codec's second half (the kernel's scheduler
# decides), in exchange for a commit that is done in half the time.
CODEC_THREADS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
    else os.cpu_count() or 1

# Problems decode reports for the first bad page of a batch.
PROBLEMS = {
    1: "its pack file is missing or unreadable",
    2: "its pack file is truncated",
    3: "it does not decompress",
    4: "it does not match its content hash",
    5: "its location is malformed",
    6: "its codec is unknown",
}


class NativeUnavailable(RtcrError):
    """The page codec cannot be built or loaded (no compiler, a system library missing)."""


def _build() -> Path:
    try:
        return build_shared_library(_SOURCE, optimize="-O3")
    except ToolchainError as exc:
        raise NativeUnavailable(f"the store needs a C compiler to build its page codec: "
                                f"{exc}") from exc
    except subprocess.CalledProcessError as exc:
        raise NativeUnavailable(f"building the store's page codec failed: "
                                f"{exc.stderr.decode(errors='replace').strip()}") from exc


def _load() -> ctypes.CDLL:
    for name in _SYSTEM_LIBRARIES:
        try:
            ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
        except OSError as exc:
            raise NativeUnavailable(f"the store needs the system library {name} "
                                    f"(Debian: apt-get install {name.split('.')[0]}*)") from exc
    lib = ctypes.CDLL(str(_build()))
    vp, sz, u32, i32 = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint32, ctypes.c_int
    signatures: dict[str, tuple[Any, list[Any]]] = {
        "rtcr_digest": (None, [vp, sz, vp]),
        "rtcr_digest_parts": (i32, [sz, vp, vp, vp]),
        "rtcr_gather": (None, [vp, vp, sz, vp]),
        "rtcr_index_new": (vp, []),
        "rtcr_index_free": (None, [vp]),
        "rtcr_index_count": (sz, [vp]),
        "rtcr_index_bytes": (sz, [vp]),
        "rtcr_index_remove_many": (None, [vp, sz, vp]),
        "rtcr_index_add": (i32, [vp, sz, vp, vp, vp, sz]),
        "rtcr_ascending": (i32, [vp, sz]),
        "rtcr_encode": (ctypes.c_long, [vp, vp, vp, sz, i32, i32, u32, u32, vp, vp, vp, vp,
                                        ctypes.POINTER(sz), i32]),
        "rtcr_decode": (ctypes.c_long, [vp, sz, sz, vp, vp, vp, vp, vp, i32,
                                        ctypes.POINTER(i32)]),
        "rtcr_merge": (ctypes.c_long, [sz, vp, vp, vp, vp, u32, vp, vp, vp]),
        "rtcr_preallocate": (i32, [i32, ctypes.c_uint64, ctypes.c_uint64]),
        "rtcr_punch": (i32, [i32, ctypes.c_uint64, ctypes.c_uint64]),
        "rtcr_start_writeback": (i32, [i32, ctypes.c_uint64, ctypes.c_uint64]),
    }
    for name, (restype, argtypes) in signatures.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


_lib: ctypes.CDLL | None = None


def lib() -> ctypes.CDLL:
    """The loaded codec (built on the first call)."""
    global _lib
    if _lib is None:
        _lib = _load()
    return _lib


def address(buffer: Any) -> int:
    """The address of a writable buffer (bytearray, mmap, ctypes array) or a bytes object."""
    if not len(buffer):
        return 0
    if isinstance(buffer, bytes):
        return ctypes.cast(ctypes.c_char_p(buffer), ctypes.c_void_p).value or 0
    if isinstance(buffer, array):
        return int(buffer.buffer_info()[0])
    return ctypes.addressof(ctypes.c_char.from_buffer(buffer))


def digest(data: bytes | bytearray | memoryview) -> bytes:
    """XXH3-128 of ``data``, canonical byte order: the store's content hash and checksum."""
    raw = bytes(data)
    out = ctypes.create_string_buffer(DIGEST_SIZE)
    lib().rtcr_digest(address(raw), len(raw), out)
    return out.raw


def digest_parts(parts: Sequence[Any]) -> bytes:
    """The digest of ``parts`` (bytes or writable buffers) concatenated, without joining them."""
    n = len(parts)
    ptrs = (ctypes.c_void_p * max(n, 1))(*(address(p) for p in parts))
    lens = (ctypes.c_size_t * max(n, 1))(*(len(p) for p in parts))
    out = ctypes.create_string_buffer(DIGEST_SIZE)
    if lib().rtcr_digest_parts(n, ptrs, lens, out) != 0:
        raise MemoryError("no memory for a digest")
    return out.raw


def gather(base: int, addrs: array[int], dst: int) -> None:
    """Copy page ``i`` from ``base + addrs[i]`` to ``dst + i * PAGE_SIZE``, for every i."""
    if len(addrs):
        lib().rtcr_gather(base, address(addrs), len(addrs), dst)


def preallocate(fd: int, offset: int, length: int) -> int:
    """Reserve disk blocks past ``offset`` without changing the file's size; 0 or an errno."""
    return int(lib().rtcr_preallocate(fd, offset, length))


def start_writeback(fd: int, offset: int, length: int) -> int:
    """Start writing a byte range of a file to the disk, without waiting; 0 or an errno.

    Not a sync: the range is durable only after a data sync of the file.
    """
    return int(lib().rtcr_start_writeback(fd, offset, length))


def punch(fd: int, offset: int, length: int) -> int:
    """Free the disk blocks of a byte range of a file (size unchanged); 0 or an errno."""
    return int(lib().rtcr_punch(fd, offset, length))


class PageTable:
    """Packed page entries: ascending indices, their digests and blob locations."""

    __slots__ = ("hashes", "indices", "locations")

    def __init__(self, indices: bytes, hashes: bytes, locations: bytes) -> None:
        self.indices = indices
        self.hashes = hashes
        self.locations = locations

    @classmethod
    def empty(cls) -> PageTable:
        return cls(b"", b"", b"")

    def __len__(self) -> int:
        return len(self.indices) // 4

    def well_formed(self) -> bool:
        n = len(self.indices)
        return (n % 4 == 0 and len(self.hashes) == n // 4 * DIGEST_SIZE
                and len(self.locations) == n // 4 * LOCATION_SIZE)

    def index_list(self) -> array[int]:
        out = array("I")
        out.frombytes(self.indices)
        return out

    def location_list(self) -> array[int]:
        """Locations as a flat u32 array: pack, offset, length, codec per entry."""
        out = array("I")
        out.frombytes(self.locations)
        return out

    def hash_at(self, position: int) -> bytes:
        return self.hashes[position * DIGEST_SIZE:(position + 1) * DIGEST_SIZE]

    def slice(self, start: int, end: int) -> PageTable:
        """Entries ``start`` to ``end`` (exclusive)."""
        return PageTable(self.indices[4 * start:4 * end],
                         self.hashes[DIGEST_SIZE * start:DIGEST_SIZE * end],
                         self.locations[LOCATION_SIZE * start:LOCATION_SIZE * end])

    def select(self, positions: Sequence[int]) -> PageTable:
        """The entries at ``positions`` (in that order)."""
        idx, locs = self.index_list(), self.location_list()
        return PageTable(
            array("I", (idx[p] for p in positions)).tobytes(),
            b"".join(self.hash_at(p) for p in positions),
            array("I", (v for p in positions for v in locs[4 * p:4 * p + 4])).tobytes())


class PackHandle(ctypes.Structure):
    _fields_ = [("fd", ctypes.c_int), ("pack", ctypes.c_uint32), ("size", ctypes.c_uint64)]


class BlobIndex:
    """Digest -> location of every blob a writer may deduplicate against (native memory)."""

    def __init__(self) -> None:
        self._handle: int | None = lib().rtcr_index_new()
        if not self._handle:
            raise MemoryError("cannot allocate the blob index")

    @property
    def handle(self) -> int:
        assert self._handle is not None, "blob index used after close"
        return self._handle

    def close(self) -> None:
        if self._handle is not None:
            lib().rtcr_index_free(self._handle)
            self._handle = None

    def __del__(self) -> None:
        self.close()

    def __len__(self) -> int:
        return int(lib().rtcr_index_count(self.handle))

    def nbytes(self) -> int:
        return int(lib().rtcr_index_bytes(self.handle))

    def add(self, table: PageTable, packs: Sequence[tuple[int, int, int]]) -> None:
        """Make the blobs of a verified table available for deduplication.

        ``packs`` are (pack id, fd or -1, committed size) of the packs there
        are: blobs elsewhere or past a pack's size are left out.
        """
        handles = _pack_handles(packs)
        if lib().rtcr_index_add(self.handle, len(table), address(table.hashes),
                                address(table.locations), handles, len(packs)) != 0:
            raise MemoryError("the blob index ran out of memory")

    def forget(self, hashes: bytes) -> None:
        """Remove the blobs with these digests (of a write that did not commit)."""
        lib().rtcr_index_remove_many(self.handle, len(hashes) // DIGEST_SIZE, address(hashes))


class Encoded:
    """One encoded batch: its table entries and the new blobs' bytes."""

    __slots__ = ("blob_bytes", "blobs", "hashes", "locations")

    def __init__(self, hashes: bytes, locations: bytes, blob_bytes: memoryview,
                 blobs: int) -> None:
        self.hashes = hashes
        self.locations = locations
        self.blob_bytes = blob_bytes
        self.blobs = blobs


def encode(index: BlobIndex, base: int, addrs: array[int], codec: int, level: int, pack: int,
           offset: int, out: bytearray | mmap.mmap, threads: int = CODEC_THREADS) -> Encoded:
    """Digest, deduplicate and compress the pages at ``base + addrs[i]``.

    New blobs are placed into ``out`` (at least ``len(addrs) * PAGE_SIZE``
    bytes) as they will lie in ``pack`` from ``offset`` on, and entered into
    ``index``. Hashing and compressing run on up to ``threads`` threads
    (the codec caps them at two); the result is the same, byte for byte,
    for any number.
    """
    n = len(addrs)
    assert len(out) >= n * PAGE_SIZE
    hashes = ctypes.create_string_buffer(n * DIGEST_SIZE)
    locations = ctypes.create_string_buffer(n * LOCATION_SIZE)
    fresh = (ctypes.c_uint32 * max(n, 1))()
    nfresh = ctypes.c_size_t(0)
    used = lib().rtcr_encode(index.handle, base, address(addrs), n, codec, level, pack, offset,
                             address(out), hashes, locations, fresh, ctypes.byref(nfresh),
                             threads)
    raw_hashes = hashes.raw
    if used < 0:
        index.forget(b"".join(raw_hashes[p * DIGEST_SIZE:(p + 1) * DIGEST_SIZE]
                              for p in fresh[:nfresh.value]))
        raise MemoryError("out of memory encoding pages (the blob index or the codec's "
                          "buffers)")
    return Encoded(raw_hashes, locations.raw, memoryview(out)[:used], nfresh.value)


def _pack_handles(packs: Sequence[tuple[int, int, int]]) -> ctypes.Array[PackHandle]:
    return (PackHandle * max(len(packs), 1))(*(PackHandle(fd, pack, size)
                                               for pack, fd, size in packs))


def ascending(indices: array[int]) -> bool:
    """Whether the u32 array strictly ascends."""
    return bool(lib().rtcr_ascending(address(indices), len(indices))) if len(indices) else True


def decode(packs: Sequence[tuple[int, int, int]], table: PageTable, dst: int,
           addrs: array[int] | None, *, by_index: bool = False,
           zeroed: bool = False) -> tuple[int, str | None]:
    """Decode and verify ``table``'s pages into ``dst + addrs[i]`` (``dst`` 0: verify only).

    With ``by_index``, page i goes to ``dst + addrs[index of entry i]``
    instead (``addrs`` then maps page indices to addresses). ``zeroed``
    says every destination page reads as zero already (fresh frames): zero
    pages are then verified but their destination is never touched, so
    they cost neither time nor resident memory. ``packs`` are (pack id,
    open fd or -1, committed size). Returns how many entries decoded and,
    if one failed, what is wrong with it.
    """
    n = len(table)
    if n == 0:
        return 0, None
    problem = ctypes.c_int(0)
    done = lib().rtcr_decode(_pack_handles(packs), len(packs), n,
                             address(table.indices) if by_index else None,
                             address(table.hashes), address(table.locations), dst or None,
                             address(addrs) if addrs is not None else None, int(zeroed),
                             ctypes.byref(problem))
    return int(done), PROBLEMS.get(problem.value) if problem.value else None


def merge(tables: Sequence[PageTable], npages: int) -> PageTable:
    """The table the first of ``tables`` sees: nearest entry per index, indices < npages."""
    only = tables[0]
    if len(tables) == 1 and (not len(only) or only.index_list()[-1] < npages):
        return only  # (indices ascend)
    k = len(tables)
    counts = (ctypes.c_size_t * k)(*(len(t) for t in tables))
    ptrs = [(ctypes.c_void_p * k)(*(address(getattr(t, name)) for t in tables))
            for name in ("indices", "hashes", "locations")]
    out_idx = ctypes.create_string_buffer(max(npages, 1) * 4)
    out_hashes = ctypes.create_string_buffer(max(npages, 1) * DIGEST_SIZE)
    out_locs = ctypes.create_string_buffer(max(npages, 1) * LOCATION_SIZE)
    m = lib().rtcr_merge(k, counts, ptrs[0], ptrs[1], ptrs[2], npages, out_idx, out_hashes,
                         out_locs)
    if m < 0:
        raise MemoryError("merging page tables ran out of memory")
    return PageTable(out_idx.raw[:4 * m], out_hashes.raw[:DIGEST_SIZE * m],
                     out_locs.raw[:LOCATION_SIZE * m])
