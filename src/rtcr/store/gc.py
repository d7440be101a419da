"""Garbage collection: keep the newest good checkpoints, free the space of the rest.

The rules:
- gc verifies everything it keeps (records, tables, manifests, blobs, and
  the ancestors it flattens) and never rewrites corrupt data under new
  checksums. If one of the newest ``keep`` checkpoints is corrupt it
  refuses, because it would keep a checkpoint that cannot be restored and
  delete good ones; ``force`` keeps the newest ``keep`` *good* ones instead
  and drops the corrupt ones. The newest good checkpoint is never deleted
  (unless ``keep`` is 0: delete everything, as asked).
- ``keep_also`` (the tagged checkpoints, say) are kept besides the newest
  ``keep``, verified as they are; ``remove`` (``rtcr rm``) deletes the
  checkpoints it names whatever else would keep them. Either way the
  tags of deleted checkpoints go in the same transaction.
- A kept checkpoint whose parent goes becomes self-contained (its
  inherited pages join its own tables). Packs that hold dead blobs are
  compacted: their live blobs are copied into a new pack, made durable,
  and the metadata changes in one transaction; only then are old packs
  deleted. A crash at any point leaves either the old or the new state.
- On a full disk gc frees what needs no new space (leftovers, packs with
  nothing live) and compacts only when the copies and the journal of its
  transaction both fit (else it punches holes where the packs hold nothing
  live); what it could not do is
  reported with the number of bytes it would need. The database is shrunk
  in place (incremental vacuum), which needs no second copy of it.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Collection
from contextlib import suppress
from dataclasses import dataclass, field

from rtcr.core import PAGE_SIZE
from rtcr.errors import (
    CorruptCheckpoint,
    InvalidArgument,
    StoreError,
    StoreFull,
    UnknownCheckpoint,
)

from .backend import StoreBackend
from .chains import CheckpointRecord, ObjectTable, lineage, load_record, resolve, tables_digest
from .creation import spend_reserve, write_reserve
from .database import full_disk, meta_int, meta_value
from .format import DB_NAME, Codec, record_checksum
from .native import PageTable, punch
from .packs import PackAppender
from .tags import drop_tags_of_removed
from .verify import dropped_ids, verify


@dataclass
class GcReport:
    """Result of ``Store.gc`` (with ``dry_run``: what it would do)."""

    removed: list[int]
    flattened: list[int]
    blobs_freed: int
    bytes_freed: int
    corrupt_dropped: list[int] = field(default_factory=list)
    dry_run: bool = False
    db_bytes_freed: int = 0
    # Bytes more free space compaction needed; 0 when it did all it should.
    needed: int = 0


Blob = tuple[int, int]  # pack, offset


def _blobs(table: PageTable) -> list[tuple[Blob, int]]:
    locs = table.location_list()
    return [((locs[k], locs[k + 1]), locs[k + 2]) for k in range(0, len(locs), 4)
            if locs[k + 3] != Codec.ZERO]


def _relocate(table: PageTable, moved: dict[Blob, Blob]) -> PageTable:
    locs = table.location_list()
    changed = False
    for k in range(0, len(locs), 4):
        new = moved.get((locs[k], locs[k + 1]))
        if new is not None:
            locs[k], locs[k + 1] = new
            changed = True
    return PageTable(table.indices, table.hashes, locs.tobytes()) if changed else table


def _dir_bytes(paths: list[str]) -> int:
    total = 0
    for p in paths:
        with suppress(OSError):
            total += os.stat(p).st_size
    return total


def _choose(backend: StoreBackend, ids: list[int], keep: int, force: bool
            ) -> tuple[list[int], list[int]]:
    """(kept, corrupt ones dropped): the newest ``keep`` checkpoints, verified."""
    if keep == 0:
        return [], []
    if not force:
        newest = ids[max(0, len(ids) - keep):]
        for cid in newest:
            why = verify(backend, cid).status(cid)
            if why is not None:
                good = next((c for c in reversed(ids) if verify(backend, c).status(c) is None),
                            None)
                hint = (f"the newest good checkpoint is {good}" if good is not None
                        else "no checkpoint of the store verifies")
                which = "newest good checkpoint" if keep == 1 else f"newest {keep} good checkpoints"
                raise CorruptCheckpoint(cid, f"{why}; gc refused ({hint}; --force keeps the "
                                        f"{which} and drops corrupt ones)")
        return newest, []
    kept: list[int] = []
    dropped: list[int] = []
    for cid in reversed(ids):
        if len(kept) == keep:
            break
        (kept if verify(backend, cid).status(cid) is None else dropped).append(cid)
    oldest = min(kept, default=ids[-1] + 1 if ids else 0)
    return sorted(kept), sorted(c for c in dropped if c > oldest)


def _also(backend: StoreBackend, ids: list[int], also: Collection[int], force: bool
          ) -> tuple[list[int], list[int]]:
    """(kept, corrupt ones dropped) of the checkpoints gc keeps besides the newest N."""
    kept, dropped = [], []
    for cid in sorted(set(also) & set(ids)):
        why = verify(backend, cid).status(cid)
        if why is None:
            kept.append(cid)
        elif force:
            dropped.append(cid)
        else:
            raise CorruptCheckpoint(cid, f"{why}; gc refused (--force drops it)")
    return kept, dropped


def gc(backend: StoreBackend, keep: int, *, keep_also: Collection[int] = (),
       remove: Collection[int] = (), force: bool = False, dry_run: bool = False) -> GcReport:
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 0:
        raise InvalidArgument(f"keep must be a non-negative int, not {keep!r}")
    backend.check_usable()
    if backend.writing is not None:
        raise StoreError("cannot gc while a checkpoint is being written")
    lock = backend.lock()
    conn: sqlite3.Connection | None = None
    appender: PackAppender | None = None
    gcs_before: int | None = None
    committed = False
    try:
        with backend.errors():
            conn = backend.writer_conn()
            gcs_before = _gc_count(conn)
            if not dry_run:
                backend.clean(conn)
            ids = backend.ids(conn)
            missing = sorted(set(remove) - set(ids))
            if missing:
                raise UnknownCheckpoint(f"no checkpoint {missing[0]} in {backend.path}")
            kept, corrupt = _choose(backend, ids, keep, force)
            extra, corrupt_extra = _also(backend, ids, set(keep_also) - set(kept), force)
            kept = sorted((set(kept) | set(extra)) - set(remove))
            corrupt = sorted(set(corrupt) | set(corrupt_extra))
            removed = [c for c in ids if c not in kept]
            records = {c: load_record(conn, c) for c in kept}
            chains: dict[int, list[CheckpointRecord]] = {}
            for c in kept:
                record = records[c]
                assert record is not None
                chain = [record]
                while chain[-1].info.parent is not None:
                    parent = load_record(conn, chain[-1].info.parent)
                    assert parent is not None  # verified above
                    chain.append(parent)
                chains[c] = chain
            flattened = [c for c in kept if chains[c][0].info.parent in removed]
            tables: dict[int, dict[str, ObjectTable]] = {}
            for c in kept:
                own = chains[c][0].objects
                if c in flattened:
                    tables[c] = {k: ObjectTable(k, o.npages, o.fresh,
                                                resolve(lineage(chains[c], k)))
                                 for k, o in own.items()}
                else:
                    tables[c] = dict(own)
            sizes = backend.registered_packs(conn)
            before = {blob for c in ids for obj in _all_tables(conn, c) for blob, _n in
                      _blobs(obj)}
            live: dict[Blob, int] = {}
            for c in kept:
                for obj in tables[c].values():
                    live.update(_blobs(obj.table))
            live_per_pack: dict[int, int] = {}
            for (pack, _off), n in live.items():
                live_per_pack[pack] = live_per_pack.get(pack, 0) + n
            dead = [p for p in sizes if live_per_pack.get(p, 0) == 0]
            partial = sorted(p for p in sizes if 0 < live_per_pack.get(p, 0) < sizes[p])
            # Compaction's copies and then the transaction's journal (up to the
            # database's size) must both fit, or the commit fails for want of room.
            need = sum(live_per_pack[p] for p in partial) + _dir_bytes([str(backend.db_path)])
            free = shutil.disk_usage(backend.packs.directory).free
            compact = partial if need <= free else []
            report = GcReport(removed=[c for c in removed if c not in corrupt],
                              flattened=flattened,
                              blobs_freed=len(before) - len(live),
                              bytes_freed=0, corrupt_dropped=corrupt, dry_run=dry_run,
                              needed=0 if compact or not partial else need - free)
            pack_files = {p: backend.packs.path(p) for p in sizes}
            gone = dead + compact
            report.bytes_freed = _dir_bytes([str(pack_files[p]) for p in gone])
            if dry_run:
                report.bytes_freed -= sum(live_per_pack.get(p, 0) for p in compact)
                if partial and not compact:  # the holes it would punch (up to)
                    report.bytes_freed += sum(sizes[p] - live_per_pack[p] for p in partial)
                return report
            moved: dict[Blob, Blob] = {}
            if compact:
                appender = PackAppender(backend.packs, sizes, set(backend.packs.listing()),
                                        new_pack=True)
                moved = _copy_live(backend, appender, sorted(b for b in live if b[0] in compact),
                                   live, sizes)
                appender.sync()
                report.bytes_freed -= appender.appended()
            _commit(backend, conn, kept, removed, corrupt, chains, tables, flattened, moved,
                    gone, appender, ids)
            committed = True
            backend.moved()
            backend.clean(conn)
            if partial and not compact:  # no room to compact: free the dead bytes in place
                report.bytes_freed += _punch_dead(backend, partial, live, sizes)
            report.db_bytes_freed = _shrink(backend, conn)
        return report
    finally:
        if not committed and conn is not None and gcs_before is not None:
            # An interrupt may land just after COMMIT: ask the database, never guess.
            committed = _gc_count(conn, default=gcs_before + 1) != gcs_before
            if committed:
                backend.moved()
        if appender is not None and not committed:
            appender.rollback()
        if appender is not None:
            appender.close()
        if conn is not None:
            if conn.in_transaction:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            conn.close()
        lock.release()


def _punch_dead(backend: StoreBackend, packs: list[int], live: dict[Blob, int],
                sizes: dict[int, int]) -> int:
    """Punch holes where ``packs`` hold nothing live (after the commit); the bytes freed."""
    freed = 0
    for pack in packs:
        try:
            fd = os.open(backend.packs.path(pack), os.O_WRONLY)
        except OSError:
            continue
        try:
            at = 0
            for (p, offset), n in sorted(live.items()):
                if p != pack:
                    continue
                if offset > at and punch(fd, at, offset - at) == 0:
                    freed += offset - at
                at = max(at, offset + n)
            if sizes[pack] > at and punch(fd, at, sizes[pack] - at) == 0:
                freed += sizes[pack] - at
        finally:
            os.close(fd)
    return freed


def _gc_count(conn: sqlite3.Connection, default: int | None = None) -> int:
    """How many gcs committed so far (``default`` if the database cannot say)."""
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        return meta_int(meta_value(conn, "gc") or 0, "the gc count")
    except (sqlite3.Error, StoreError):
        if default is None:
            raise
        return default


def _all_tables(conn: sqlite3.Connection, cid: int) -> list[PageTable]:
    return [PageTable(i, h, loc) for i, h, loc in conn.execute(
        "SELECT indices, hashes, locations FROM objects WHERE cid=?", (cid,))
        if isinstance(i, bytes) and isinstance(h, bytes) and isinstance(loc, bytes)]


def _copy_live(backend: StoreBackend, appender: PackAppender, blobs: list[Blob],
               lengths: dict[Blob, int], sizes: dict[int, int]) -> dict[Blob, Blob]:
    """Copy ``blobs`` into new durable packs; the map from old to new place."""
    moved: dict[Blob, Blob] = {}
    for pack, offset in blobs:
        n = lengths[pack, offset]
        fd = backend.packs.reader(pack)
        data = os.pread(fd, n, offset) if fd >= 0 and offset + n <= sizes[pack] else b""
        if len(data) != n:
            raise StoreError(f"{backend.path}: pack {pack} is unreadable or truncated; gc "
                             "refused (run rtcr verify)")
        new_pack, new_offset = appender.place(n)
        appender.write(new_pack, new_offset, memoryview(data), 1)
        moved[pack, offset] = (new_pack, new_offset)
    return moved


def _commit(backend: StoreBackend, conn: sqlite3.Connection, kept: list[int],
            removed: list[int], corrupt: list[int], chains: dict[int, list[CheckpointRecord]],
            tables: dict[int, dict[str, ObjectTable]], flattened: list[int],
            moved: dict[Blob, Blob], gone: list[int], appender: PackAppender | None,
            ids: list[int]) -> None:
    """The one transaction that makes gc's result the store's state."""
    def transaction() -> None:
        conn.execute("BEGIN IMMEDIATE")
        for c in removed:
            for table, column in (("checkpoints", "id"), ("manifests", "cid"), ("objects", "cid")):
                conn.execute(f"DELETE FROM {table} WHERE {column}=?", (c,))
        drop_tags_of_removed(conn)
        owned_seen: set[Blob] = set()
        for c in kept:
            record = chains[c][0]
            objects = {k: ObjectTable(k, o.npages, o.fresh, _relocate(o.table, moved))
                       for k, o in tables[c].items()}
            owned = 0
            for obj in objects.values():
                for blob, n in _blobs(obj.table):
                    if blob not in owned_seen:
                        owned_seen.add(blob)
                        owned += n
            info = record.info
            parent = None if c in flattened else info.parent
            pages = sum(len(o.table) for o in objects.values())
            table_hash = tables_digest(objects)
            if (parent, pages, owned, table_hash) == (info.parent, info.pages, info.bytes,
                                                      record.table_hash):
                continue
            for obj in objects.values():
                conn.execute("UPDATE objects SET indices=?, hashes=?, locations=? "
                             "WHERE cid=? AND key=?", (obj.table.indices, obj.table.hashes,
                                                       obj.table.locations, c, obj.key))
            row = (info.id, parent, info.instructions, pages, owned, pages * PAGE_SIZE,
                   info.dirty_pages, info.pause_us, info.commit_us, info.strategy,
                   info.created, info.time)
            conn.execute("UPDATE checkpoints SET parent=?, pages=?, bytes=?, raw_bytes=?, "
                         "table_hash=?, checksum=? WHERE id=?",
                         (parent, pages, owned, pages * PAGE_SIZE, table_hash,
                          record_checksum(row, record.manifest_hash, table_hash), c))
        for p in gone:
            conn.execute("DELETE FROM packs WHERE id=?", (p,))
            conn.execute("INSERT OR IGNORE INTO trash(pack) VALUES (?)", (p,))
        for p, size in (appender.sizes.items() if appender is not None else ()):
            conn.execute("INSERT OR REPLACE INTO packs(id, size) VALUES (?,?)", (p, size))
        if ids:
            last = max(ids[-1], backend.next_id(conn) - 1)
            conn.execute("UPDATE meta SET value=? WHERE key='last_id'", (str(last),))
        gcs = meta_int(meta_value(conn, "gc") or 0, "the gc count") + 1
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('gc', ?)", (str(gcs),))
        # Ids gone from between kept ones (corrupt ones with force, rm, kept tags) are
        # recorded, so that verify can tell such a gap from a lost checkpoint.
        between = [c for c in removed if kept and c > kept[0]]
        if between:
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('dropped', ?)",
                         (json.dumps(sorted(set(dropped_ids(conn)) | set(between))),))
        conn.execute("COMMIT")

    try:
        transaction()
    except sqlite3.OperationalError as exc:
        if not full_disk(exc):
            raise
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        # The reserve is there for this: give its room to the journal and retry.
        if not spend_reserve(backend.path):
            raise _journal_full(backend) from exc
        try:
            transaction()
        except sqlite3.OperationalError as again:
            if full_disk(again):
                raise _journal_full(backend) from again
            raise


def _journal_full(backend: StoreBackend) -> StoreFull:
    size = _dir_bytes([str(backend.db_path)])
    return StoreFull(f"{backend.path}: disk full: gc needs up to {size:,} bytes free for the "
                     f"journal of {DB_NAME} (free that much and run gc again)", needed=size)


def _shrink(backend: StoreBackend, conn: sqlite3.Connection) -> int:
    """Give the database's free pages back to the file system; the bytes it shrank."""
    files = [str(backend.db_path), str(backend.db_path) + "-wal"]
    before = _dir_bytes(files)
    with suppress(sqlite3.Error):
        conn.executescript("PRAGMA incremental_vacuum;")  # (steps until done, unlike execute)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    write_reserve(backend.path)
    return max(0, before - _dir_bytes(files))
