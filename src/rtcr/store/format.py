"""The store's on-disk format: file names, schema, codecs, checksums, record fields.

Format 2 (this rtcr): ``store.sqlite`` holds one row per checkpoint (its
info fields and checksums), its manifest, and one row per (checkpoint,
memory object) whose page table is three packed arrays: page indices, the
pages' content hashes and the locations of their blobs in the pack files
``packs/NNNNNN.pack``, which are append-only and shared by many
checkpoints. Format 1 (rtcr 0.1: one pack and one SQL row per page) is read
only by ``rtcr upgrade`` (`legacy`).

Every hash in format 2 is XXH3-128 (`native.digest`): the page content
address, the page-table checksum, the manifest checksum and the record
checksum over all of them.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from typing import Any

from rtcr.core import PAGE_SIZE
from rtcr.errors import InvalidArgument

from .native import digest, digest_parts

FORMAT_VERSION = 2
LEGACY_FORMAT = 1  # rtcr 0.1; converted by `rtcr upgrade`

DB_NAME = "store.sqlite"
PACK_DIR = "packs"
LOCK_NAME = "store.lock"
RESERVE_NAME = "store.reserve"  # room for gc's journal on a full disk (see gc)
CREATING_SUFFIX = ".rtcr-creating"  # a store being created, renamed into place when complete

# A pack is appended to until it would pass this size (offsets are u32).
MAX_PACK_BYTES = 64 << 20
# Disk blocks are reserved for the active pack in steps of this size.
PREALLOCATE_BYTES = 8 << 20

ZERO_PAGE = bytes(PAGE_SIZE)


def page_hash(data: bytes | bytearray | memoryview) -> bytes:
    """The content address of a page: XXH3-128 of its bytes."""
    return digest(data)


class Codec(enum.IntEnum):
    """How a blob is stored (the fourth field of a location)."""

    ZERO = 0  # the zero page: no blob
    RAW = 1
    LZ4 = 2
    ZSTD = 3


@dataclass(frozen=True)
class Compression:
    """The compression new blobs get: ``none``, ``lz4`` (default) or ``zstd:LEVEL``.

    Whatever is chosen, a page that does not shrink is stored raw, and
    every reader decodes every codec.
    """

    codec: Codec = Codec.LZ4
    level: int = 0

    @classmethod
    def parse(cls, text: str) -> Compression:
        name, _, level = text.strip().lower().partition(":")
        if name == "none" and not level:
            return cls(Codec.RAW)
        if name == "lz4" and not level:
            return cls(Codec.LZ4)
        if name == "zstd":
            try:
                value = int(level) if level else 1
            except ValueError:
                value = None
            if value is not None and -7 <= value <= 19:
                return cls(Codec.ZSTD, value)
            raise InvalidArgument(f"zstd level must be an integer from -7 to 19, not {level!r}")
        raise InvalidArgument(f"compression {text!r} is not one of none, lz4, zstd:LEVEL")

    def __str__(self) -> str:
        if self.codec is Codec.ZSTD:
            return f"zstd:{self.level}"
        return "none" if self.codec is Codec.RAW else "lz4"


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
    commit_us REAL NOT NULL,
    strategy TEXT NOT NULL,
    created INTEGER NOT NULL,
    time REAL NOT NULL,
    manifest_hash BLOB NOT NULL,
    table_hash BLOB NOT NULL,
    checksum BLOB NOT NULL
);
CREATE TABLE manifests(cid INTEGER PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE objects(
    cid INTEGER NOT NULL,
    key TEXT NOT NULL,
    npages INTEGER NOT NULL,
    fresh INTEGER NOT NULL,
    indices BLOB NOT NULL,
    hashes BLOB NOT NULL,
    locations BLOB NOT NULL,
    PRIMARY KEY(cid, key)
) WITHOUT ROWID;
CREATE TABLE packs(id INTEGER PRIMARY KEY, size INTEGER NOT NULL);
CREATE TABLE trash(pack INTEGER PRIMARY KEY);
"""

INFO_COLUMNS = (
    "id, parent, instructions, pages, bytes, raw_bytes, dirty_pages, pause_us, commit_us, "
    "strategy, created, time"
)
INFO_NAMES = tuple(name.strip() for name in INFO_COLUMNS.split(","))
INFO_FIELDS = len(INFO_NAMES)

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
    ``bytes`` the stored bytes of the blobs this checkpoint was the first to
    store (deduplicated pages cost nothing). ``pause_us`` is how long the
    target was stopped for it; ``commit_us`` the commit latency, from the
    start of the pause until its pages were durable and its metadata
    transaction was issued. ``created`` is a store-local commit sequence
    number and ``time`` the wall-clock commit time (metadata only).
    """

    id: int
    parent: int | None
    instructions: int
    pages: int
    bytes: int
    raw_bytes: int
    dirty_pages: int
    pause_us: float
    commit_us: float
    strategy: str
    created: int
    time: float

    @property
    def compression_ratio(self) -> float | None:
        """``raw_bytes / bytes``: compression and dedup together (None if nothing stored)."""
        if self.bytes <= 0:
            return None
        return self.raw_bytes / self.bytes

    def row(self) -> tuple[Any, ...]:
        """The fields in column order (`INFO_COLUMNS`)."""
        return (self.id, self.parent, self.instructions, self.pages, self.bytes,
                self.raw_bytes, self.dirty_pages, self.pause_us, self.commit_us,
                self.strategy, self.created, self.time)

    def to_dict(self) -> dict[str, Any]:
        # The fields are scalars: no deep copy (what `asdict` makes) needed for 20,000 rows.
        d = dict(zip(INFO_NAMES, self.row(), strict=True))
        d["compression_ratio"] = self.compression_ratio
        return d


def record_checksum(info_row: tuple[Any, ...], manifest_hash: bytes, table_hash: bytes) -> bytes:
    """Checksum over the info fields (as stored) and the manifest / page-table hashes.

    Raises TypeError/ValueError if a field has a type it can never have had.
    """
    if not isinstance(manifest_hash, bytes) or not isinstance(table_hash, bytes):
        raise TypeError("hash columns are not blobs")
    doc = [FORMAT_VERSION, *info_row, manifest_hash.hex(), table_hash.hex()]
    return digest(json.dumps(doc, separators=(",", ":"), allow_nan=False).encode())


def manifest_json(manifest: Any) -> str:
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), allow_nan=False)


def manifest_digest(text: str) -> bytes:
    return digest(text.encode())


TableParts = tuple[str, int, bool, Any, Any, Any]  # key, npages, fresh, the three arrays


def table_digest(objects: list[TableParts]) -> bytes:
    """Checksum of a checkpoint's page tables, objects in key order.

    The arrays (indices, hashes, locations) may be bytes or writable buffers.
    """
    parts: list[Any] = []
    for key, npages, fresh, indices, hashes, locations in sorted(objects, key=lambda o: o[0]):
        kb = key.encode()
        parts += [b"O" + len(kb).to_bytes(4, "little") + kb + npages.to_bytes(8, "little")
                  + bytes((1 if fresh else 0,)) + (len(indices) // 4).to_bytes(8, "little"),
                  indices, hashes, locations]
    return digest_parts(parts)
