"""Converting stores of rtcr 0.1 (format 1) to format 2 (`rtcr upgrade`).

Format 1 kept one SQL row per page, BLAKE2b-256 content hashes and one
zstd pack per checkpoint. The conversion verifies every checkpoint as rtcr
0.1 would (record, page table and manifest checksums, every blob against its
hash), writes the ones that verify into a new store with the same ids,
parents, manifests and info fields, and then swaps the directories: the old
store is kept beside the new one as ``DIR.format1``. A checkpoint that does
not verify is not converted (nor are its descendants), and the report says
why: corruption is never laundered into new checksums.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard

from rtcr.core import PAGE_SIZE
from rtcr.errors import StoreError

from .creation import create
from .database import WriterLock, fsync_dir
from .format import CREATING_SUFFIX, DB_NAME, LEGACY_FORMAT, PACK_DIR
from .store import Store

_HASH = 32
_INFO = ("id, parent, instructions, pages, bytes, raw_bytes, dirty_pages, pause_us, strategy, "
         "created, time")


def _blake(data: bytes | str) -> bytes:
    return hashlib.blake2b(data.encode() if isinstance(data, str) else data,
                           digest_size=_HASH).digest()


_ZERO_HASH = _blake(bytes(PAGE_SIZE))


@dataclass
class UpgradeReport:
    converted: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    backup: Path | None = None


class _Format1:
    """A verified reader of one format-1 store."""

    def __init__(self, path: Path) -> None:
        self.path = path
        uri = (path / DB_NAME).absolute().as_uri() + "?mode=ro"
        self.conn = sqlite3.connect(uri, uri=True)
        self._dctx = zstandard.ZstdDecompressor()
        self._fds: dict[int, int] = {}

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self.conn.close()

    def ids(self) -> list[int]:
        return [r[0] for r in self.conn.execute("SELECT id FROM checkpoints ORDER BY id")]

    def record(self, cid: int) -> tuple[dict[str, Any], list[tuple[str, int, bool, list[
            tuple[int, bytes]]]], dict[str, Any]]:
        """(info, objects with their verified pages, manifest) of ``cid``; ValueError if bad."""
        row = self.conn.execute(
            f"SELECT {_INFO}, manifest_hash, table_hash, checksum FROM checkpoints WHERE id=?",
            (cid,)).fetchone()
        info_row, mhash, thash, checksum = row[:11], row[11], row[12], row[13]
        doc = [LEGACY_FORMAT, *info_row, mhash.hex(), thash.hex()]
        if _blake(json.dumps(doc, separators=(",", ":"), allow_nan=False)) != checksum:
            raise ValueError("checkpoint record does not match its checksum")
        info = dict(zip(_INFO.split(", "), info_row, strict=True))
        h = hashlib.blake2b(digest_size=_HASH)
        objects = []
        for oid, key, npages, fresh in sorted(self.conn.execute(
                "SELECT oid, key, npages, fresh FROM objects WHERE cid=?", (cid,)).fetchall(),
                key=lambda r: r[1]):
            kb = key.encode()
            h.update(b"O" + len(kb).to_bytes(4, "little") + kb + npages.to_bytes(8, "little")
                     + bytes((fresh,)))
            pages = []
            for idx, digest in self.conn.execute(
                    "SELECT idx, hash FROM pages WHERE oid=? ORDER BY idx", (oid,)):
                h.update(b"P" + idx.to_bytes(8, "little") + digest)
                if idx < npages:
                    pages.append((idx, digest))
            objects.append((key, npages, bool(fresh), pages))
        if h.digest() != thash:
            raise ValueError("page table does not match its checksum")
        (text,) = self.conn.execute("SELECT json FROM manifests WHERE cid=?", (cid,)).fetchone()
        if _blake(text) != mhash:
            raise ValueError("manifest does not match its checksum")
        return info, objects, json.loads(text)

    def page(self, digest: bytes) -> bytes:
        """The verified content of the page with this hash; ValueError if it is damaged."""
        if digest == _ZERO_HASH:
            return bytes(PAGE_SIZE)
        row = self.conn.execute("SELECT pack, offset, length, codec FROM blobs WHERE hash=?",
                                (digest,)).fetchone()
        if row is None:
            raise ValueError(f"blob {digest.hex()[:16]} is missing")
        pack, offset, length, codec = row
        if pack not in self._fds:
            try:
                self._fds[pack] = os.open(self.path / PACK_DIR / f"{pack:06d}.pack", os.O_RDONLY)
            except OSError as exc:
                raise ValueError(f"pack {pack:06d}.pack is unreadable") from exc
        data = os.pread(self._fds[pack], length, offset)
        try:
            page = self._dctx.decompress(data, max_output_size=PAGE_SIZE) if codec == 1 else data
        except zstandard.ZstdError as exc:
            raise ValueError(f"blob {digest.hex()[:16]} does not decompress") from exc
        if _blake(page) != digest:
            raise ValueError(f"blob {digest.hex()[:16]} does not match its content hash")
        return page


def upgrade(path: Path) -> UpgradeReport:
    """Convert the format-1 store at ``path`` in place (the old one stays as DIR.format1)."""
    backup = path.with_name(path.name + ".format1")
    if backup.exists():
        raise StoreError(f"{backup} exists already; move it away before upgrading {path}")
    lock = WriterLock.take(path)
    work = path.with_name(f".{path.name}{CREATING_SUFFIX}-upgrade-{os.getpid()}")
    report = UpgradeReport(backup=backup)
    old = _Format1(path)
    try:
        (version,) = old.conn.execute("SELECT value FROM meta WHERE key='format'").fetchone()
        if int(version) != LEGACY_FORMAT:
            raise StoreError(f"{path}: store format {version} needs no upgrade")
        create(work)
        with Store.open(work) as new:
            for cid in old.ids():
                try:
                    info, objects, manifest = old.record(cid)
                    if info["parent"] is not None and info["parent"] not in report.converted:
                        raise ValueError(f"ancestor {info['parent']} was not converted")
                    _convert(new, old, cid, info, objects, manifest)
                    report.converted.append(cid)
                except (ValueError, KeyError, TypeError, sqlite3.Error) as exc:
                    report.skipped[cid] = str(exc)
    except BaseException:
        old.close()
        lock.release()
        shutil.rmtree(work, ignore_errors=True)
        raise
    old.close()
    lock.release()
    os.rename(path, backup)
    os.rename(work, path)
    fsync_dir(path.parent)
    return report


def _convert(new: Store, old: _Format1, cid: int, info: dict[str, Any],
             objects: list[tuple[str, int, bool, list[tuple[int, bytes]]]],
             manifest: dict[str, Any]) -> None:
    conn = new.backend.writer_conn()
    try:  # the next checkpoint written gets id `cid`
        conn.execute("UPDATE meta SET value=? WHERE key='last_id'", (str(cid - 1),))
    finally:
        conn.close()
    with new.begin(parent=info["parent"]) as writer:
        for key, npages, fresh, pages in objects:
            writer.declare(key, npages, fresh=fresh)
            for idx, digest in pages:
                writer.put_page(key, idx, old.page(digest))
        assert writer.id == cid
        writer.commit(manifest, instructions=info["instructions"],
                      dirty_pages=info["dirty_pages"], pause_us=info["pause_us"],
                      strategy=info["strategy"], wall_time=info["time"])
