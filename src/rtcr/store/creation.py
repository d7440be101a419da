"""Creating a store atomically, and recognising what an interrupted creation left.

A store is built in a sibling directory (``.NAME.rtcr-creating-PID``) and
renamed into place when complete, so a store directory is either absent or
whole: a kill or a full disk during creation leaves at most that sibling,
which the next creation removes (when its process is gone). rtcr 0.1
created stores in place; what it left when interrupted (a database without
its format record and no pack files) is recognised and replaced too.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from contextlib import suppress
from pathlib import Path

from rtcr.errors import StoreError, StoreFull

from .database import connect, db_errors, fsync_dir, full_disk
from .format import (
    CREATING_SUFFIX,
    DB_NAME,
    FORMAT_VERSION,
    LOCK_NAME,
    PACK_DIR,
    RESERVE_NAME,
    SCHEMA,
)

# SQLite's WAL index (store.sqlite-shm), made when a writable store is opened.
WAL_INDEX_BYTES = 32 << 10
_RESERVE_MIN = 2 * WAL_INDEX_BYTES  # the WAL index and a start of gc's journal
_RESERVE_MAX = 1 << 20


def reserve_size(directory: Path) -> int:
    """Room kept for a full disk: 1/256 of the file system, 64 KiB to 1 MiB."""
    return min(_RESERVE_MAX, max(_RESERVE_MIN, shutil.disk_usage(directory).total // 256))


def spend_reserve(store: Path) -> bool:
    """Delete the store's reserve file to give its room to what needs it now (gc's
    journal, the WAL index of a store opened on a full disk); False if it was spent."""
    try:
        (store / RESERVE_NAME).unlink()
    except FileNotFoundError:
        return False
    return True


def write_reserve(store: Path) -> None:
    """Create the reserve file gc spends on a full disk (best effort)."""
    path = store / RESERVE_NAME
    if path.exists():
        return
    with suppress(OSError):
        size = reserve_size(store)
        with open(path, "wb") as f:
            f.write(bytes(size))
            os.fsync(f.fileno())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_creations(path: Path) -> None:
    """Delete what interrupted creations of ``path`` left beside it."""
    prefix = f".{path.name}{CREATING_SUFFIX}-"
    with suppress(OSError):
        for entry in path.parent.iterdir():
            if entry.name.startswith(prefix):
                pid = entry.name[len(prefix):].split("-")[0]
                if pid.isdigit() and not _alive(int(pid)):
                    shutil.rmtree(entry, ignore_errors=True)


def interrupted_creation(path: Path) -> bool:
    """Whether ``path`` holds only what an interrupted in-place creation (rtcr 0.1) left."""
    try:
        names = {p.name for p in path.iterdir()}
    except OSError:
        return False
    allowed = {DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", PACK_DIR, LOCK_NAME}
    if DB_NAME not in names or not names <= allowed:
        return False
    if (path / PACK_DIR).exists() and any((path / PACK_DIR).iterdir()):
        return False
    try:
        conn = sqlite3.connect((path / DB_NAME).absolute().as_uri() + "?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key='format'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return (path / DB_NAME).stat().st_size == 0  # not even a database yet
    return row is None


def create(path: Path) -> None:
    """Create a new, empty store at ``path`` (absent or an empty directory), atomically."""
    if path.exists():
        if not path.is_dir():
            raise StoreError(f"{path}: exists and is not a directory")
        if any(path.iterdir()):
            raise StoreError(f"{path}: directory is not empty; not creating a store there")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{path}: cannot create store: {exc.strerror or exc}") from exc
    remove_stale_creations(path)
    work = path.parent / f".{path.name}{CREATING_SUFFIX}-{os.getpid()}-{time.monotonic_ns()}"
    try:
        _build(work)
        os.rename(work, path)  # replaces an empty directory atomically
        fsync_dir(path.parent)
    except (OSError, StoreFull) as exc:  # (StoreFull: the database, named by `work`)
        shutil.rmtree(work, ignore_errors=True)
        if isinstance(exc, StoreFull) or full_disk(exc):
            raise StoreFull(f"{path}: disk full, cannot create store") from exc
        raise StoreError(f"{path}: cannot create store: {exc.strerror or exc}") from exc
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _build(work: Path) -> None:
    work.mkdir()
    (work / PACK_DIR).mkdir()
    (work / LOCK_NAME).touch()
    with db_errors(work):
        conn = connect(work / DB_NAME, create=True)
        try:
            conn.execute("BEGIN IMMEDIATE")
            for stmt in SCHEMA.split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            conn.executemany(
                "INSERT INTO meta(key, value) VALUES (?,?)",
                [("format", str(FORMAT_VERSION)), ("seq", "0"), ("last_id", "0"), ("gc", "0"),
                 ("created", repr(time.time()))])
            conn.execute("COMMIT")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    write_reserve(work)
    fsync_dir(work / PACK_DIR)
    fsync_dir(work)
