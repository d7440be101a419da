"""Taking a checkpoint: pause, copy what changed, re-arm tracking, resume.

The machine is paused between time slices (every thread stopped at an
instruction boundary, whether running, blocked on a fault, waiting for a
signal or sleeping). The checkpointer then records the non-memory state
(`image.capture`), re-arms dirty tracking, streams the changed pages
straight from physical memory into the store and commits. If anything
fails before the commit, the dirty sets are put back, so the next
checkpoint still contains every change: nothing is lost on failure.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from rtcr.core import PAGE_SIZE, Dataspace, FaultType
from rtcr.machine import Component, Machine
from rtcr.store import CheckpointWriter, Store

from .image import capture, object_key
from .runtime import RamRecord, RomRecord, Runtime


@dataclass(frozen=True)
class CheckpointStats:
    id: int
    instructions: int
    pause_us: int
    dirty_pages: int
    bytes: int
    faults: dict[str, int] = field(default_factory=dict)
    copy_us: int | None = None  # concurrent checkpoints: pause start to commit
    wait_us: int | None = None  # concurrent: part of the pause spent waiting for the last copy

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "id": self.id, "instructions": self.instructions, "pause_us": self.pause_us,
            "dirty_pages": self.dirty_pages, "bytes": self.bytes, "faults": self.faults}
        if self.copy_us is not None:
            out["copy_us"] = self.copy_us
        if self.wait_us is not None:
            out["wait_us"] = self.wait_us
        return out


LiveObject = tuple[int, RomRecord | RamRecord, bool]  # object id, record, new to the chain


def put_pages(writer: CheckpointWriter, oid: int, ds: Dataspace, pages: Iterable[int]) -> None:
    """Store `pages` of `ds` as pages of memory object `oid`."""
    key = object_key(oid)
    for page in pages:
        writer.put_page(key, page, ds.read(page * PAGE_SIZE, PAGE_SIZE))


def fault_totals(machine: Machine) -> dict[str, int]:
    counts = machine.core.fault_counts
    return {kind.name.lower(): counts.get(kind, 0)
            for kind in (FaultType.READ, FaultType.WRITE, FaultType.EXEC)}


class Checkpointer:
    def __init__(self, machine: Machine, component: Component, runtime: Runtime, store: Store,
                 *, parent: int | None = None, stored_objects: set[int] | None = None) -> None:
        self.machine = machine
        self.component = component
        self.runtime = runtime
        self.store = store
        self.parent = parent
        # Object ids the parent checkpoint holds; anything else is new and stored whole.
        self._stored: set[int] = set(stored_objects or ())
        self._faults_at_last = fault_totals(machine)
        self.history: list[CheckpointStats] = []

    def live_objects(self) -> list[LiveObject]:
        """The memory objects the next checkpoint holds, by id, and whether each is new."""
        return [(oid, record, oid not in self._stored)
                for oid, record in sorted(self.runtime.objects.items())
                if isinstance(record, RomRecord)
                or (isinstance(record, RamRecord) and record.tracked.ram is not None)]

    def faults_since_last(self) -> dict[str, int]:
        """Faults reflected since the last checkpoint was accounted, by type."""
        totals = fault_totals(self.machine)
        faults = {k: totals[k] - self._faults_at_last[k] for k in totals}
        self._faults_at_last = totals
        return faults

    def checkpoint(self) -> CheckpointStats:
        started = time.perf_counter()
        manifest = capture(self.machine, self.component, self.runtime)
        rams = self.runtime.ram_records()
        dirty = {r.oid: r.tracked.dirty_pages() for r in rams if not r.tracked.freed}
        saved = {r.oid: set(r.tracked.dirty) for r in rams}
        self.runtime.rearm()
        try:
            cid, dirty_count, stored_bytes, live = self._write(manifest, dirty, started)
        except BaseException:
            for record in rams:
                record.tracked.dirty |= saved[record.oid]
            raise
        pause_us = int((time.perf_counter() - started) * 1e6)
        self.parent = cid
        self._stored = live
        stats = CheckpointStats(cid, self.machine.instructions, pause_us, dirty_count,
                                stored_bytes, self.faults_since_last())
        self.history.append(stats)
        return stats

    def _write(self, manifest: dict[str, object], dirty: dict[int, list[int]],
               started: float) -> tuple[int, int, int, set[int]]:
        live = self.live_objects()
        dirty_count = 0
        with self.store.begin(parent=self.parent) as writer:
            for oid, record, fresh in live:
                if isinstance(record, RomRecord):
                    pages = record.rom.size // PAGE_SIZE
                    writer.declare(object_key(oid), pages, fresh=fresh)
                    if fresh:
                        put_pages(writer, oid, record.rom, range(pages))
                else:
                    assert record.tracked.ram is not None
                    writer.declare(object_key(oid), record.tracked.pages, fresh=fresh)
                    put_pages(writer, oid, record.tracked.ram,
                              range(record.tracked.pages) if self.parent is None
                              else dirty[oid])
                    dirty_count += len(dirty[oid])
            pause_us = int((time.perf_counter() - started) * 1e6)
            cid = writer.commit(manifest, instructions=self.machine.instructions,
                                dirty_pages=dirty_count, pause_us=pause_us,
                                strategy=self.runtime.strategy.value)
        return cid, dirty_count, self.stored_bytes(cid), {oid for oid, _, _ in live}

    def stored_bytes(self, cid: int) -> int:
        return self.store.info(cid).bytes
