"""Names for checkpoints: ``rtcr tag``, ``restore --checkpoint NAME``.

A tag is one row (name, checkpoint id, checksum) in ``store.sqlite``. The
table is created by the first tag written (stores made before tags existed
have none), so reading a store never needs write access. A tag names a
committed checkpoint; when gc removes that checkpoint the tag goes with it.
A row whose checksum does not match is damage, reported naming the tag,
never silently followed to another checkpoint.
"""

from __future__ import annotations

import re
import sqlite3

from rtcr.errors import InvalidArgument, StoreError, UnknownCheckpoint

from .backend import StoreBackend
from .native import digest

TAGS_TABLE = "CREATE TABLE IF NOT EXISTS tags(name TEXT PRIMARY KEY, cid INTEGER NOT NULL, " \
             "checksum BLOB NOT NULL)"

#: A tag is a word that no checkpoint id can be mistaken for.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.+-]{0,63}")


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidArgument(f"bad tag {name!r}: a letter or _, then up to 63 letters, "
                              f"digits or _.+-")
    return name


def _checksum(name: str, cid: int) -> bytes:
    return digest(f"tag\0{name}\0{cid}".encode())


def _has_table(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='tags'"
                        ).fetchone() is not None


def read_tags(backend: StoreBackend) -> dict[str, int]:
    """Every tag and the checkpoint it names, verified."""
    conn = backend.conn()
    with backend.errors():
        if not _has_table(conn):
            return {}
        rows = conn.execute("SELECT name, cid, checksum FROM tags ORDER BY name").fetchall()
    out: dict[str, int] = {}
    for name, cid, checksum in rows:
        if not isinstance(name, str) or not isinstance(cid, int) or \
                bytes(checksum) != _checksum(name, cid):
            raise StoreError(f"{backend.path}: tag {name!r} is damaged (its checksum does "
                             f"not match); remove it with rtcr tag --delete")
        out[name] = cid
    return out


def write_tag(backend: StoreBackend, name: str, cid: int | None) -> None:
    """Set tag ``name`` to checkpoint ``cid``, or remove it (``cid`` None)."""
    check_name(name)
    lock = backend.lock()
    try:
        with backend.errors():
            conn = backend.writer_conn()
            try:
                with conn:
                    conn.execute(TAGS_TABLE)
                    if cid is None:
                        if conn.execute("DELETE FROM tags WHERE name=?", (name,)).rowcount == 0:
                            raise InvalidArgument(f"no tag {name!r} in {backend.path}")
                        return
                    if conn.execute("SELECT 1 FROM checkpoints WHERE id=?", (cid,)
                                    ).fetchone() is None:
                        raise UnknownCheckpoint(f"no checkpoint {cid} in {backend.path}")
                    conn.execute("INSERT OR REPLACE INTO tags VALUES (?, ?, ?)",
                                 (name, cid, _checksum(name, cid)))
            finally:
                conn.close()
    finally:
        lock.release()


def drop_tags_of_removed(conn: sqlite3.Connection) -> None:
    """In gc's transaction: tags of checkpoints that are gone go too."""
    if _has_table(conn):
        conn.execute("DELETE FROM tags WHERE cid NOT IN (SELECT id FROM checkpoints)")
