"""Access to ``store.sqlite``: connections, errors, the writer lock, durable directories.

The database runs in WAL mode with ``synchronous=FULL``: a committed
transaction is on disk when COMMIT returns, and readers never block the
writer. A store that cannot be written (a read-only mount, no write
permission) is opened *immutable*: SQLite then reads the file as it is,
without the shared-memory index a WAL reader otherwise creates beside it
(unless the log holds transactions a killed writer left, see `connect`).
"""

from __future__ import annotations

import errno
import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rtcr.errors import StoreError, StoreFull

from .format import DB_NAME, LOCK_NAME


def _text(raw: bytes) -> str | bytes:
    """Decode TEXT columns; damaged (non-UTF-8) text stays bytes and fails the type checks."""
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw


def writable(path: Path) -> bool:
    """Whether this process may change the store directory ``path`` and its database."""
    return os.access(path, os.W_OK) and os.access(path / DB_NAME, os.W_OK)


def _wal_pending(db_path: Path) -> bool:
    """Whether ``db_path``'s write-ahead log holds transactions (its writer was killed
    before the last connection folded them into the database file)."""
    try:
        return os.path.getsize(f"{db_path}-wal") > 0
    except OSError:
        return False


def connect(db_path: Path, *, create: bool = False, readonly: bool = False
            ) -> sqlite3.Connection:
    """Open the metadata database (never creating it unless asked).

    Read-only, the database is opened immutable unless its log holds
    transactions: immutable, SQLite would read the file without them, a
    store as it was before its newest commits. With them it reads the log
    through the shared-memory index its writer left (from heap memory when
    that cannot be written).
    """
    if create:
        mode = "?mode=rwc"
    elif readonly and _wal_pending(db_path):
        if not os.path.exists(f"{db_path}-shm"):
            raise StoreError(
                f"{db_path.parent}: the store's log ({DB_NAME}-wal) holds commits its "
                f"killed writer left, and reading it where nothing can be written needs the "
                f"{DB_NAME}-shm the writer left beside it; open the store once where it can "
                "be written (rtcr verify folds the log into the database)")
        mode = "?mode=ro"
    elif readonly:
        mode = "?mode=ro&immutable=1"
    else:
        mode = "?mode=rw"
    conn = sqlite3.connect(db_path.absolute().as_uri() + mode, uri=True, isolation_level=None,
                           check_same_thread=False, timeout=30.0)
    conn.text_factory = _text
    try:
        if create:
            # Before any table exists (and before WAL, which fixes the header):
            # lets gc give free pages back to the file system in place.
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
            conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA cell_size_check=ON")
    except BaseException:
        conn.close()
        raise
    return conn


def full_disk(exc: BaseException) -> bool:
    """Whether an OS or SQLite error says the disk is full."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return isinstance(exc, sqlite3.OperationalError) and "full" in str(exc)


@contextmanager
def db_errors(where: Path) -> Iterator[None]:
    """Turn SQLite errors into one clear ``StoreError`` (``StoreFull`` for a full disk)."""
    try:
        yield
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        # (SQLite error messages quoting damaged schema text fail to decode)
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            raise StoreError(f"{where}: store database is locked by another process") from exc
        if full_disk(exc):
            raise StoreFull(f"{where}: disk full, cannot write {DB_NAME}") from exc
        if isinstance(exc, sqlite3.OperationalError) and "disk I/O error" in str(exc):
            raise StoreError(f"{where}: I/O error writing {DB_NAME}") from exc
        if isinstance(exc, sqlite3.OperationalError) and "readonly" in str(exc):
            raise StoreError(f"{where}: the store is read-only") from exc
        raise StoreError(
            f"{where}: store metadata ({DB_NAME}) is unreadable or corrupt: {exc}"
        ) from exc


def meta_int(value: Any, what: str) -> int:
    """An integer read from the metadata, or StoreError if damage made it something else."""
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise StoreError(f"store metadata is corrupt: {what} is {value!r}")


def meta_value(conn: sqlite3.Connection, key: str) -> Any:
    row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    return None if row is None else row[0]


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class WriterLock:
    """The advisory lock one writer (a checkpoint or a gc) holds, across processes."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def try_take(cls, store: Path) -> WriterLock | None:
        """The lock, or None if another writer holds it (or the store is read-only)."""
        try:
            fd = os.open(store / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        return cls(fd)

    @classmethod
    def take(cls, store: Path) -> WriterLock:
        lock = cls.try_take(store)
        if lock is None:
            if not writable(store):
                raise StoreError(f"{store}: the store is read-only")
            raise StoreError(f"{store}: store is busy (another process is writing to it)")
        return lock

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the flock
            self._fd = None
