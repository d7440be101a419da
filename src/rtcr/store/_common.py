"""Shared pieces of the store: format constants, schema, checksums, blob I/O, chain loading.

Nothing here is public; ``rtcr.store`` re-exports what callers need.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import zstandard

from rtcr.errors import StoreError

PAGE_SIZE = 4096
FORMAT_VERSION = 1
DB_NAME = "store.sqlite"
PACK_DIR = "packs"
LOCK_NAME = "store.lock"
HASH_SIZE = 32

CODEC_RAW = 0
CODEC_ZSTD = 1

ZERO_PAGE = bytes(PAGE_SIZE)


def page_hash(data: bytes | bytearray | memoryview) -> bytes:
    """The content address of a page: blake2b-256 of its uncompressed bytes."""
    return hashlib.blake2b(data, digest_size=HASH_SIZE).digest()


ZERO_HASH = page_hash(ZERO_PAGE)

SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE checkpoints(
    id INTEGER PRIMARY KEY,
    parent INTEGER,
    instructions INTEGER NOT NULL,
    pages INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    raw_bytes INTEGER NOT NULL,
    dirty_pages INTEGER NOT NULL,
    pause_us REAL NOT NULL,
    strategy TEXT NOT NULL,
    created INTEGER NOT NULL,
    time REAL NOT NULL,
    manifest_hash BLOB NOT NULL,
    table_hash BLOB NOT NULL,
    checksum BLOB NOT NULL
);
CREATE TABLE manifests(cid INTEGER PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE objects(
    oid INTEGER PRIMARY KEY,
    cid INTEGER NOT NULL,
    key TEXT NOT NULL,
    npages INTEGER NOT NULL,
    fresh INTEGER NOT NULL,
    UNIQUE(cid, key)
);
CREATE TABLE pages(
    oid INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY(oid, idx)
) WITHOUT ROWID;
CREATE TABLE blobs(
    hash BLOB PRIMARY KEY,
    pack INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    codec INTEGER NOT NULL,
    owner INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE packs(id INTEGER PRIMARY KEY, size INTEGER NOT NULL);
CREATE TABLE trash(pack INTEGER PRIMARY KEY);
"""

INFO_COLUMNS = (
    "id, parent, instructions, pages, bytes, raw_bytes, dirty_pages, pause_us, strategy, "
    "created, time"
)

_PACK_RE = re.compile(r"^(\d{6,})\.pack$")


def pack_name(pack_id: int) -> str:
    return f"{pack_id:06d}.pack"


def pack_number(name: str) -> int | None:
    m = _PACK_RE.match(name)
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class CheckpointInfo:
    """What the store knows about one committed checkpoint (no page data).

    ``pages`` counts the page entries carried by this checkpoint itself
    (explicit zero pages included), ``raw_bytes`` is ``pages * 4096``,
    ``bytes`` the compressed bytes of the page blobs this checkpoint was the
    first to store (deduplicated pages cost nothing), ``created`` a
    store-local commit sequence number and ``time`` the wall-clock commit
    time (seconds since the epoch; metadata only).
    """

    id: int
    parent: int | None
    instructions: int
    pages: int
    bytes: int
    raw_bytes: int
    dirty_pages: int
    pause_us: float
    strategy: str
    created: int
    time: float

    @property
    def compression_ratio(self) -> float | None:
        """``raw_bytes / bytes``: compression and dedup together (None if nothing stored)."""
        if self.bytes <= 0:
            return None
        return self.raw_bytes / self.bytes

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["compression_ratio"] = self.compression_ratio
        return d


def info_from_row(row: tuple[Any, ...]) -> CheckpointInfo:
    return CheckpointInfo(*row)


def info_checksum(info_row: tuple[Any, ...], manifest_hash: bytes, table_hash: bytes) -> bytes:
    """Checksum over the info fields (as stored) and the manifest / page-table hashes.

    Raises TypeError/ValueError if a field has a type it can never have had.
    """
    if not isinstance(manifest_hash, bytes) or not isinstance(table_hash, bytes):
        raise TypeError("hash columns are not blobs")
    doc = [FORMAT_VERSION, *info_row, manifest_hash.hex(), table_hash.hex()]
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False)
    return hashlib.blake2b(text.encode(), digest_size=HASH_SIZE).digest()


def manifest_json(manifest: Any) -> str:
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), allow_nan=False)


def manifest_digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=HASH_SIZE).digest()


# ---------------------------------------------------------------- SQLite


def _text(raw: bytes) -> str | bytes:
    """Decode TEXT columns; damaged (non-UTF-8) text stays bytes and fails the type checks."""
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw


def connect(db_path: Path, *, create: bool = False) -> sqlite3.Connection:
    """Open the metadata database (never creating it unless asked)."""
    uri = db_path.absolute().as_uri() + ("?mode=rwc" if create else "?mode=rw")
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False,
                           timeout=30.0)
    conn.text_factory = _text
    try:
        conn.execute("PRAGMA journal_mode=WAL").fetchone()
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA cell_size_check=ON")
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def db_errors(where: Path) -> Iterator[None]:
    """Turn SQLite errors into one clear ``StoreError``."""
    try:
        yield
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        # (SQLite error messages quoting damaged schema text fail to decode)
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            raise StoreError(f"{where}: store database is locked by another process") from exc
        if isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc):
            raise StoreError(f"{where}: disk full, cannot write {DB_NAME}") from exc
        if isinstance(exc, sqlite3.OperationalError) and "disk I/O error" in str(exc):
            raise StoreError(f"{where}: I/O error writing {DB_NAME}") from exc
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


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- blobs


class BlobProblem(Exception):
    """A page blob is missing or does not match its content hash."""


class PackReader:
    """Reads and verifies page blobs; keeps pack files open."""

    def __init__(self, pack_dir: Path) -> None:
        self.pack_dir = pack_dir
        self._fds: dict[int, int] = {}
        self._dctx = zstandard.ZstdDecompressor()

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def _fd(self, pack: int) -> int:
        fd = self._fds.get(pack)
        if fd is None:
            try:
                fd = os.open(self.pack_dir / pack_name(pack), os.O_RDONLY)
            except OSError as exc:
                raise BlobProblem(f"pack file {pack_name(pack)} is unreadable: "
                                  f"{exc.strerror or exc}") from exc
            self._fds[pack] = fd
        return fd

    def read(self, conn: sqlite3.Connection, digest: bytes) -> bytes:
        """The verified content of the page whose hash is ``digest``."""
        if digest == ZERO_HASH:
            return ZERO_PAGE
        row = conn.execute(
            "SELECT pack, offset, length, codec FROM blobs WHERE hash=?", (digest,)
        ).fetchone()
        if row is None:
            raise BlobProblem(f"blob {digest.hex()[:16]} is missing")
        pack, offset, length, codec = row
        if (not all(isinstance(v, int) for v in row) or offset < 0
                or not 0 < length <= 2 * PAGE_SIZE):
            raise BlobProblem(f"blob {digest.hex()[:16]} has a malformed location")
        fd = self._fd(pack)
        try:
            data = os.pread(fd, length, offset)
        except OSError as exc:
            raise BlobProblem(f"blob {digest.hex()[:16]}: pack {pack_name(pack)} "
                              f"unreadable: {exc}") from exc
        if len(data) != length:
            raise BlobProblem(f"blob {digest.hex()[:16]}: pack {pack_name(pack)} is truncated")
        if codec == CODEC_RAW:
            page = data
        elif codec == CODEC_ZSTD:
            try:
                page = self._dctx.decompress(data, max_output_size=PAGE_SIZE)
            except zstandard.ZstdError as exc:
                raise BlobProblem(f"blob {digest.hex()[:16]} in {pack_name(pack)} does not "
                                  f"decompress: {exc}") from exc
        else:
            raise BlobProblem(f"blob {digest.hex()[:16]} has unknown codec {codec!r}")
        if len(page) != PAGE_SIZE or page_hash(page) != digest:
            raise BlobProblem(f"blob {digest.hex()[:16]} in {pack_name(pack)} does not match "
                              "its content hash")
        return page


# ---------------------------------------------------------------- page tables


class NodeProblem(Exception):
    """A checkpoint's own metadata failed verification."""


@dataclass
class ObjRec:
    """One memory object as declared in one checkpoint, with its stored-page bitmap."""

    oid: int
    key: str
    npages: int
    fresh: bool
    bitmap: bytearray
    rows: int

    def has(self, index: int) -> bool:
        return bool(self.bitmap[index >> 3] >> (index & 7) & 1)

    def bits(self) -> int:
        return int.from_bytes(self.bitmap, "little")


@dataclass
class Node:
    """One verified checkpoint row plus its verified page table (as bitmaps)."""

    info: CheckpointInfo
    manifest_hash: bytes
    table_hash: bytes
    objects: dict[str, ObjRec]


RowHook = Callable[[ObjRec, int, bytes], None]


def scan_table(
    conn: sqlite3.Connection, cid: int, hook: RowHook | None = None
) -> tuple[bytes, int, dict[str, ObjRec]]:
    """Hash a checkpoint's objects and page rows in canonical order.

    Returns (table hash, number of page rows, objects). Raises NodeProblem on
    rows of impossible shape.
    """
    raw = conn.execute(
        "SELECT oid, key, npages, fresh FROM objects WHERE cid=?", (cid,)
    ).fetchall()
    objs: dict[str, ObjRec] = {}
    for oid, key, npages, fresh in raw:
        if (not isinstance(oid, int) or not isinstance(key, str) or not isinstance(npages, int)
                or npages < 0 or fresh not in (0, 1)):
            raise NodeProblem("malformed memory object row")
        if key in objs:
            raise NodeProblem(f"memory object {key!r} declared twice")
        objs[key] = ObjRec(oid, key, npages, bool(fresh), bytearray((npages + 7) // 8), 0)
    h = hashlib.blake2b(digest_size=HASH_SIZE)
    count = 0
    for key in sorted(objs):
        rec = objs[key]
        kb = key.encode()
        h.update(b"O" + len(kb).to_bytes(4, "little") + kb + rec.npages.to_bytes(8, "little")
                 + bytes((rec.fresh,)))
        bitmap = rec.bitmap
        for idx, digest in conn.execute(
            "SELECT idx, hash FROM pages WHERE oid=? ORDER BY idx", (rec.oid,)
        ):
            if (not isinstance(idx, int) or not isinstance(digest, bytes) or idx < 0
                    or len(digest) != HASH_SIZE or idx >= 1 << 62):
                raise NodeProblem(f"malformed page row of {key!r}")
            h.update(b"P" + idx.to_bytes(8, "little") + digest)
            count += 1
            if idx < rec.npages:
                bitmap[idx >> 3] |= 1 << (idx & 7)
                rec.rows += 1
                if hook is not None:
                    hook(rec, idx, digest)
    return h.digest(), count, objs


def load_node(conn: sqlite3.Connection, cid: int, hook: RowHook | None = None) -> Node | None:
    """Load and verify one checkpoint's row and page table; None if there is no such row."""
    row = conn.execute(
        f"SELECT {INFO_COLUMNS}, manifest_hash, table_hash, checksum FROM checkpoints WHERE id=?",
        (cid,),
    ).fetchone()
    if row is None:
        return None
    info_row, manifest_hash, table_hash, checksum = row[:11], row[11], row[12], row[13]
    try:
        ok = info_checksum(info_row, manifest_hash, table_hash) == checksum
    except (TypeError, ValueError):
        ok = False
    if not ok or info_row[0] != cid:
        raise NodeProblem("checkpoint record does not match its checksum")
    info = info_from_row(info_row)
    if info.parent is not None and not (isinstance(info.parent, int) and 0 < info.parent < cid):
        raise NodeProblem("checkpoint record has an invalid parent link")
    digest, count, objs = scan_table(conn, cid, hook)
    if digest != table_hash:
        raise NodeProblem("page table does not match its checksum")
    if count != info.pages:
        raise NodeProblem("page count does not match the page table")
    return Node(info, manifest_hash, table_hash, objs)


def load_manifest(conn: sqlite3.Connection, node: Node) -> dict[str, Any]:
    row = conn.execute("SELECT json FROM manifests WHERE cid=?", (node.info.id,)).fetchone()
    if row is None:
        raise NodeProblem("manifest is missing")
    if not isinstance(row[0], str):
        raise NodeProblem("manifest is unreadable")
    if manifest_digest(row[0]) != node.manifest_hash:
        raise NodeProblem("manifest does not match its checksum")
    value = json.loads(row[0])
    if not isinstance(value, dict):
        raise NodeProblem("manifest is not an object")
    return value


def lineage(chain: list[Node], key: str) -> list[tuple[Node, ObjRec]]:
    """The declarations of ``key`` whose pages ``chain[0]`` inherits, nearest first."""
    out: list[tuple[Node, ObjRec]] = []
    for node in chain:
        rec = node.objects.get(key)
        if rec is None:
            break
        out.append((node, rec))
        if rec.fresh:
            break
    return out


def owner_of(lin: list[tuple[Node, ObjRec]], index: int) -> tuple[Node, ObjRec] | None:
    """Which declaration in a lineage supplies page ``index`` (None: never written, zero)."""
    if not lin or index >= lin[0][1].npages:
        return None
    for node, rec in lin:
        if index < rec.npages and rec.has(index):
            return node, rec
    return None
