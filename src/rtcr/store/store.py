"""The persistent checkpoint store: a directory of SQLite metadata and pack files."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from rtcr.errors import CorruptCheckpoint, InvalidArgument, StoreError, UnknownCheckpoint

from ._common import (
    DB_NAME,
    FORMAT_VERSION,
    INFO_COLUMNS,
    LOCK_NAME,
    PACK_DIR,
    PAGE_SIZE,
    SCHEMA,
    ZERO_HASH,
    BlobProblem,
    CheckpointInfo,
    Node,
    NodeProblem,
    ObjRec,
    PackReader,
    connect,
    db_errors,
    fsync_dir,
    info_checksum,
    info_from_row,
    lineage,
    load_manifest,
    load_node,
    meta_int,
    owner_of,
    pack_name,
    pack_number,
    scan_table,
)
from .checkpoint import Checkpoint
from .writer import CheckpointWriter


@dataclass
class VerifyReport:
    """Result of ``Store.verify``: per-checkpoint verdicts and store-level problems."""

    checked: list[int] = field(default_factory=list)
    corrupt: dict[int, str] = field(default_factory=dict)
    store_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.corrupt and not self.store_errors

    def status(self, cid: int) -> str | None:
        """None if checkpoint ``cid`` verified, else why not."""
        return self.corrupt.get(cid)


@dataclass
class GcReport:
    """Result of ``Store.gc``."""

    removed: list[int]
    flattened: list[int]
    blobs_freed: int
    bytes_freed: int


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


class Store:
    """A checkpoint store directory. Create with ``Store.create``, open with ``Store.open``.

    One writer at a time (an advisory lock on ``store.lock`` guards writes
    and gc across processes); any number of readers.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._db_path = path / DB_NAME
        self._pack_dir = path / PACK_DIR
        self._conn: sqlite3.Connection | None = conn
        self._reader = PackReader(self._pack_dir)
        self._writer: CheckpointWriter | None = None
        self._generation = 0
        self._damaged: str | None = None

    # ------------------------------------------------------------ opening

    @classmethod
    def create(cls, path: str | os.PathLike[str]) -> Store:
        """Create a new store in ``path`` (which must not exist or be an empty directory)."""
        p = Path(path)
        if p.exists():
            if not p.is_dir():
                raise StoreError(f"{p}: exists and is not a directory")
            if any(p.iterdir()):
                raise StoreError(f"{p}: directory is not empty; not creating a store there")
        try:
            p.mkdir(parents=True, exist_ok=True)
            (p / PACK_DIR).mkdir()
            (p / LOCK_NAME).touch()
        except OSError as exc:
            raise StoreError(f"{p}: cannot create store: {exc.strerror or exc}") from exc
        with db_errors(p):
            conn = connect(p / DB_NAME, create=True)
            try:
                conn.execute("BEGIN IMMEDIATE")
                for stmt in SCHEMA.split(";"):
                    if stmt.strip():
                        conn.execute(stmt)
                conn.executemany(
                    "INSERT INTO meta(key, value) VALUES (?,?)",
                    [("format", str(FORMAT_VERSION)), ("seq", "0"), ("last_id", "0"),
                     ("created", repr(time.time()))],
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.close()
                raise
        fsync_dir(p)
        return cls(p, conn)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Store:
        """Open an existing store; cleans up pack files of interrupted writes."""
        p = Path(path)
        if not p.exists():
            raise StoreError(f"{p}: store does not exist")
        if not p.is_dir():
            raise StoreError(f"{p}: is not an rtcr store (not a directory)")
        if not (p / DB_NAME).is_file():
            raise StoreError(f"{p}: is not an rtcr store (no {DB_NAME})")
        with db_errors(p):
            conn = connect(p / DB_NAME)
            try:
                try:
                    row = conn.execute("SELECT value FROM meta WHERE key='format'").fetchone()
                except sqlite3.OperationalError as exc:
                    if "no such table" in str(exc):
                        raise StoreError(f"{p}: is not an rtcr store (no store metadata)") from exc
                    raise
                if row is None:
                    raise StoreError(f"{p}: is not an rtcr store (no format version)")
                try:
                    version = int(row[0])
                except (TypeError, ValueError):
                    raise StoreError(f"{p}: store format version {row[0]!r} is unreadable; "
                                     "the store metadata is corrupt") from None
                if version > FORMAT_VERSION:
                    raise StoreError(
                        f"{p}: store format {version} is newer than this rtcr supports "
                        f"({FORMAT_VERSION}); upgrade rtcr")
                if version < 1:
                    raise StoreError(f"{p}: store format version {version} is invalid")
            except BaseException:
                conn.close()
                raise
        store = cls(p, conn)
        try:
            lock = store._try_lock()
            if lock is not None:
                try:
                    with store._db_errors():
                        store._clean_orphans(conn)
                        store._empty_trash(conn)
                finally:
                    store._unlock(lock)
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        """Close the store (aborting an unfinished checkpoint)."""
        if self._writer is not None:
            self._writer.abort()
        self._reader.close()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with suppress(sqlite3.Error, UnicodeDecodeError):
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()

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

    # ------------------------------------------------------------ internals

    def _check_open(self) -> None:
        if self._conn is None:
            raise StoreError(f"{self.path}: store is closed")

    def _conn_checked(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"{self.path}: store is closed")
        return self._conn

    @contextmanager
    def _db_errors(self) -> Iterator[None]:
        try:
            with db_errors(self.path):
                yield
        except StoreError as exc:
            cause = exc.__cause__
            if isinstance(cause, UnicodeDecodeError) or (
                isinstance(cause, sqlite3.DatabaseError)
                and not isinstance(cause, sqlite3.OperationalError)
            ):
                self._damaged = str(cause)
            raise

    def _check_usable(self) -> None:
        """Once the metadata database proved damaged, nothing is restored or written."""
        self._check_open()
        if self._damaged is not None:
            raise StoreError(f"{self.path}: store metadata (store.sqlite) is damaged "
                             f"({self._damaged}); refusing to use it (see rtcr verify)")

    def _writer_conn(self) -> sqlite3.Connection:
        return connect(self._db_path)

    def _try_lock(self) -> int | None:
        try:
            fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        return fd

    def _lock(self) -> int:
        fd = self._try_lock()
        if fd is None:
            raise StoreError(f"{self.path}: store is busy (another process is writing to it)")
        return fd

    @staticmethod
    def _unlock(fd: int) -> None:
        os.close(fd)  # releases the flock

    def _next_id(self, conn: sqlite3.Connection) -> int:
        (top,) = conn.execute("SELECT coalesce(max(id), 0) FROM checkpoints").fetchone()
        row = conn.execute("SELECT value FROM meta WHERE key='last_id'").fetchone()
        last = meta_int(row[0] if row else None, "the last checkpoint id")
        return max(meta_int(top, "the newest checkpoint id"), last) + 1

    @staticmethod
    def _scan_ids(conn: sqlite3.Connection) -> list[int]:
        ids = [r[0] for r in conn.execute("SELECT id FROM checkpoints ORDER BY id")]
        return [meta_int(i, "a checkpoint id") for i in ids]

    def _pack_files(self) -> dict[int, Path]:
        out: dict[int, Path] = {}
        try:
            names = os.listdir(self._pack_dir)
        except OSError as exc:
            raise StoreError(f"{self.path}: pack directory unreadable: {exc}") from exc
        for name in names:
            n = pack_number(name)
            if n is not None:
                out[n] = self._pack_dir / name
        return out

    def _next_pack_id(self, conn: sqlite3.Connection, prefer: int | None = None) -> int:
        registered = {r[0] for r in conn.execute("SELECT id FROM packs")}
        registered |= {r[0] for r in conn.execute("SELECT pack FROM trash")}
        taken = registered | set(self._pack_files())
        if prefer is not None and prefer not in taken and all(
            isinstance(t, int) and t < prefer for t in taken
        ):
            return prefer
        return max((t for t in taken if isinstance(t, int)), default=0) + 1

    def _clean_orphans(self, conn: sqlite3.Connection) -> None:
        """Delete pack files of writes that never committed (caller holds the lock).

        An orphan is a pack file newer than every registered pack that no
        blob references; older unregistered files are left alone (they can
        only appear through corruption, and may help a human recover).
        """
        registered = {r[0] for r in conn.execute("SELECT id FROM packs")}
        top = max((r for r in registered if isinstance(r, int)), default=0)
        removed = False
        for number, path in self._pack_files().items():
            if number in registered or number <= top:
                continue
            if conn.execute("SELECT 1 FROM blobs WHERE pack=? LIMIT 1", (number,)).fetchone():
                continue
            with suppress(FileNotFoundError):
                path.unlink()
            removed = True
        if removed:
            fsync_dir(self._pack_dir)

    def _empty_trash(self, conn: sqlite3.Connection) -> None:
        """Delete pack files that a committed gc released (caller holds the lock)."""
        doomed = [r[0] for r in conn.execute("SELECT pack FROM trash")]
        if not doomed:
            return
        for number in doomed:
            if isinstance(number, int):
                with suppress(FileNotFoundError):
                    (self._pack_dir / pack_name(number)).unlink()
        fsync_dir(self._pack_dir)
        conn.execute("DELETE FROM trash")

    # ------------------------------------------------------------ public API

    def begin(self, parent: int | None = None) -> CheckpointWriter:
        """Start a checkpoint; ``parent`` must be a committed checkpoint (or None: full)."""
        return CheckpointWriter(self, parent)

    def checkpoints(self) -> list[CheckpointInfo]:
        """Every committed checkpoint, ascending id (records are not verified here)."""
        conn = self._conn_checked()
        with self._db_errors():
            rows = conn.execute(f"SELECT {INFO_COLUMNS} FROM checkpoints ORDER BY id").fetchall()
        return [info_from_row(r) for r in rows]

    def ids(self) -> list[int]:
        """Ids of the committed checkpoints, ascending."""
        conn = self._conn_checked()
        with self._db_errors():
            return self._scan_ids(conn)

    def newest(self) -> int | None:
        conn = self._conn_checked()
        with self._db_errors():
            row = conn.execute("SELECT max(id) FROM checkpoints").fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def info(self, cid: int) -> CheckpointInfo:
        conn = self._conn_checked()
        with self._db_errors():
            row = conn.execute(f"SELECT {INFO_COLUMNS} FROM checkpoints WHERE id=?",
                               (cid,)).fetchone()
        if row is None:
            raise UnknownCheckpoint(f"no checkpoint {cid} in {self.path}")
        return info_from_row(row)

    def _chain(self, cid: int) -> list[Node]:
        """Load ``cid`` and its ancestors, verified; raises CorruptCheckpoint(cid, ...)."""
        conn = self._conn_checked()
        chain: list[Node] = []
        cur: int | None = cid
        while cur is not None:
            try:
                node = load_node(conn, cur)
            except NodeProblem as exc:
                if cur == cid:
                    raise CorruptCheckpoint(cid, str(exc)) from None
                raise CorruptCheckpoint(cid, f"ancestor {cur}: {exc}") from None
            if node is None:
                if cur == cid:
                    raise UnknownCheckpoint(f"no checkpoint {cid} in {self.path}")
                raise CorruptCheckpoint(cid, f"ancestor {cur} is missing")
            chain.append(node)
            cur = node.info.parent
        return chain

    def load(self, cid: int) -> Checkpoint:
        """Load checkpoint ``cid`` (verifying its record, manifest and its ancestors' tables)."""
        if not isinstance(cid, int) or isinstance(cid, bool):
            raise InvalidArgument(f"checkpoint id must be an int, not {cid!r}")
        self._check_usable()
        conn = self._conn_checked()
        with self._db_errors():
            chain = self._chain(cid)
            try:
                manifest = load_manifest(conn, chain[0])
            except (NodeProblem, ValueError) as exc:
                raise CorruptCheckpoint(cid, str(exc)) from None
        return Checkpoint(self, chain, manifest)

    def page_map(self, cid: int) -> dict[str, tuple[int, list[int]]]:
        """Unverified overview for tools: key -> (npages, indices stored by checkpoint ``cid``)."""
        conn = self._conn_checked()
        with self._db_errors():
            if conn.execute("SELECT 1 FROM checkpoints WHERE id=?", (cid,)).fetchone() is None:
                raise UnknownCheckpoint(f"no checkpoint {cid} in {self.path}")
            out: dict[str, tuple[int, list[int]]] = {}
            for oid, key, npages in conn.execute(
                "SELECT oid, key, npages FROM objects WHERE cid=? ORDER BY key", (cid,)
            ).fetchall():
                idx = [r[0] for r in conn.execute(
                    "SELECT idx FROM pages WHERE oid=? AND idx<? ORDER BY idx", (oid, npages))]
                out[str(key)] = (int(npages), idx)
        return out

    def stats(self) -> StoreStats:
        conn = self._conn_checked()
        with self._db_errors():
            (n,) = conn.execute("SELECT count(*) FROM checkpoints").fetchone()
            (rows,) = conn.execute("SELECT count(*) FROM pages").fetchone()
            (zero,) = conn.execute("SELECT count(*) FROM pages WHERE hash=?",
                                   (ZERO_HASH,)).fetchone()
            blobs, blob_bytes = conn.execute(
                "SELECT count(*), coalesce(sum(length), 0) FROM blobs").fetchone()
        pack_bytes = 0
        for p in self._pack_files().values():
            with suppress(OSError):
                pack_bytes += p.stat().st_size
        db_bytes = 0
        for suffix in ("", "-wal"):
            with suppress(OSError):
                db_bytes += Path(str(self._db_path) + suffix).stat().st_size
        return StoreStats(n, rows, rows - zero, blobs, blob_bytes, pack_bytes, db_bytes)

    # ------------------------------------------------------------ verify

    def verify(self, cid: int | None = None) -> VerifyReport:
        """Re-check one checkpoint (with its ancestors) or all of them.

        Never raises because a checkpoint is corrupt: the report says which
        ones are and why. Raises StoreError if the store cannot be read at all
        (or UnknownCheckpoint for an unknown ``cid``).
        """
        conn = self._conn_checked()
        report = VerifyReport()
        with self._db_errors():
            if cid is not None and conn.execute(
                "SELECT 1 FROM checkpoints WHERE id=?", (cid,)
            ).fetchone() is None:
                raise UnknownCheckpoint(f"no checkpoint {cid} in {self.path}")
            try:
                problems = [r[0] for r in conn.execute("PRAGMA quick_check")]
            except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
                problems = [str(exc)]
            if problems != ["ok"]:
                self._damaged = "; ".join(str(p) for p in problems[:2])
                report.store_errors.append("metadata database: " + "; ".join(
                    str(p) for p in problems[:5]))
            raw_ids = [r[0] for r in conn.execute("SELECT id FROM checkpoints ORDER BY id")]
            ids = [i for i in raw_ids if isinstance(i, int)]
            if len(ids) != len(raw_ids):
                report.store_errors.append("checkpoint table holds malformed ids")
            if cid is None:
                row = conn.execute("SELECT value FROM meta WHERE key='last_id'").fetchone()
                last = int(row[0]) if row and str(row[0]).isdigit() else None
                if ids and (ids != list(range(ids[0], ids[-1] + 1)) or last != ids[-1]):
                    report.store_errors.append(
                        f"checkpoint ids are not contiguous up to the newest ({last})")
            targets = ids if cid is None else [cid]

        blob_cache: dict[bytes, str | None] = {}
        nodes: dict[int, Node | str | None] = {}
        bad_rows: dict[int, list[tuple[ObjRec, int, str]]] = {}

        def node_of(n: int) -> Node | str | None:
            if n in nodes:
                return nodes[n]
            found: list[tuple[ObjRec, int, str]] = []

            def hook(rec: ObjRec, idx: int, digest: bytes) -> None:
                if digest == ZERO_HASH:
                    return
                if digest not in blob_cache:
                    try:
                        self._reader.read(conn, digest)
                        blob_cache[digest] = None
                    except BlobProblem as exc:
                        blob_cache[digest] = str(exc)
                problem = blob_cache[digest]
                if problem is not None:
                    found.append((rec, idx, problem))

            result: Node | str | None
            try:
                with self._db_errors():
                    result = load_node(conn, n, hook)
            except NodeProblem as exc:
                result = str(exc)
            except StoreError as exc:
                result = str(exc)
            nodes[n] = result
            bad_rows[n] = found
            return result

        for t in targets:
            report.checked.append(t)
            reason = self._verdict(conn, t, node_of, bad_rows)
            if reason is not None:
                report.corrupt[t] = reason
        return report

    def _verdict(
        self,
        conn: sqlite3.Connection,
        t: int,
        node_of: Any,
        bad_rows: dict[int, list[tuple[ObjRec, int, str]]],
    ) -> str | None:
        own = node_of(t)
        if own is None:
            return "record is missing"
        if isinstance(own, str):
            return own
        try:
            with self._db_errors():
                load_manifest(conn, own)
        except (NodeProblem, StoreError, ValueError) as exc:
            return str(exc)
        chain: list[Node] = [own]
        cur = own.info.parent
        while cur is not None:
            node = node_of(cur)
            if node is None:
                return f"ancestor {cur} is missing"
            if isinstance(node, str):
                return f"ancestor {cur}: {node}"
            chain.append(node)
            cur = node.info.parent
        lineages: dict[str, list[tuple[Node, ObjRec]]] = {}
        for node in chain:
            for rec, idx, problem in bad_rows.get(node.info.id, []):
                lin = lineages.get(rec.key)
                if lin is None:
                    lin = lineages[rec.key] = lineage(chain, rec.key)
                found = owner_of(lin, idx)
                if found is not None and found[1] is rec:
                    where = "" if node is own else f" (stored in ancestor {node.info.id})"
                    return f"page {rec.key}[{idx}]{where}: {problem}"
        return None

    # ------------------------------------------------------------ gc

    def gc(self, keep: int) -> GcReport:
        """Keep only the newest ``keep`` checkpoints; free the space of everything else.

        Kept checkpoints whose parent goes away become self-contained (their
        inherited pages are copied into their own page table), unreferenced
        blobs are dropped and pack files holding them are rewritten. The
        metadata changes in one transaction after the new pack is durable;
        a crash at any point leaves either the old or the new state.
        """
        if not isinstance(keep, int) or isinstance(keep, bool) or keep < 0:
            raise InvalidArgument(f"keep must be a non-negative int, not {keep!r}")
        conn = self._conn_checked()
        self._check_usable()
        if self._writer is not None:
            raise StoreError("cannot gc while a checkpoint is being written")
        lock = self._lock()
        new_pack: Path | None = None
        wconn: sqlite3.Connection | None = None
        try:
            with self._db_errors():
                self._clean_orphans(conn)
                self._empty_trash(conn)
                ids = self._scan_ids(conn)
                kept = ids[len(ids) - keep:] if keep else []
                removed = ids[: len(ids) - len(kept)]
                threshold = kept[0] if kept else (ids[-1] + 1 if ids else 1)
                # Verify what will be rewritten, so that gc never launders corruption.
                chains: dict[int, list[Node]] = {}
                kept_nodes: dict[int, Node] = {}
                for c in kept:
                    try:
                        node = load_node(conn, c)
                    except NodeProblem as exc:
                        raise CorruptCheckpoint(c, f"{exc}; gc refused") from None
                    assert node is not None
                    kept_nodes[c] = node
                    if node.info.parent is not None and node.info.parent < threshold:
                        try:
                            chains[c] = self._chain(c)
                        except CorruptCheckpoint as exc:
                            raise CorruptCheckpoint(c, f"{exc.what}; gc refused") from None

                wconn = self._writer_conn()
                wconn.execute("BEGIN IMMEDIATE")
                for chain in chains.values():
                    for key, rec in chain[0].objects.items():
                        for _node, anc in lineage(chain, key)[1:]:
                            wconn.execute(
                                "INSERT OR IGNORE INTO pages(oid, idx, hash) "
                                "SELECT ?, idx, hash FROM pages WHERE oid=? AND idx<?",
                                (rec.oid, anc.oid, rec.npages),
                            )
                wconn.execute("DELETE FROM pages WHERE oid IN "
                              "(SELECT oid FROM objects WHERE cid<?)", (threshold,))
                wconn.execute("DELETE FROM objects WHERE cid<?", (threshold,))
                wconn.execute("DELETE FROM manifests WHERE cid<?", (threshold,))
                wconn.execute("DELETE FROM checkpoints WHERE id<?", (threshold,))
                wconn.execute("CREATE TEMP TABLE refs(hash BLOB PRIMARY KEY, cid INTEGER) "
                              "WITHOUT ROWID")
                wconn.execute("INSERT INTO refs SELECT p.hash, min(o.cid) FROM pages p "
                              "JOIN objects o ON o.oid=p.oid GROUP BY p.hash")
                (blobs_freed,) = wconn.execute(
                    "SELECT count(*) FROM blobs WHERE hash NOT IN (SELECT hash FROM refs)"
                ).fetchone()
                wconn.execute("DELETE FROM blobs WHERE hash NOT IN (SELECT hash FROM refs)")
                wconn.execute("UPDATE blobs SET owner=(SELECT cid FROM refs "
                              "WHERE refs.hash=blobs.hash) WHERE owner<?", (threshold,))
                sizes = {meta_int(p, "a pack id"): meta_int(n, "a pack size") for p, n in
                         wconn.execute("SELECT id, size FROM packs").fetchall()}
                live = {p: meta_int(n, "a blob length") for p, n in wconn.execute(
                    "SELECT pack, sum(length) FROM blobs GROUP BY pack").fetchall()}
                rewrite = sorted(p for p, size in sizes.items() if live.get(p, 0) < size)
                bytes_freed = sum(sizes[p] for p in rewrite)
                if any(live.get(p, 0) for p in rewrite):
                    pack_id = self._next_pack_id(wconn)
                    new_pack = self._pack_dir / pack_name(pack_id)
                    size = self._copy_live(wconn, rewrite, pack_id, new_pack)
                    wconn.execute("INSERT INTO packs(id, size) VALUES (?,?)", (pack_id, size))
                    bytes_freed -= size
                for p in rewrite:
                    wconn.execute("DELETE FROM packs WHERE id=?", (p,))
                    wconn.execute("INSERT OR IGNORE INTO trash(pack) VALUES (?)", (p,))
                owned = {o: meta_int(n, "a blob length") for o, n in wconn.execute(
                    "SELECT owner, sum(length) FROM blobs GROUP BY owner").fetchall()}
                for c in kept:
                    self._rewrite_record(wconn, kept_nodes[c], c in chains, owned.get(c, 0))
                if removed:
                    last = max(ids[-1], self._next_id(wconn) - 1)
                    wconn.execute("UPDATE meta SET value=? WHERE key='last_id'", (str(last),))
                wconn.execute("COMMIT")
                new_pack = None
                self._generation += 1
                self._reader.close()
                self._empty_trash(conn)
                with suppress(sqlite3.Error, UnicodeDecodeError):
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            if wconn is not None:
                if wconn.in_transaction:
                    with suppress(sqlite3.Error, UnicodeDecodeError):
                        wconn.execute("ROLLBACK")
                wconn.close()
            if new_pack is not None:
                with suppress(FileNotFoundError):
                    new_pack.unlink()
            self._unlock(lock)
        return GcReport(removed, sorted(chains), int(blobs_freed), int(bytes_freed))

    def _copy_live(
        self, wconn: sqlite3.Connection, packs: list[int], pack_id: int, path: Path
    ) -> int:
        """Copy the live blobs of ``packs`` into a new durable pack; repoint them."""
        wconn.execute("CREATE TEMP TABLE moved(hash BLOB PRIMARY KEY, off INTEGER) WITHOUT ROWID")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        offset = 0
        try:
            src: dict[int, int] = {}
            try:
                marks = ",".join("?" * len(packs))
                for digest, pack, off, length in wconn.execute(
                    f"SELECT hash, pack, offset, length FROM blobs WHERE pack IN ({marks}) "
                    "ORDER BY pack, offset", packs,
                ).fetchall():
                    if pack not in src:
                        try:
                            src[pack] = os.open(self._pack_dir / pack_name(pack), os.O_RDONLY)
                        except OSError as exc:
                            raise StoreError(f"{self.path}: pack {pack_name(pack)} is "
                                             "unreadable; gc refused (run rtcr verify)") from exc
                    data = os.pread(src[pack], length, off)
                    if len(data) != length:
                        raise StoreError(f"{self.path}: pack {pack_name(pack)} is truncated; "
                                         "gc refused (run rtcr verify)")
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                    wconn.execute("INSERT INTO moved(hash, off) VALUES (?,?)", (digest, offset))
                    offset += length
            finally:
                for s in src.values():
                    os.close(s)
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_dir(self._pack_dir)
        wconn.execute(
            "UPDATE blobs SET pack=?, offset=(SELECT off FROM moved WHERE moved.hash=blobs.hash) "
            "WHERE hash IN (SELECT hash FROM moved)", (pack_id,),
        )
        return offset

    @staticmethod
    def _rewrite_record(
        wconn: sqlite3.Connection, node: Node, flattened: bool, owned_bytes: int
    ) -> None:
        info = node.info
        table_hash = node.table_hash
        pages = info.pages
        parent = info.parent
        if flattened:
            table_hash, pages, _objs = scan_table(wconn, info.id)
            parent = None
        if not flattened and owned_bytes == info.bytes:
            return
        row = (info.id, parent, info.instructions, pages, int(owned_bytes), pages * PAGE_SIZE,
               info.dirty_pages, info.pause_us, info.strategy, info.created, info.time)
        checksum = info_checksum(row, node.manifest_hash, table_hash)
        wconn.execute(
            "UPDATE checkpoints SET parent=?, pages=?, bytes=?, raw_bytes=?, table_hash=?, "
            "checksum=? WHERE id=?",
            (parent, pages, int(owned_bytes), pages * PAGE_SIZE, table_hash, checksum, info.id),
        )
