"""What the writer, reader, verify and gc share about one open store.

`StoreBackend` is the small object they depend on instead of the `Store`
façade: the reader connection, a factory for writer connections, the
writer lock, the pack files, the blob index for deduplication, and the two
pieces of state that span them: the *generation* (bumped by every gc, so
that a checkpoint loaded before it is not read through moved blobs) and the
*damage* verdict (once the database proved damaged, nothing is written or
restored from it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from rtcr.errors import StoreError

from .chains import RecordProblem, load_record
from .database import WriterLock, connect, db_errors, meta_int, meta_value
from .format import DB_NAME, PACK_DIR
from .native import BlobIndex
from .packs import PackFiles


class StoreBackend:
    def __init__(self, path: Path, conn: sqlite3.Connection, *, readonly: bool) -> None:
        self.path = path
        self.db_path = path / DB_NAME
        self.readonly = readonly
        self.packs = PackFiles(path / PACK_DIR)
        self._conn: sqlite3.Connection | None = conn
        self.generation = 0
        self.damaged: str | None = None
        self.writing: object | None = None  # the writer in progress (one at a time)
        self._index: BlobIndex | None = None
        self._index_state: tuple[int, int] | None = None

    # -- connections --------------------------------------------------------------
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"{self.path}: store is closed")
        return self._conn

    def writer_conn(self) -> sqlite3.Connection:
        if self.readonly:
            raise StoreError(f"{self.path}: the store is read-only")
        return connect(self.db_path)

    @contextmanager
    def errors(self) -> Iterator[None]:
        """`db_errors`, remembering a verdict of damage."""
        try:
            with db_errors(self.path):
                yield
        except StoreError as exc:
            cause = exc.__cause__
            if isinstance(cause, UnicodeDecodeError) or (
                isinstance(cause, sqlite3.DatabaseError)
                and not isinstance(cause, sqlite3.OperationalError)
            ):
                self.damaged = str(cause)
            raise

    def check_usable(self) -> None:
        """Once the metadata database proved damaged, nothing is restored or written."""
        self.conn()
        if self.damaged is not None:
            raise StoreError(f"{self.path}: store metadata ({DB_NAME}) is damaged "
                             f"({self.damaged}); refusing to use it (see rtcr verify)")

    def lock(self) -> WriterLock:
        if self.readonly:
            raise StoreError(f"{self.path}: the store is read-only")
        return WriterLock.take(self.path)

    # -- metadata ----------------------------------------------------------------
    @staticmethod
    def registered_packs(conn: sqlite3.Connection) -> dict[int, int]:
        return {meta_int(p, "a pack id"): meta_int(n, "a pack size")
                for p, n in conn.execute("SELECT id, size FROM packs")}

    @staticmethod
    def ids(conn: sqlite3.Connection) -> list[int]:
        return [meta_int(r[0], "a checkpoint id")
                for r in conn.execute("SELECT id FROM checkpoints ORDER BY id")]

    @staticmethod
    def next_id(conn: sqlite3.Connection) -> int:
        (top,) = conn.execute("SELECT coalesce(max(id), 0) FROM checkpoints").fetchone()
        last = meta_int(meta_value(conn, "last_id"), "the last checkpoint id")
        return max(meta_int(top, "the newest checkpoint id"), last) + 1

    def pack_handles(self, sizes: dict[int, int]) -> list[tuple[int, int, int]]:
        """(pack, read fd or -1, committed size) for every registered pack."""
        return [(pack, self.packs.reader(pack), size) for pack, size in sizes.items()]

    def clean(self, conn: sqlite3.Connection) -> None:
        """Remove the leftovers of interrupted writes and of committed gcs (lock held)."""
        trash = [meta_int(r[0], "a pack id") for r in conn.execute("SELECT pack FROM trash")]
        self.packs.clean(self.registered_packs(conn), trash)
        if trash:
            conn.execute("DELETE FROM trash")

    # -- the blob index ------------------------------------------------------------
    def index(self, conn: sqlite3.Connection) -> BlobIndex:
        """Every blob a new checkpoint may deduplicate against (lock held).

        Built from the records that verify, leaving out blobs whose pack is
        missing; rebuilt whenever another process committed or ran gc since.
        """
        state = (meta_int(meta_value(conn, "seq"), "the commit sequence"),
                 meta_int(meta_value(conn, "gc") or 0, "the gc count"))
        if self._index is not None and self._index_state == state:
            return self._index
        self.forget_index()
        index = BlobIndex()
        packs = self.pack_handles(self.registered_packs(conn))
        for cid in self.ids(conn):
            try:
                record = load_record(conn, cid)
            except RecordProblem:
                continue  # a damaged record lends no blobs
            for obj in (record.objects.values() if record else ()):
                index.add(obj.table, packs)
        self._index, self._index_state = index, state
        return index

    def committed(self, seq: int) -> None:
        """Our own commit moved the sequence on: the index stays valid."""
        if self._index_state is not None:
            self._index_state = (seq, self._index_state[1])

    def forget_index(self) -> None:
        if self._index is not None:
            self._index.close()
        self._index = self._index_state = None

    def moved(self) -> None:
        """A gc moved or removed blobs: loaded checkpoints and the index are stale."""
        self.generation += 1
        self.forget_index()
        self.packs.close_readers()

    def close(self) -> None:
        self.forget_index()
        self.packs.close_readers()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            if not self.readonly:
                with suppress(sqlite3.Error, UnicodeDecodeError):
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
