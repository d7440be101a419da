"""Writing one checkpoint: pages stream into a pack file, metadata into an open transaction."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

import zstandard

from rtcr.errors import InvalidArgument, StoreError, UnknownCheckpoint

from . import _faults
from ._common import (
    CODEC_RAW,
    CODEC_ZSTD,
    INFO_COLUMNS,
    PAGE_SIZE,
    ZERO_HASH,
    fsync_dir,
    info_checksum,
    manifest_digest,
    manifest_json,
    meta_int,
    pack_name,
    page_hash,
    scan_table,
)

if TYPE_CHECKING:
    from .store import Store


class CheckpointWriter:
    """Collects one checkpoint; use as a context manager and call ``commit``.

    Page contents go to this checkpoint's pack file as they arrive and the
    page table rows into an SQLite transaction that stays uncommitted (and
    invisible to every reader) until ``commit`` has made the pack durable.
    Leaving the ``with`` block without committing aborts: the transaction is
    rolled back and the pack file removed.
    """

    def __init__(self, store: Store, parent: int | None, level: int = 3) -> None:
        self._store = store
        self._closed = True
        self._conn: sqlite3.Connection | None = None
        self._fd: int | None = None
        self._pack_path: os.PathLike[str] | None = None
        store._check_usable()
        if store._writer is not None:
            raise StoreError("a checkpoint is already being written to this store")
        if parent is not None and (not isinstance(parent, int) or isinstance(parent, bool)):
            raise InvalidArgument(f"parent must be a checkpoint id, not {parent!r}")
        lock = store._lock()
        try:
            with store._db_errors():
                conn = store._writer_conn()
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    if parent is not None and conn.execute(
                        "SELECT 1 FROM checkpoints WHERE id=?", (parent,)
                    ).fetchone() is None:
                        raise UnknownCheckpoint(f"no checkpoint {parent} in {store.path}")
                    self.id = store._next_id(conn)
                    store._clean_orphans(conn)
                    self._pack_id = store._next_pack_id(conn, prefer=self.id)
                except BaseException:
                    conn.close()
                    raise
        except BaseException:
            store._unlock(lock)
            raise
        self._lock = lock
        self._conn = conn
        self.parent = parent
        path = store._pack_dir / pack_name(self._pack_id)
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as exc:
            self._release()
            raise StoreError(f"cannot create pack file {path}: {exc.strerror or exc}") from exc
        self._pack_path = path
        self._offset = 0
        self._cctx = zstandard.ZstdCompressor(level=level, write_checksum=True)
        self._objects: dict[str, tuple[int, int]] = {}
        self._closed = False
        store._writer = self

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
        conn = self._live()
        if not isinstance(key, str) or not key:
            raise InvalidArgument(f"memory object key must be a non-empty string, not {key!r}")
        if not isinstance(npages, int) or isinstance(npages, bool) or npages < 0:
            raise InvalidArgument(f"npages must be a non-negative int, not {npages!r}")
        if key in self._objects:
            raise InvalidArgument(f"memory object {key!r} declared twice")
        with self._store._db_errors():
            cur = conn.execute(
                "INSERT INTO objects(cid, key, npages, fresh) VALUES (?,?,?,?)",
                (self.id, key, npages, 1 if fresh else 0),
            )
        assert cur.lastrowid is not None
        self._objects[key] = (cur.lastrowid, npages)

    def put_page(self, key: str, index: int, data: bytes | bytearray | memoryview) -> None:
        """Store page ``index`` of ``key``; the bytes are on their way to disk on return."""
        conn = self._live()
        obj = self._objects.get(key)
        if obj is None:
            raise InvalidArgument(f"memory object {key!r} was not declared")
        oid, npages = obj
        if not isinstance(index, int) or not 0 <= index < npages:
            raise InvalidArgument(f"page index {index!r} outside {key!r} ({npages} pages)")
        view = memoryview(data)
        if view.nbytes != PAGE_SIZE:
            raise InvalidArgument(f"a page is exactly {PAGE_SIZE} bytes, not {view.nbytes}")
        if not view.c_contiguous or view.format not in ("B", "b", "c"):
            view = memoryview(bytes(view))
        digest = page_hash(view)
        with self._store._db_errors():
            if digest != ZERO_HASH and conn.execute(
                "SELECT 1 FROM blobs WHERE hash=?", (digest,)
            ).fetchone() is None:
                blob = self._cctx.compress(view)
                codec = CODEC_ZSTD
                if len(blob) >= PAGE_SIZE:
                    blob, codec = bytes(view), CODEC_RAW
                self._write(blob)
                conn.execute(
                    "INSERT INTO blobs(hash, pack, offset, length, codec, owner) "
                    "VALUES (?,?,?,?,?,?)",
                    (digest, self._pack_id, self._offset, len(blob), codec, self.id),
                )
                self._offset += len(blob)
            conn.execute("INSERT OR REPLACE INTO pages(oid, idx, hash) VALUES (?,?,?)",
                         (oid, index, digest))

    def _write(self, blob: bytes) -> None:
        assert self._fd is not None
        view = memoryview(blob)
        try:
            _faults.check("pack-write")
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
        except OSError as exc:
            full = "disk full: " if exc.errno == errno.ENOSPC else ""
            raise StoreError(f"{full}cannot write pack file {self._pack_path}: "
                             f"{exc.strerror or exc}") from exc

    # ------------------------------------------------------------ commit / abort

    def commit(
        self,
        manifest: dict[str, Any],
        *,
        instructions: int = 0,
        dirty_pages: int | None = None,
        pause_us: float = 0.0,
        strategy: str = "",
    ) -> int:
        """Make the checkpoint durable and visible; returns its id.

        ``dirty_pages`` defaults to the number of pages stored.
        """
        conn = self._live()
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
        store = self._store
        assert self._fd is not None
        try:
            _faults.check("pack-sync")
            os.fsync(self._fd)
        except OSError as exc:
            full = "disk full: " if exc.errno == errno.ENOSPC else ""
            raise StoreError(f"{full}cannot sync pack file {self._pack_path}: "
                             f"{exc.strerror or exc}") from exc
        os.close(self._fd)
        self._fd = None
        size = self._offset
        assert self._pack_path is not None
        if size == 0:
            os.unlink(self._pack_path)
            self._pack_path = None
        fsync_dir(store._pack_dir)
        with store._db_errors():
            if size:
                conn.execute("INSERT INTO packs(id, size) VALUES (?,?)", (self._pack_id, size))
            table_hash, count, _objs = scan_table(conn, self.id)
            row = conn.execute("SELECT value FROM meta WHERE key='seq'").fetchone()
            seq = meta_int(row[0] if row else None, "the commit sequence") + 1
            info_row = (
                self.id, self.parent, instructions, count, size, count * PAGE_SIZE,
                count if dirty_pages is None else dirty_pages, float(pause_us), strategy,
                seq, time.time(),
            )
            mhash = manifest_digest(text)
            checksum = info_checksum(info_row, mhash, table_hash)
            conn.execute(
                f"INSERT INTO checkpoints({INFO_COLUMNS}, manifest_hash, table_hash, checksum) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (*info_row, mhash, table_hash, checksum),
            )
            conn.execute("INSERT INTO manifests(cid, json) VALUES (?,?)", (self.id, text))
            conn.execute("UPDATE meta SET value=? WHERE key='seq'", (str(seq),))
            conn.execute("UPDATE meta SET value=? WHERE key='last_id'", (str(self.id),))
            _faults.check("commit")
            conn.execute("COMMIT")
        self._pack_path = None  # durable and owned by the store now
        self._release()
        return self.id

    def abort(self) -> None:
        """Discard everything written so far (idempotent)."""
        if self._closed:
            return
        try:
            if self._conn is not None and self._conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):  # closing discards it anyway
                    self._conn.execute("ROLLBACK")
        finally:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if self._pack_path is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._pack_path)
                self._pack_path = None
            self._release()

    def _release(self) -> None:
        self._closed = True
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._store._writer is self:
            self._store._writer = None
        self._store._unlock(self._lock)
