"""The persistent checkpoint store: the façade over a store directory.

`Store` opens and creates stores and hands out writers (`begin`), loaded
checkpoints (`load`), listings, `verify` and `gc`; the work is done by the
modules it delegates to, which share one `StoreBackend`.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from rtcr.core import PAGE_SIZE
from rtcr.errors import (
    CorruptCheckpoint,
    InvalidArgument,
    StoreError,
    StoreFull,
    UnknownCheckpoint,
)

from .backend import StoreBackend
from .chains import RecordProblem, load_chain, load_manifest, load_record
from .creation import (
    WAL_INDEX_BYTES,
    create,
    interrupted_creation,
    remove_stale_creations,
    spend_reserve,
)
from .database import connect, db_errors, full_disk, writable
from .format import (
    DB_NAME,
    FORMAT_VERSION,
    INFO_COLUMNS,
    LEGACY_FORMAT,
    CheckpointInfo,
    Codec,
    Compression,
)
from .gc import GcReport, gc
from .native import PageTable
from .reader import Checkpoint
from .retention import Retained, Retention, retain
from .tags import read_tags, write_tag
from .verify import VerifyReport, verify
from .writer import CheckpointWriter


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    """Open the store's database; on a disk too full for the WAL index a writable
    store needs beside it, spend the store's reserve (there for a full disk) once."""
    try:
        return connect(path / DB_NAME, readonly=readonly)
    except sqlite3.OperationalError as exc:
        no_room = full_disk(exc) or shutil.disk_usage(path).free < WAL_INDEX_BYTES
        if readonly or not no_room:
            raise
        if spend_reserve(path):
            try:
                return connect(path / DB_NAME, readonly=readonly)
            except sqlite3.OperationalError as again:
                if not (full_disk(again) or shutil.disk_usage(path).free < WAL_INDEX_BYTES):
                    raise
        raise StoreFull(f"{path}: disk full: opening the store needs {WAL_INDEX_BYTES:,} bytes "
                        f"free for SQLite's WAL index ({DB_NAME}-shm); free that much and try "
                        "again", needed=WAL_INDEX_BYTES) from exc


@dataclass(frozen=True)
class BlobInfo:
    """Where one stored blob lives, and which checkpoint stored it first."""

    owner: int
    pack: int
    path: Path
    offset: int
    length: int


@dataclass
class StoreStats:
    """Whole-store totals (pack bytes are what the page data costs on disk)."""

    checkpoints: int
    page_rows: int
    nonzero_page_rows: int
    blobs: int
    blob_bytes: int
    pack_bytes: int
    db_bytes: int

    @property
    def compression_ratio(self) -> float | None:
        """Uncompressed size of the unique pages / their stored size."""
        return self.blobs * PAGE_SIZE / self.blob_bytes if self.blob_bytes else None

    @property
    def dedup_ratio(self) -> float | None:
        """Non-zero page entries / unique page blobs."""
        return self.nonzero_page_rows / self.blobs if self.blobs else None


def _format_version(p: Path, conn: sqlite3.Connection) -> int:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key='format'").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            raise StoreError(f"{p}: is not an rtcr store (no store metadata)") from exc
        raise
    if row is None:
        raise StoreError(f"{p}: is not an rtcr store (no format version)")
    try:
        return int(row[0])
    except (TypeError, ValueError):
        raise StoreError(f"{p}: store format version {row[0]!r} is unreadable; "
                         "the store metadata is corrupt") from None


class Store:
    """A checkpoint store directory. Create with ``Store.create``, open with ``Store.open``.

    One writer at a time (an advisory lock on ``store.lock`` guards writes
    and gc across processes); any number of readers. A store without write
    access is opened read-only: it can be listed, verified and restored.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection, *, readonly: bool = False) -> None:
        self.path = path
        self.backend = StoreBackend(path, conn, readonly=readonly)
        self.compression = Compression()

    # ------------------------------------------------------------ opening

    @classmethod
    def create(cls, path: str | os.PathLike[str]) -> Store:
        """Create a new store at ``path`` (which must not exist or be an empty directory)."""
        create(Path(path))
        return cls.open(path)

    @classmethod
    def open_or_create(cls, path: str | os.PathLike[str]) -> Store:
        """Open the store at ``path``, or create it there if there is none yet.

        What an interrupted creation left at ``path`` is replaced by a new store.
        """
        p = Path(path)
        remove_stale_creations(p)
        if p.is_dir() and interrupted_creation(p):
            shutil.rmtree(p)
        if not p.exists() or (p.is_dir() and not any(p.iterdir())):
            return cls.create(p)
        return cls.open(p)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Store:
        """Open an existing store without changing it.

        Opening never takes the writer lock: a reader polling a store that
        another process checkpoints into must not make that writer's next
        checkpoint find the store busy. What interrupted writes left is
        removed by the next writer (or gc), under the lock.
        """
        p = Path(path)
        if not p.exists():
            raise StoreError(f"{p}: store does not exist")
        if not p.is_dir():
            raise StoreError(f"{p}: is not an rtcr store (not a directory)")
        if not (p / DB_NAME).is_file():
            raise StoreError(f"{p}: is not an rtcr store (no {DB_NAME})")
        readonly = not writable(p)
        with db_errors(p):
            conn = _connect(p, readonly)
            try:
                version = _format_version(p, conn)
                if version == LEGACY_FORMAT:
                    raise StoreError(f"{p}: store format 1 (written by rtcr 0.1); convert it "
                                     f"with: rtcr upgrade {p}")
                if version > FORMAT_VERSION:
                    raise StoreError(
                        f"{p}: store format {version} is newer than this rtcr supports "
                        f"({FORMAT_VERSION}); upgrade rtcr")
                if version < LEGACY_FORMAT:
                    raise StoreError(f"{p}: store format version {version} is invalid")
            except BaseException:
                conn.close()
                raise
        return cls(p, conn, readonly=readonly)

    @property
    def readonly(self) -> bool:
        return self.backend.readonly

    def close(self) -> None:
        """Close the store (aborting an unfinished checkpoint)."""
        writer = self.backend.writing
        if isinstance(writer, CheckpointWriter):
            writer.abort()
        self.backend.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Store {self.path}>"

    # ------------------------------------------------------------ writing

    def begin(self, parent: int | None = None,
              compression: Compression | None = None) -> CheckpointWriter:
        """Start a checkpoint; ``parent`` must be a committed checkpoint (or None: full).

        New blobs get ``compression`` (default: the store's `compression`).
        """
        return CheckpointWriter(self.backend, parent, compression or self.compression)

    # ------------------------------------------------------------ listing

    def checkpoints(self) -> list[CheckpointInfo]:
        """Every committed checkpoint, ascending id (records are not verified here)."""
        conn = self.backend.conn()
        with self.backend.errors():
            rows = conn.execute(f"SELECT {INFO_COLUMNS} FROM checkpoints ORDER BY id").fetchall()
        return [CheckpointInfo(*r) for r in rows]

    def ids(self) -> list[int]:
        """Ids of the committed checkpoints, ascending."""
        with self.backend.errors():
            return self.backend.ids(self.backend.conn())

    def newest(self) -> int | None:
        conn = self.backend.conn()
        with self.backend.errors():
            row = conn.execute("SELECT max(id) FROM checkpoints").fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def info(self, cid: int) -> CheckpointInfo:
        conn = self.backend.conn()
        with self.backend.errors():
            row = conn.execute(f"SELECT {INFO_COLUMNS} FROM checkpoints WHERE id=?",
                               (cid,)).fetchone()
        if row is None:
            raise UnknownCheckpoint(f"no checkpoint {cid} in {self.path}")
        return CheckpointInfo(*row)

    def manifest(self, cid: int) -> dict[str, Any]:
        """The manifest of checkpoint ``cid``, its record and manifest verified.

        Its ancestors are not read: what a listing shows of the newest of a
        chain of thousands (`load` verifies the whole chain's page tables).
        """
        conn = self.backend.conn()
        with self.backend.errors():
            try:
                record = load_record(conn, cid)
                if record is None:
                    raise UnknownCheckpoint(f"no checkpoint {cid} in {self.path}")
                return load_manifest(conn, record)
            except (RecordProblem, ValueError) as exc:
                raise CorruptCheckpoint(cid, str(exc)) from None

    def load(self, cid: int) -> Checkpoint:
        """Load checkpoint ``cid`` (verifying its record, manifest and its ancestors' tables)."""
        if not isinstance(cid, int) or isinstance(cid, bool):
            raise InvalidArgument(f"checkpoint id must be an int, not {cid!r}")
        backend = self.backend
        backend.check_usable()
        conn = backend.conn()
        with backend.errors():
            chain = load_chain(conn, cid, self.path)
            try:
                manifest = load_manifest(conn, chain[0])
            except (RecordProblem, ValueError) as exc:
                raise CorruptCheckpoint(cid, str(exc)) from None
            packs = backend.registered_packs(conn)
        return Checkpoint(backend, chain, manifest, packs)

    def page_map(self, cid: int) -> dict[str, tuple[int, list[int]]]:
        """Unverified overview for tools: key -> (npages, indices stored by checkpoint ``cid``)."""
        conn = self.backend.conn()
        with self.backend.errors():
            if conn.execute("SELECT 1 FROM checkpoints WHERE id=?", (cid,)).fetchone() is None:
                raise UnknownCheckpoint(f"no checkpoint {cid} in {self.path}")
            out: dict[str, tuple[int, list[int]]] = {}
            for key, npages, indices in conn.execute(
                "SELECT key, npages, indices FROM objects WHERE cid=? ORDER BY key", (cid,)
            ).fetchall():
                table = PageTable(bytes(indices), b"", b"")
                out[str(key)] = (int(npages), [i for i in table.index_list() if i < npages])
        return out

    def _scan_blobs(self) -> tuple[int, int, dict[tuple[int, int], tuple[int, int]]]:
        """(page entries, non-zero ones, (pack, offset) -> (owner, length)), unverified."""
        conn = self.backend.conn()
        rows = nonzero = 0
        blobs: dict[tuple[int, int], tuple[int, int]] = {}
        with self.backend.errors():
            for cid, locations in conn.execute(
                    "SELECT cid, locations FROM objects ORDER BY cid").fetchall():
                locs = PageTable(b"", b"", bytes(locations)).location_list()
                rows += len(locs) // 4
                for k in range(0, len(locs), 4):
                    if locs[k + 3] != Codec.ZERO:
                        nonzero += 1
                        blobs.setdefault((locs[k], locs[k + 1]), (int(cid), locs[k + 2]))
        return rows, nonzero, blobs

    def blobs(self) -> list[BlobInfo]:
        """Every stored blob, by pack and offset (an unverified overview for tools)."""
        _rows, _nonzero, blobs = self._scan_blobs()
        return [BlobInfo(owner, pack, self.backend.packs.path(pack), offset, length)
                for (pack, offset), (owner, length) in sorted(blobs.items())]

    def stats(self) -> StoreStats:
        conn = self.backend.conn()
        with self.backend.errors():
            (n,) = conn.execute("SELECT count(*) FROM checkpoints").fetchone()
        rows, nonzero, blobs = self._scan_blobs()
        pack_bytes = sum(p.stat().st_size for p in self.backend.packs.listing().values()
                         if p.exists())
        db_bytes = sum(os.stat(f).st_size for f in (self.backend.db_path,
                                                    Path(f"{self.backend.db_path}-wal"))
                       if os.path.exists(f))
        return StoreStats(n, rows, nonzero, len(blobs), sum(n for _o, n in blobs.values()),
                          pack_bytes, db_bytes)

    # ------------------------------------------------------------ verify / gc

    def tags(self) -> dict[str, int]:
        """Every tag and the checkpoint it names (verified)."""
        return read_tags(self.backend)

    def tag(self, name: str, cid: int) -> None:
        """Name checkpoint ``cid`` ``name`` (a tag of that name moves to it)."""
        write_tag(self.backend, name, cid)

    def untag(self, name: str) -> None:
        write_tag(self.backend, name, None)

    def resolve(self, ref: str | int) -> int:
        """The checkpoint id ``ref`` means: an id (it must exist), or a tag."""
        if isinstance(ref, int) or ref.isdigit():
            cid = int(ref)
            self.info(cid)
            return cid
        tags = self.tags()
        if ref not in tags:
            raise UnknownCheckpoint(f"no checkpoint or tag {ref!r} in {self.path}")
        return tags[ref]

    def verify(self, cid: int | None = None,
               on_checked: Callable[[int], None] | None = None) -> VerifyReport:
        """Re-check one checkpoint (with its ancestors) or all of them (see `verify`)."""
        return verify(self.backend, cid, on_checked)

    def gc(self, keep: int, *, keep_also: Collection[int] = (), remove: Collection[int] = (),
           force: bool = False, dry_run: bool = False) -> GcReport:
        """Keep only the newest ``keep`` checkpoints (and ``keep_also``, but not ``remove``);
        free the space of everything else.

        See `rtcr.store.gc` for the rules (verification, ``force``, full disks).
        """
        return gc(self.backend, keep, keep_also=keep_also, remove=remove, force=force,
                  dry_run=dry_run)

    def retain(self, policy: Retention) -> Retained:
        """Apply a run's rolling window (`rtcr.store.gc.Retention`) now."""
        return retain(self.backend, policy)
