"""Checkpoint records and chains: loading, verifying, and resolving inherited pages.

A checkpoint stores only the pages it changed; the others it inherits from
its parent, and so on up the chain, for every memory object until a
declaration that is *fresh* (a new object, or a key absent in the parent).
Loading a record verifies its checksum, its page tables against the
record's table hash, and its manifest against the manifest hash.
"""

from __future__ import annotations

import json
import sqlite3
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rtcr.errors import CorruptCheckpoint, UnknownCheckpoint

from .format import (
    INFO_COLUMNS,
    INFO_FIELDS,
    CheckpointInfo,
    manifest_digest,
    record_checksum,
    table_digest,
)
from .native import PageTable, merge


class RecordProblem(Exception):
    """A checkpoint's own metadata failed verification."""


@dataclass(frozen=True)
class ObjectTable:
    """One memory object as one checkpoint declares it, with the pages it stores itself."""

    key: str
    npages: int
    fresh: bool
    table: PageTable


@dataclass(frozen=True)
class CheckpointRecord:
    """One verified checkpoint row with its verified page tables."""

    info: CheckpointInfo
    manifest_hash: bytes
    table_hash: bytes
    objects: dict[str, ObjectTable]


def read_objects(conn: sqlite3.Connection, cid: int) -> dict[str, ObjectTable]:
    """The object rows of ``cid``, checked for shape (not yet for their checksum)."""
    objects: dict[str, ObjectTable] = {}
    for key, npages, fresh, indices, hashes, locations in conn.execute(
            "SELECT key, npages, fresh, indices, hashes, locations FROM objects WHERE cid=?",
            (cid,)):
        if (not isinstance(key, str) or not isinstance(npages, int) or not 0 <= npages < 1 << 32
                or fresh not in (0, 1) or not all(isinstance(b, bytes)
                                                  for b in (indices, hashes, locations))):
            raise RecordProblem("malformed memory object row")
        table = PageTable(indices, hashes, locations)
        if not table.well_formed():
            raise RecordProblem(f"page table of {key!r} is malformed")
        objects[key] = ObjectTable(key, npages, bool(fresh), table)
    return objects


def tables_digest(objects: dict[str, ObjectTable]) -> bytes:
    return table_digest([(o.key, o.npages, o.fresh, o.table.indices, o.table.hashes,
                          o.table.locations) for o in objects.values()])


def load_record(conn: sqlite3.Connection, cid: int) -> CheckpointRecord | None:
    """Load and verify one checkpoint's record and page tables; None if there is none."""
    row = conn.execute(
        f"SELECT {INFO_COLUMNS}, manifest_hash, table_hash, checksum FROM checkpoints WHERE id=?",
        (cid,)).fetchone()
    if row is None:
        return None
    info_row = row[:INFO_FIELDS]
    manifest_hash, table_hash, checksum = row[INFO_FIELDS:]
    try:
        ok = record_checksum(info_row, manifest_hash, table_hash) == checksum
    except (TypeError, ValueError):
        ok = False
    if not ok or info_row[0] != cid:
        raise RecordProblem("checkpoint record does not match its checksum")
    info = CheckpointInfo(*info_row)
    if info.parent is not None and not (isinstance(info.parent, int) and 0 < info.parent < cid):
        raise RecordProblem("checkpoint record has an invalid parent link")
    objects = read_objects(conn, cid)
    if tables_digest(objects) != table_hash:
        raise RecordProblem("page table does not match its checksum")
    if sum(len(o.table) for o in objects.values()) != info.pages:
        raise RecordProblem("page count does not match the page table")
    return CheckpointRecord(info, manifest_hash, table_hash, objects)


def load_manifest(conn: sqlite3.Connection, record: CheckpointRecord) -> dict[str, Any]:
    row = conn.execute("SELECT json FROM manifests WHERE cid=?", (record.info.id,)).fetchone()
    if row is None:
        raise RecordProblem("manifest is missing")
    if not isinstance(row[0], str):
        raise RecordProblem("manifest is unreadable")
    if manifest_digest(row[0]) != record.manifest_hash:
        raise RecordProblem("manifest does not match its checksum")
    value = json.loads(row[0])
    if not isinstance(value, dict):
        raise RecordProblem("manifest is not an object")
    return value


def load_chain(conn: sqlite3.Connection, cid: int, where: Path) -> list[CheckpointRecord]:
    """``cid`` and its ancestors, verified; CorruptCheckpoint(cid, ...) names what failed."""
    chain: list[CheckpointRecord] = []
    cur: int | None = cid
    while cur is not None:
        try:
            record = load_record(conn, cur)
        except RecordProblem as exc:
            if cur == cid:
                raise CorruptCheckpoint(cid, str(exc)) from None
            raise CorruptCheckpoint(cid, f"ancestor {cur}: {exc}") from None
        if record is None:
            if cur == cid:
                raise UnknownCheckpoint(f"no checkpoint {cid} in {where}")
            raise CorruptCheckpoint(cid, f"ancestor {cur} is missing")
        chain.append(record)
        cur = record.info.parent
    return chain


Lineage = list[tuple[CheckpointRecord, ObjectTable]]


def lineage(chain: list[CheckpointRecord], key: str) -> Lineage:
    """The declarations of ``key`` whose pages ``chain[0]`` inherits, nearest first."""
    out: Lineage = []
    for record in chain:
        obj = record.objects.get(key)
        if obj is None:
            break
        out.append((record, obj))
        if obj.fresh:
            break
    return out


def resolve(lin: Lineage) -> PageTable:
    """The pages the nearest declaration sees: for each index, the nearest entry."""
    if not lin:
        return PageTable.empty()
    return merge([obj.table for _record, obj in lin], lin[0][1].npages)


def provider(lin: Lineage, index: int) -> CheckpointRecord | None:
    """Which checkpoint of a lineage supplies page ``index`` (None: never written)."""
    if not lin or index >= lin[0][1].npages:
        return None
    for record, obj in lin:
        indices = obj.table.index_list()
        at = bisect_left(indices, index)
        if index < obj.npages and at < len(indices) and indices[at] == index:
            return record
    return None
