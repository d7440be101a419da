"""Writes stores in format 1, as rtcr 0.1 did, for the upgrade tests.

Independent of the code under test on purpose: the old schema, BLAKE2b-256
hashes, one zstd pack per checkpoint, one SQL row per page.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import zstandard

PAGE = 4096
SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE checkpoints(id INTEGER PRIMARY KEY, parent INTEGER, instructions INTEGER NOT NULL,
    pages INTEGER NOT NULL, bytes INTEGER NOT NULL, raw_bytes INTEGER NOT NULL,
    dirty_pages INTEGER NOT NULL, pause_us REAL NOT NULL, strategy TEXT NOT NULL,
    created INTEGER NOT NULL, time REAL NOT NULL, manifest_hash BLOB NOT NULL,
    table_hash BLOB NOT NULL, checksum BLOB NOT NULL);
CREATE TABLE manifests(cid INTEGER PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE objects(oid INTEGER PRIMARY KEY, cid INTEGER NOT NULL, key TEXT NOT NULL,
    npages INTEGER NOT NULL, fresh INTEGER NOT NULL, UNIQUE(cid, key));
CREATE TABLE pages(oid INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
    PRIMARY KEY(oid, idx)) WITHOUT ROWID;
CREATE TABLE blobs(hash BLOB PRIMARY KEY, pack INTEGER NOT NULL, offset INTEGER NOT NULL,
    length INTEGER NOT NULL, codec INTEGER NOT NULL, owner INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE packs(id INTEGER PRIMARY KEY, size INTEGER NOT NULL);
CREATE TABLE trash(pack INTEGER PRIMARY KEY);
"""


def _h(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32).digest()


class Format1Store:
    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True)
        (path / "packs").mkdir()
        (path / "store.lock").touch()
        self.path = path
        self.db = sqlite3.connect(path / "store.sqlite", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        self.db.executemany("INSERT INTO meta VALUES (?,?)", [("format", "1"), ("seq", "0"),
                                                             ("last_id", "0")])
        self.cctx = zstandard.ZstdCompressor(level=3)

    def write(self, cid: int, parent: int | None, objects: dict[str, int],
              pages: dict[tuple[str, int], bytes], manifest: dict[str, Any]) -> None:
        db, pack, offset = self.db, bytearray(), 0
        db.execute("BEGIN")
        oids = {}
        for key, n in objects.items():
            oids[key] = db.execute("INSERT INTO objects(cid, key, npages, fresh) VALUES "
                                   "(?,?,?,0)", (cid, key, n)).lastrowid
        for (key, idx), data in pages.items():
            digest = _h(data)
            if data != bytes(PAGE) and db.execute("SELECT 1 FROM blobs WHERE hash=?",
                                                  (digest,)).fetchone() is None:
                blob = self.cctx.compress(data)
                db.execute("INSERT INTO blobs VALUES (?,?,?,?,1,?)",
                           (digest, cid, offset, len(blob), cid))
                pack += blob
                offset += len(blob)
            db.execute("INSERT INTO pages VALUES (?,?,?)", (oids[key], idx, digest))
        if pack:
            (self.path / "packs" / f"{cid:06d}.pack").write_bytes(bytes(pack))
            db.execute("INSERT INTO packs VALUES (?,?)", (cid, len(pack)))
        h = hashlib.blake2b(digest_size=32)
        for key in sorted(objects):
            kb = key.encode()
            h.update(b"O" + len(kb).to_bytes(4, "little") + kb
                     + objects[key].to_bytes(8, "little") + b"\0")
            for idx, digest in db.execute("SELECT idx, hash FROM pages WHERE oid=? ORDER BY idx",
                                          (oids[key],)):
                h.update(b"P" + idx.to_bytes(8, "little") + digest)
        text = json.dumps(manifest, sort_keys=True, separators=(",", ":"))
        row = (cid, parent, cid * 1000, len(pages), offset, len(pages) * PAGE, len(pages),
               12.5, "ro-attach", cid, time.time())
        mhash = _h(text.encode())
        doc = [1, *row, mhash.hex(), h.digest().hex()]
        checksum = _h(json.dumps(doc, separators=(",", ":")).encode())
        db.execute("INSERT INTO checkpoints VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (*row, mhash, h.digest(), checksum))
        db.execute("INSERT INTO manifests VALUES (?,?)", (cid, text))
        db.execute("UPDATE meta SET value=? WHERE key='last_id'", (str(cid),))
        db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()


def page(seed: object) -> bytes:
    return (hashlib.sha256(repr(seed).encode()).digest() * (PAGE // 32))[:PAGE]


def sample(path: Path) -> dict[int, dict[tuple[str, int], bytes]]:
    """A chain of three format-1 checkpoints; what each one's pages are."""
    store = Format1Store(path)
    full = {("obj:1", i): page((1, i)) for i in range(8)} | {("obj:1", 8): bytes(PAGE)}
    store.write(1, None, {"obj:1": 9}, full, {"cid": 1})
    second = {("obj:1", 2): page((2, 2))}
    store.write(2, 1, {"obj:1": 9}, second, {"cid": 2})
    third = {("obj:1", 5): page((3, 5)), ("obj:1", 2): page((1, 0))}  # dedup against 1
    store.write(3, 2, {"obj:1": 9}, third, {"cid": 3})
    store.close()
    expected = {1: dict(full), 2: full | second, 3: full | second | third}
    os.sync()
    return expected
