"""Concurrent copy-on-write checkpoints: the pause does not grow with the dirty set.

At a checkpoint the target is paused only to record its non-memory state
and to swap every tracked RAM object to its all-read-only bank (O(1) per
object, see `TrackedRam.swap`); then it runs on. A copier thread streams
the parts that were dirty into the store while the target runs (unicorn
runs without the GIL, so on two cores the copier really runs beside it).
If the target writes a part before the copier got to it, the write fault
first saves the part's old content for the copier, then lets the write
proceed -- the content stored is always the content at the checkpoint.
The checkpoint commits, atomically as always, when the last part is
stored.

A checkpoint requested while the previous one is still copying waits for
it (policy `wait`, the default: the same checkpoints as a stopped run, a
longer pause that time) or is skipped (policy `skip`: bounded pause, fewer
checkpoints, which ones depends on host speed).
"""

from __future__ import annotations

import enum
import sys
import threading
import time
from dataclasses import dataclass, field

from rtcr.core import PAGE_SIZE, RamDataspace
from rtcr.machine import Component, Machine
from rtcr.store import Store

from .checkpointer import Checkpointer, CheckpointStats, put_pages
from .image import capture, object_key
from .runtime import RamRecord, RomRecord, Runtime

# While a copy is in flight, let the interpreter switch threads often, so that
# a fault or system call of the target never waits long for the copier.
_SWITCH_INTERVAL = 0.0002
# Parts reset to read-only per time slice: at least this many, and enough to
# finish within _RECYCLE_SLICES slices, so the next checkpoint finds its bank ready.
_RECYCLE_MIN = 256
_RECYCLE_SLICES = 4


class Policy(enum.Enum):
    WAIT = "wait"
    SKIP = "skip"


@dataclass
class _Copy:
    """One checkpoint whose pages are still being copied."""

    parent: int | None
    manifest: dict[str, object]
    declarations: list[tuple[str, int, bool]]
    roms: list[tuple[int, RomRecord]]
    pending: dict[int, set[int]]  # RAM object id -> parts still to copy
    rams: dict[int, tuple[RamDataspace, RamRecord]]
    dirty_pages: int
    stored_before: set[int]
    instructions: int
    pause_us: int
    wait_us: int
    started: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    saved: dict[tuple[int, int], bytes] = field(default_factory=dict)  # (oid, page) -> content
    done: threading.Event = field(default_factory=threading.Event)
    result: int | None = None
    error: BaseException | None = None


class ConcurrentCheckpointer(Checkpointer):
    def __init__(self, machine: Machine, component: Component, runtime: Runtime, store: Store,
                 *, parent: int | None = None, stored_objects: set[int] | None = None,
                 policy: Policy = Policy.WAIT) -> None:
        if not runtime.banked:
            raise ValueError("concurrent checkpoints need a runtime with banked tracking")
        super().__init__(machine, component, runtime, store, parent=parent,
                         stored_objects=stored_objects)
        self.policy = policy
        self.skipped = 0
        self._copy: _Copy | None = None
        self._thread: threading.Thread | None = None
        self._switch_interval = sys.getswitchinterval()
        self._recycle_budget = _RECYCLE_MIN
        runtime.before_upgrade = self._save_before_write
        runtime.before_free = self._save_before_free

    # -- the pause ----------------------------------------------------------------
    def checkpoint(self) -> CheckpointStats | None:  # type: ignore[override]
        """Pause-time part of a checkpoint; None if skipped (policy `skip`).

        Under policy `wait`, waiting for the previous copy is part of this pause.
        """
        started = time.perf_counter()
        if self._copy is not None:
            if self.policy is Policy.SKIP and not self._copy.done.is_set():
                self.skipped += 1
                return None
            self.finish()
        wait_us = int((time.perf_counter() - started) * 1e6)
        manifest = capture(self.machine, self.component, self.runtime)
        first = self.parent is None
        declarations: list[tuple[str, int, bool]] = []
        roms: list[tuple[int, RomRecord]] = []
        pending: dict[int, set[int]] = {}
        rams: dict[int, tuple[RamDataspace, RamRecord]] = {}
        live = self.live_objects()
        dirty_pages = 0
        for oid, record, fresh in live:
            if isinstance(record, RomRecord):
                declarations.append((object_key(oid), record.rom.size // PAGE_SIZE, fresh))
                if fresh:
                    roms.append((oid, record))
            else:
                tracked = record.tracked
                assert tracked.ram is not None
                declarations.append((object_key(oid), tracked.pages, fresh))
                dirty = tracked.swap()
                dirty_pages += tracked.pages_in(dirty)
                pending[oid] = set(range(tracked.parts)) if first else dirty
                rams[oid] = (tracked.ram, record)
        pause_us = int((time.perf_counter() - started) * 1e6)
        stale = sum(record.tracked.stale_parts for record in self.runtime.ram_records())
        self._recycle_budget = max(_RECYCLE_MIN, -(-stale // _RECYCLE_SLICES))
        self._copy = _Copy(self.parent, manifest, declarations, roms, pending, rams,
                           dirty_pages, self._stored, self.machine.instructions, pause_us,
                           wait_us, started)
        self._stored = {oid for oid, _, _ in live}
        sys.setswitchinterval(_SWITCH_INTERVAL)
        self._thread = threading.Thread(target=self._copier, args=(self._copy,),
                                        name="rtcr-copier", daemon=True)
        self._thread.start()
        return CheckpointStats(0, self.machine.instructions, pause_us, dirty_pages, 0, {},
                               wait_us=wait_us)

    # -- copy-on-write hooks (target's thread, inside its fault) ------------------------
    def _save_before_write(self, record: RamRecord, part: int) -> None:
        copy = self._copy
        if copy is None:
            return
        with copy.lock:
            parts = copy.pending.get(record.oid)
            if parts is None or part not in parts:
                return
            parts.discard(part)
            ram = copy.rams[record.oid][0]
            for page in record.tracked.part_pages_of(part):
                copy.saved[(record.oid, page)] = ram.read(page * PAGE_SIZE, PAGE_SIZE)

    def _save_before_free(self, record: RamRecord) -> None:
        copy = self._copy
        if copy is None:
            return
        with copy.lock:
            parts = copy.pending.pop(record.oid, set())
            ram = copy.rams[record.oid][0] if record.oid in copy.rams else None
            for part in parts:
                for page in record.tracked.part_pages_of(part):
                    assert ram is not None
                    copy.saved[(record.oid, page)] = ram.read(page * PAGE_SIZE, PAGE_SIZE)

    # -- the copier thread ----------------------------------------------------------
    def _copier(self, copy: _Copy) -> None:
        try:
            with self.store.begin(parent=copy.parent) as writer:
                for key, npages, fresh in copy.declarations:
                    writer.declare(key, npages, fresh=fresh)
                for oid, rom in copy.roms:
                    put_pages(writer, oid, rom.rom, range(rom.rom.size // PAGE_SIZE))
                while True:
                    batch = self._take(copy)
                    if not batch:
                        break
                    for oid, page, content in batch:
                        writer.put_page(object_key(oid), page, content)
                copy.result = writer.commit(copy.manifest, instructions=copy.instructions,
                                            dirty_pages=copy.dirty_pages,
                                            pause_us=copy.pause_us,
                                            strategy=self.runtime.strategy.value + "+concurrent")
        except BaseException as error:
            copy.error = error
        finally:
            copy.done.set()

    @staticmethod
    def _take(copy: _Copy) -> list[tuple[int, int, bytes]]:
        """Next pages to store: what the target saved first, then one pending part."""
        with copy.lock:
            if copy.saved:
                batch = [(oid, page, content) for (oid, page), content in copy.saved.items()]
                copy.saved.clear()
                return batch
            for oid, parts in copy.pending.items():
                if parts:
                    part = parts.pop()
                    ram, record = copy.rams[oid]
                    return [(oid, page, ram.read(page * PAGE_SIZE, PAGE_SIZE))
                            for page in record.tracked.part_pages_of(part)]
            return []

    # -- between time slices and at the end -------------------------------------------
    def background(self) -> list[CheckpointStats]:
        """Main-thread work between time slices: recycle banks, collect finished copies."""
        budget = self._recycle_budget
        for record in self.runtime.ram_records():
            budget -= record.tracked.recycle(budget)
            if budget <= 0:
                break
        if self._copy is not None and self._copy.done.is_set():
            return [self.finish()]
        return []

    def finish(self) -> CheckpointStats:
        """Wait for the copy in flight and account for it (raises its error, if any)."""
        copy = self._copy
        assert copy is not None and self._thread is not None
        self._thread.join()
        self._copy = None
        self._thread = None
        sys.setswitchinterval(self._switch_interval)
        if copy.error is not None or copy.result is None:
            # Nothing lost: the next checkpoint builds on the same parent and stores
            # every part of the objects this one should have stored (which parts
            # exactly is gone with the copy; all of them is always right).
            for oid in copy.rams:
                record = self.runtime.objects.get(oid)
                if isinstance(record, RamRecord) and record.tracked.ram is not None:
                    record.tracked.dirty.update(range(record.tracked.parts))
            self._stored = copy.stored_before  # the next one builds on the same parent
            raise copy.error if copy.error is not None else RuntimeError("copy did not commit")
        faults = self.faults_since_last()
        self.parent = copy.result
        stats = CheckpointStats(copy.result, copy.instructions, copy.pause_us, copy.dirty_pages,
                                self.stored_bytes(copy.result), faults,
                                copy_us=int((time.perf_counter() - copy.started) * 1e6),
                                wait_us=copy.wait_us)
        self.history.append(stats)
        return stats

    def close(self) -> list[CheckpointStats]:
        return [self.finish()] if self._copy is not None else []
