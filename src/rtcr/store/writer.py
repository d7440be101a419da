"""Writing one checkpoint: blobs append to the shared packs, one commit makes it visible.

Pages arrive in bulk (`put_pages`: indices plus addresses in memory, e.g.
a staging buffer or the physical RAM itself) or one at a time
(`put_page`, buffered into batches). Each batch goes through the native
codec in one call (on two threads): content hashes, zero pages and
duplicates resolved against the in-memory blob index, new blobs compressed
into one of two output buffers and handed to the pack appender, which
writes them to the active pack while the codec encodes the next batch into
the other buffer. The page tables grow in native memory (anonymous maps), not in
Python objects, so a checkpoint of a million pages costs the interpreter
nothing. `commit` syncs the packs, then writes the record, the manifest and
one row per object in a single SQLite transaction: the checkpoint is
visible exactly when that transaction is durable.

Nothing is ever removed once COMMIT has returned: `abort` (also on an
exception or an interrupt arriving just after the commit) first asks the
database whether the checkpoint exists, and only undoes what it wrote if it
does not. An abort that undoes anything first drops the in-memory blob index
as a whole (the next writer rebuilds it from the database): an interrupt may
have landed between the codec entering new blobs and the writer noting them,
and deduplication must never point at a blob that is not there.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import sqlite3
import time
from array import array
from types import TracebackType
from typing import Any, ClassVar

from rtcr.core import PAGE_SIZE
from rtcr.errors import InvalidArgument, StoreError, StoreFull, UnknownCheckpoint

from . import _faults
from .backend import StoreBackend
from .database import WriterLock, meta_int, meta_value
from .format import (
    INFO_COLUMNS,
    Compression,
    manifest_digest,
    manifest_json,
    record_checksum,
    table_digest,
)
from .native import DIGEST_SIZE, LOCATION_SIZE, address, ascending, encode
from .packs import PackAppender

# Pages per native call: 4 MiB of blobs at most in flight between codec and pack.
BATCH_PAGES = 1024
# Pages `put_page` collects before they go through the codec together.
PUT_PAGE_BATCH = 256


class _OutputBuffers:
    """The codec's two output buffers, kept from one writer to the next in this process.

    A fresh anonymous map costs its first touch, and on this machine class
    that is 1–1.8 ms per MB: 8–14 ms for a new pair of 4 MiB buffers, a
    sixth of an 80 MB checkpoint's write. So a writer takes the pair the
    last one left (one pair is kept, 8 MiB resident for the life of the
    process; writers of several stores at once get pairs of their own).
    """

    _idle: ClassVar[list[tuple[mmap.mmap, mmap.mmap]]] = []

    @classmethod
    def take(cls) -> tuple[mmap.mmap, mmap.mmap]:
        try:
            return cls._idle.pop()
        except IndexError:
            return mmap.mmap(-1, BATCH_PAGES * PAGE_SIZE), mmap.mmap(-1, BATCH_PAGES * PAGE_SIZE)

    @classmethod
    def give_back(cls, pair: tuple[mmap.mmap, mmap.mmap]) -> None:
        if not cls._idle:
            cls._idle.append(pair)
            return
        for out in pair:
            with contextlib.suppress(BufferError):
                out.close()


class GrowingBuffer:
    """An append-only byte buffer in an anonymous map (outside the Python heap)."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._map = mmap.mmap(-1, capacity)
        self.size = 0

    def append(self, data: bytes | memoryview) -> None:
        n = len(data)
        if self.size + n > len(self._map):
            bigger = mmap.mmap(-1, max(2 * len(self._map), self.size + n))
            with memoryview(self._map) as old:  # (a slice of the map would be a heap copy)
                bigger[:self.size] = old[:self.size]
            self._map.close()
            self._map = bigger
        self._map[self.size:self.size + n] = data
        self.size += n

    def view(self) -> memoryview:
        return memoryview(self._map)[:self.size]

    def close(self) -> None:
        with contextlib.suppress(BufferError):
            self._map.close()


class _Declared:
    """One declared memory object and the page entries stored for it so far."""

    def __init__(self, key: str, npages: int, fresh: bool) -> None:
        self.key = key
        self.npages = npages
        self.fresh = fresh
        # Room for every page at once (up to a 4 GiB object; beyond, the tables
        # grow): an anonymous map costs only the pages it touches, and a table
        # that never outgrows its map is never copied.
        entries = min(max(npages, 1), 1 << 20)
        self.indices = GrowingBuffer(4 * entries)
        self.hashes = GrowingBuffer(DIGEST_SIZE * entries)
        self.locations = GrowingBuffer(LOCATION_SIZE * entries)
        self.last = -1
        self.ordered = True  # indices strictly ascend
        self.pending = array("I")  # put_page batch: indices, their contents in pending_pages
        self.pending_pages: mmap.mmap | None = None

    def add(self, indices: array[int], hashes: bytes, locations: bytes) -> None:
        if len(indices):
            if indices[0] <= self.last or not ascending(indices):
                self.ordered = False
            self.last = max(self.last, indices[-1])
        self.indices.append(indices.tobytes())
        self.hashes.append(hashes)
        self.locations.append(locations)

    def arrays(self) -> tuple[Any, Any, Any]:
        """The page table, ascending and one entry per index (the last one put wins)."""
        if self.ordered:
            return self.indices.view(), self.hashes.view(), self.locations.view()
        idx = array("I")
        idx.frombytes(self.indices.view())
        hashes, locs = self.hashes.view(), self.locations.view()
        latest = {index: position for position, index in enumerate(idx)}
        order = sorted(latest)
        return (array("I", order).tobytes(),
                b"".join(hashes[latest[i] * DIGEST_SIZE:(latest[i] + 1) * DIGEST_SIZE]
                         for i in order),
                b"".join(locs[latest[i] * LOCATION_SIZE:(latest[i] + 1) * LOCATION_SIZE]
                         for i in order))

    def close(self) -> None:
        for buffer in (self.indices, self.hashes, self.locations):
            buffer.close()
        if self.pending_pages is not None:
            with contextlib.suppress(BufferError):
                self.pending_pages.close()


class CheckpointWriter:
    """Collects one checkpoint; use as a context manager and call ``commit``.

    Leaving the ``with`` block without committing aborts: the packs are cut
    back to their committed size and the blob index forgets the new blobs.
    """

    def __init__(self, backend: StoreBackend, parent: int | None,
                 compression: Compression | None = None) -> None:
        self._backend = backend
        self._closed = True
        self._committed = False
        backend.check_usable()
        if backend.writing is not None:
            raise StoreError("a checkpoint is already being written to this store")
        if parent is not None and (not isinstance(parent, int) or isinstance(parent, bool)):
            raise InvalidArgument(f"parent must be a checkpoint id, not {parent!r}")
        lock = backend.lock()
        try:
            with backend.errors():
                conn = backend.writer_conn()
                try:
                    if parent is not None and conn.execute(
                        "SELECT 1 FROM checkpoints WHERE id=?", (parent,)
                    ).fetchone() is None:
                        raise UnknownCheckpoint(f"no checkpoint {parent} in {backend.path}")
                    self.id = backend.next_id(conn)
                    backend.clean(conn)
                    registered = backend.registered_packs(conn)
                    taken = set(backend.packs.listing())
                    if not registered.keys() <= taken:
                        # A pack went missing since the index was built: rebuilt, it
                        # leaves that pack's blobs out (nothing deduplicates against them).
                        backend.forget_index()
                    self._index = backend.index(conn)
                except BaseException:
                    conn.close()
                    raise
        except BaseException:
            lock.release()
            raise
        self._lock: WriterLock = lock
        self._conn: sqlite3.Connection | None = conn
        self.parent = parent
        self.compression = compression or Compression()
        self._appender = PackAppender(backend.packs, registered, taken)
        self._objects: dict[str, _Declared] = {}
        # Two output buffers, used in turn: the codec fills one while the pack
        # appender writes the other (see PackAppender).
        self._outs = _OutputBuffers.take()
        self._turn = 0
        self._closed = False
        backend.writing = self

    # ------------------------------------------------------------ context manager

    def __enter__(self) -> CheckpointWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._closed:
            self.abort()
        if type(exc) is StoreError:  # say which checkpoint a store failure cost
            raise StoreError(f"checkpoint {self.id} was not written: {exc}") from exc
        if isinstance(exc, StoreFull):
            raise StoreFull(f"checkpoint {self.id} was not written: {exc}", exc.needed) from exc

    # ------------------------------------------------------------ writing

    def _live(self) -> sqlite3.Connection:
        if self._closed or self._conn is None:
            raise StoreError("this checkpoint writer is closed (committed or aborted)")
        return self._conn

    def declare(self, key: str, npages: int, fresh: bool = False) -> None:
        """Declare a live memory object of ``npages`` pages.

        ``fresh=True`` (or a key absent in the parent) stops inheritance of
        this key's pages from the ancestors.
        """
        self._live()
        if not isinstance(key, str) or not key:
            raise InvalidArgument(f"memory object key must be a non-empty string, not {key!r}")
        if not isinstance(npages, int) or isinstance(npages, bool) or not 0 <= npages < 1 << 32:
            raise InvalidArgument(f"npages must be a non-negative int below 2**32, not "
                                  f"{npages!r}")
        if key in self._objects:
            raise InvalidArgument(f"memory object {key!r} declared twice")
        self._objects[key] = _Declared(key, npages, fresh)

    def _declared(self, key: str) -> _Declared:
        self._live()
        obj = self._objects.get(key)
        if obj is None:
            raise InvalidArgument(f"memory object {key!r} was not declared")
        return obj

    def put_page(self, key: str, index: int, data: bytes | bytearray | memoryview) -> None:
        """Store page ``index`` of ``key`` (buffered; written in batches)."""
        obj = self._declared(key)
        if not isinstance(index, int) or not 0 <= index < obj.npages:
            raise InvalidArgument(f"page index {index!r} outside {key!r} ({obj.npages} pages)")
        view = memoryview(data)
        if view.nbytes != PAGE_SIZE:
            raise InvalidArgument(f"a page is exactly {PAGE_SIZE} bytes, not {view.nbytes}")
        if obj.pending_pages is None:
            obj.pending_pages = mmap.mmap(-1, PUT_PAGE_BATCH * PAGE_SIZE)
        at = len(obj.pending) * PAGE_SIZE
        obj.pending_pages[at:at + PAGE_SIZE] = view.cast("B") if view.c_contiguous \
            else bytes(view)
        obj.pending.append(index)
        if len(obj.pending) >= PUT_PAGE_BATCH:
            self._flush(obj)

    def _flush(self, obj: _Declared) -> None:
        if not len(obj.pending) or obj.pending_pages is None:
            return
        indices, obj.pending = obj.pending, array("I")
        self._encode(obj, indices, address(obj.pending_pages),
                     array("Q", range(0, len(indices) * PAGE_SIZE, PAGE_SIZE)))

    def put_pages(self, key: str, indices: array[int], base: int, addrs: array[int]) -> None:
        """Store pages ``indices`` of ``key``, page ``indices[i]`` read at ``base + addrs[i]``.

        ``indices`` is a u32 array, ascending; the memory must stay unchanged
        until the call returns (it runs without the GIL).
        """
        obj = self._declared(key)
        if indices.typecode != "I" or addrs.typecode != "Q" or len(indices) != len(addrs):
            raise InvalidArgument("put_pages wants u32 indices and as many u64 addresses")
        if len(indices) and (not ascending(indices) or indices[-1] >= obj.npages):
            raise InvalidArgument(f"page indices of {key!r} must ascend and lie below "
                                  f"{obj.npages}")
        self._flush(obj)
        for start in range(0, len(indices), BATCH_PAGES):
            self._encode(obj, indices[start:start + BATCH_PAGES], base,
                         addrs[start:start + BATCH_PAGES])

    def _encode(self, obj: _Declared, indices: array[int], base: int, addrs: array[int]) -> None:
        pack, offset = self._appender.place(len(addrs) * PAGE_SIZE)
        out = self._outs[self._turn]
        self._turn = 1 - self._turn
        with self._backend.errors():
            enc = encode(self._index, base, addrs, int(self.compression.codec),
                         self.compression.level, pack, offset, out)
        self._appender.write(pack, offset, enc.blob_bytes, enc.blobs)  # (it releases the view)
        obj.add(indices, enc.hashes, enc.locations)

    # ------------------------------------------------------------ commit / abort

    def commit(
        self,
        manifest: dict[str, Any],
        *,
        instructions: int = 0,
        dirty_pages: int | None = None,
        pause_us: float = 0.0,
        strategy: str = "",
        since: float | None = None,
        wall_time: float | None = None,
    ) -> int:
        """Make the checkpoint durable and visible; returns its id.

        ``dirty_pages`` defaults to the number of pages stored. ``since``
        (a `time.perf_counter` value: when the pause began) lets the record
        carry the commit latency; ``wall_time`` overrides the recorded
        commit time (for conversions).
        """
        conn = self._live()
        text = self._validate(manifest, instructions, dirty_pages, pause_us, strategy)
        for obj in self._objects.values():
            self._flush(obj)
        self._appender.sync()
        backend = self._backend
        with backend.errors():
            conn.execute("BEGIN IMMEDIATE")
            for pack, size in self._appender.sizes.items():
                conn.execute("INSERT OR REPLACE INTO packs(id, size) VALUES (?,?)", (pack, size))
            tables = [(obj.key, obj.npages, obj.fresh, *obj.arrays())
                      for obj in self._objects.values()]
            table_hash = table_digest(tables)
            count = sum(len(t[3]) // 4 for t in tables)
            seq = meta_int(meta_value(conn, "seq"), "the commit sequence") + 1
            commit_us = int((time.perf_counter() - since) * 1e6) if since is not None else pause_us
            info_row = (
                self.id, self.parent, instructions, count, self._appender.appended(),
                count * PAGE_SIZE, count if dirty_pages is None else dirty_pages,
                float(pause_us), float(commit_us), strategy, seq,
                time.time() if wall_time is None else wall_time,
            )
            mhash = manifest_digest(text)
            conn.execute(
                f"INSERT INTO checkpoints({INFO_COLUMNS}, manifest_hash, table_hash, checksum) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (*info_row, mhash, table_hash, record_checksum(info_row, mhash, table_hash)))
            conn.execute("INSERT INTO manifests(cid, json) VALUES (?,?)", (self.id, text))
            conn.executemany(
                "INSERT INTO objects(cid, key, npages, fresh, indices, hashes, locations) "
                "VALUES (?,?,?,?,?,?,?)",
                [(self.id, key, npages, 1 if fresh else 0, *arrays)
                 for key, npages, fresh, *arrays in tables])
            conn.execute("UPDATE meta SET value=? WHERE key='seq'", (str(seq),))
            conn.execute("UPDATE meta SET value=? WHERE key='last_id'", (str(self.id),))
            _faults.check("commit")
            conn.execute("COMMIT")
            self._committed = True
        backend.committed(seq)
        self._release()
        return self.id

    @staticmethod
    def _validate(manifest: dict[str, Any], instructions: int, dirty_pages: int | None,
                  pause_us: float, strategy: str) -> str:
        if not isinstance(manifest, dict):
            raise InvalidArgument("the manifest must be a dict")
        try:
            text = manifest_json(manifest)
            same = json.loads(text) == manifest
        except (TypeError, ValueError) as exc:
            raise InvalidArgument(f"manifest is not JSON-serializable: {exc}") from exc
        if not same:
            raise InvalidArgument("manifest does not survive a JSON round trip (non-string "
                                  "dict keys or tuples?)")
        for name, value in (("instructions", instructions), ("dirty_pages", dirty_pages)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                      or value < 0):
                raise InvalidArgument(f"{name} must be a non-negative int, not {value!r}")
        if not isinstance(pause_us, int | float) or pause_us != pause_us:
            raise InvalidArgument(f"pause_us must be a number, not {pause_us!r}")
        if not isinstance(strategy, str):
            raise InvalidArgument(f"strategy must be a string, not {strategy!r}")
        return text

    def _exists(self) -> bool | None:
        """Whether this checkpoint's record is committed (None: cannot tell)."""
        conn = self._conn
        if conn is None:
            return None
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return conn.execute("SELECT 1 FROM checkpoints WHERE id=?",
                                (self.id,)).fetchone() is not None
        except (sqlite3.Error, UnicodeDecodeError):
            return None

    def abort(self) -> None:
        """Discard everything written so far (idempotent; a no-op once committed)."""
        if self._closed:
            return
        try:
            committed = True if self._committed else self._exists()
            if committed is not True:
                # The index may hold blobs of this write: rebuilt from the database.
                self._backend.forget_index()
            if committed is False:
                self._appender.rollback()
            # None (cannot tell): remove nothing; the next writer cuts back what the
            # database does not list.
        finally:
            self._release()

    def _release(self) -> None:
        self._closed = True
        self._appender.close()
        for obj in self._objects.values():
            obj.close()
        _OutputBuffers.give_back(self._outs)  # (the appender wrote everything out of them)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._backend.writing is self:
            self._backend.writing = None
        self._lock.release()
