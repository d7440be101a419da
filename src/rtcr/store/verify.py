"""Verifying a store: every record, page table, manifest and blob, with a verdict per checkpoint.

A bad blob (missing pack, truncated, does not decompress, wrong content)
makes exactly the checkpoints corrupt that resolve one of their pages to
it: the checkpoint that stored it and the descendants that inherit it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from rtcr.errors import StoreError, UnknownCheckpoint

from .backend import StoreBackend
from .chains import CheckpointRecord, RecordProblem, lineage, load_manifest, load_record, provider
from .database import meta_value
from .native import PageTable, decode


def dropped_ids(conn: sqlite3.Connection) -> list[int]:
    """Checkpoints gc removed from between kept ones (``--force``, ``rm``, kept tags)."""
    text = meta_value(conn, "dropped")
    try:
        value = json.loads(text) if isinstance(text, str) else []
    except ValueError:
        return []
    return [i for i in value if isinstance(i, int)] if isinstance(value, list) else []


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


BadPage = tuple[str, int, str]  # key, page index, problem


def bad_pages(packs: list[tuple[int, int, int]], key: str, table: PageTable) -> list[BadPage]:
    """Every entry of ``table`` whose blob does not verify."""
    out: list[BadPage] = []
    start = 0
    indices = table.index_list()
    while start < len(table):
        rest = table.slice(start, len(table))
        done, problem = decode(packs, rest, 0, None)
        if problem is None:
            break
        at = start + done
        out.append((key, indices[at], f"blob {table.hash_at(at).hex()[:16]} {problem}"))
        start = at + 1
    return out


class _Verifier:
    def __init__(self, backend: StoreBackend, conn: sqlite3.Connection) -> None:
        self.backend = backend
        self.conn = conn
        self.packs = backend.pack_handles(backend.registered_packs(conn))
        self.records: dict[int, CheckpointRecord | str | None] = {}
        self.bad: dict[int, list[BadPage]] = {}

    def record(self, cid: int) -> CheckpointRecord | str | None:
        """The verified record of ``cid`` (its blobs checked too), or why it fails."""
        if cid in self.records:
            return self.records[cid]
        result: CheckpointRecord | str | None
        try:
            with self.backend.errors():
                result = load_record(self.conn, cid)
        except (RecordProblem, StoreError) as exc:
            result = str(exc)
        if isinstance(result, CheckpointRecord):
            self.bad[cid] = [bad for obj in result.objects.values()
                             for bad in bad_pages(self.packs, obj.key, obj.table)]
        self.records[cid] = result
        return result

    def verdict(self, cid: int) -> str | None:
        own = self.record(cid)
        if own is None:
            return "record is missing"
        if isinstance(own, str):
            return own
        try:
            with self.backend.errors():
                load_manifest(self.conn, own)
        except (RecordProblem, StoreError, ValueError) as exc:
            return str(exc)
        chain = [own]
        cur = own.info.parent
        while cur is not None:
            record = self.record(cur)
            if record is None:
                return f"ancestor {cur} is missing"
            if isinstance(record, str):
                return f"ancestor {cur}: {record}"
            chain.append(record)
            cur = record.info.parent
        for record in chain:
            for key, index, problem in self.bad.get(record.info.id, []):
                if provider(lineage(chain, key), index) is record:
                    where = "" if record is own else f" (stored in ancestor {record.info.id})"
                    return f"page {key}[{index}]{where}: {problem}"
        return None


def verify(backend: StoreBackend, cid: int | None = None,
           on_checked: Callable[[int], None] | None = None) -> VerifyReport:
    """Re-check one checkpoint (with its ancestors) or all of them.

    ``on_checked(id)`` is called after each checkpoint's verdict (progress).

    Never raises because a checkpoint is corrupt: the report says which
    ones are and why. Raises StoreError if the store cannot be read at all
    (or UnknownCheckpoint for an unknown ``cid``).
    """
    conn = backend.conn()
    report = VerifyReport()
    with backend.errors():
        if cid is not None and conn.execute(
            "SELECT 1 FROM checkpoints WHERE id=?", (cid,)
        ).fetchone() is None:
            raise UnknownCheckpoint(f"no checkpoint {cid} in {backend.path}")
        try:
            problems = [r[0] for r in conn.execute("PRAGMA quick_check")]
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            problems = [str(exc)]
        if problems != ["ok"]:
            backend.damaged = "; ".join(str(p) for p in problems[:2])
            report.store_errors.append("metadata database: " + "; ".join(
                str(p) for p in problems[:5]))
        raw_ids = [r[0] for r in conn.execute("SELECT id FROM checkpoints ORDER BY id")]
        ids = [i for i in raw_ids if isinstance(i, int)]
        if len(ids) != len(raw_ids):
            report.store_errors.append("checkpoint table holds malformed ids")
        if cid is None:
            last = meta_value(conn, "last_id")
            last = int(last) if last is not None and str(last).isdigit() else None
            dropped = set(dropped_ids(conn))  # removed by gc from between kept ones
            expected = [i for i in range(ids[0], ids[-1] + 1) if i not in dropped] if ids else []
            newest_dropped = last is not None and all(
                i in dropped for i in range(ids[-1] + 1, last + 1)) if ids else True
            if ids and (ids != expected or last is None or last < ids[-1]
                        or not newest_dropped):
                report.store_errors.append(
                    f"checkpoint ids are not contiguous up to the newest ({last})")
        verifier = _Verifier(backend, conn)
    for target in ids if cid is None else [cid]:
        report.checked.append(target)
        reason = verifier.verdict(target)
        if reason is not None:
            report.corrupt[target] = reason
        if on_checked is not None:
            on_checked(target)
    return report
