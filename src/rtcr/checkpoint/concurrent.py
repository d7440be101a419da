"""Concurrent copy-on-write checkpoints: the pause does not grow with the dirty set.

At a checkpoint the target is paused only to record its non-memory state
and to swap every tracked RAM object to its armed map (`TrackedRam.swap`);
then it runs on; unlike a stopped checkpoint, it copies nothing in the pause. The checkpoint's dirty
parts are copied into its staging lease by the commit worker while the
target runs (unicorn runs without the GIL, so on two cores the copy really
runs beside it). If the target writes a part before the worker got to it,
the write fault first copies the part's old content into the lease, then
lets the write proceed -- the content stored is always the content at the
checkpoint.

Copies are pipelined: a checkpoint never waits for the previous one to
commit. Several may be in flight; every one keeps its pending parts
armed in the active map, so a write saves the part for each of them.
What bounds them is the staging memory (`--staging-budget`): a checkpoint
whose dirty pages do not fit waits for earlier ones to commit (policy
``wait``) or is skipped (policy ``skip``). One that could never fit (more
dirty pages than the whole budget) is stored straight from RAM while the
target stays stopped.
"""

from __future__ import annotations

import enum
import sys
import threading
import time
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field

from rtcr.core import PAGE_SIZE
from rtcr.machine import Component, Machine
from rtcr.store import Store
from rtcr.store.native import gather

from .checkpointer import Checkpointer, CheckpointStats, pages_of
from .committer import Job, Source
from .image import capture, object_key
from .runtime import RamRecord, RomRecord, Runtime
from .staging import StagingArea

# While a copy is in flight, let the interpreter switch threads often, so that
# a fault or system call of the target never waits long for the worker.
_SWITCH_INTERVAL = 0.0002
# Pages the worker copies per lock hold (a writing target waits at most that long).
_COPY_CHUNK = 256


class Policy(enum.Enum):
    WAIT = "wait"
    SKIP = "skip"


@dataclass
class _Copy:
    """The copy-on-write side of one job: which parts still wait to be copied, and where to."""

    base: int  # the RAM buffer
    lease_address: int
    pending: dict[int, set[int]]  # RAM object id -> parts not yet copied
    # object id -> (offset of its first page in the lease, its page indices, ascending;
    # the indices are filled in by the first to need them, see `_index`)
    slots: dict[int, tuple[int, array[int]]]
    frames: dict[int, array[int]]  # object id -> physical address per page
    part_pages: dict[int, RamRecord]
    lock: threading.Lock = field(default_factory=threading.Lock)
    indexed: bool = False
    settled: bool = False  # the job is done with the lease: no save is due any more

    def _index(self) -> None:
        """Sort the checkpoint's parts into page indices, once (caller holds the lock).

        Not in the pause: the first save or the worker's copy does it, before
        either takes a part out of `pending` (which then still holds them all).
        """
        if self.indexed:
            return
        for oid, parts in self.pending.items():
            self.slots[oid][1].extend(pages_of(self.part_pages[oid].tracked, parts))
        self.indexed = True

    def save_part(self, oid: int, part: int) -> None:
        """Copy ``part`` of object ``oid`` into the lease now, if this copy still waits for it."""
        with self.lock:
            self._index()
            parts = self.pending.get(oid)
            if parts is not None and part in parts:
                parts.discard(part)
                self._save(oid, [part])

    def save_object(self, oid: int) -> None:
        """Copy every part of object ``oid`` this copy still waits for into the lease now."""
        with self.lock:
            self._index()
            parts = self.pending.pop(oid, set())
            if parts:
                self._save(oid, sorted(parts))

    def _save(self, oid: int, parts: list[int]) -> None:
        record = self.part_pages[oid]
        frames = self.frames[oid]
        for part in parts:
            for page in record.tracked.part_pages_of(part):
                gather(self.base, array("Q", [frames[page]]),
                       self.lease_address + self.slot(oid, page))

    def slot(self, oid: int, page: int) -> int:
        """Where page ``page`` of object ``oid`` goes in the lease."""
        at, indices = self.slots[oid]
        return at + bisect_left(indices, page) * PAGE_SIZE

    def copy_rest(self) -> None:
        """The worker's part: everything the target did not save first."""
        while True:
            with self.lock:
                self._index()
                batch: list[tuple[int, int]] = []
                for oid, parts in self.pending.items():
                    while parts and len(batch) < _COPY_CHUNK:
                        batch.append((oid, parts.pop()))
                if not batch:
                    return
                by_object: dict[int, list[int]] = {}
                for oid, part in batch:
                    by_object.setdefault(oid, []).append(part)
                src = array("Q")
                dst = array("Q")
                for oid, chosen in by_object.items():
                    record = self.part_pages[oid]
                    frames = self.frames[oid]
                    for part in chosen:
                        for page in record.tracked.part_pages_of(part):
                            src.append(frames[page])
                            dst.append(self.slot(oid, page))
                _scatter_gather(self.base, src, self.lease_address, dst)

    def settle(self) -> None:
        """No more saves: the lease is about to be given back."""
        with self.lock:
            self.pending.clear()
            self.settled = True


def _scatter_gather(base: int, src: array[int], dst_base: int, dst: array[int]) -> None:
    """Copy page ``base + src[i]`` to ``dst_base + dst[i]``, for every i."""
    # Slots of one batch are mostly consecutive: copy runs in single native calls.
    start = 0
    for i in range(1, len(src) + 1):
        if i == len(src) or dst[i] != dst[i - 1] + PAGE_SIZE:
            gather(base, src[start:i], dst_base + dst[start])
            start = i


class ConcurrentCheckpointer(Checkpointer):
    def __init__(self, machine: Machine, component: Component, runtime: Runtime, store: Store,
                 *, parent: int | None = None, stored_objects: set[int] | None = None,
                 policy: Policy = Policy.WAIT, staging: StagingArea | None = None) -> None:
        if not runtime.banked:
            raise ValueError("concurrent checkpoints need a runtime with banked tracking")
        super().__init__(machine, component, runtime, store, parent=parent,
                         stored_objects=stored_objects, staging=staging)
        self.policy = policy
        self.skipped = 0
        self._copies: list[_Copy] = []
        self._ramp = array("Q")
        self._switch_interval = sys.getswitchinterval()
        runtime.before_upgrade = self._save_before_write
        runtime.before_free = self._save_before_free

    def _strategy_label(self) -> str:
        return self.runtime.strategy.value + "+concurrent"

    # -- the pause ----------------------------------------------------------------
    def take(self) -> bool:
        """Pause-time part of a checkpoint (False: skipped); its stats arrive at its commit."""
        started = time.perf_counter()
        first = not self._chained
        rams = [r for r in self.runtime.ram_records() if r.tracked.ram is not None]
        needed = PAGE_SIZE * sum(r.tracked.pages if first else r.tracked.pages_in(r.tracked.dirty)
                                 for r in rams)
        if needed > self.staging.budget:  # could never fit: a stopped checkpoint
            return super().take()
        if not self.staging.fits(needed):
            if self.policy is Policy.SKIP:
                self.skipped += 1
                return False
            while not self.staging.fits(needed):
                busy = [job for job in self.committer.in_flight if not job.done.is_set()]
                if not busy:
                    break
                busy[0].done.wait()
        lease = self.staging.lease(needed)
        assert lease is not None
        wait_us = int((time.perf_counter() - started) * 1e6)
        manifest = capture(self.machine, self.component, self.runtime)
        declarations: list[tuple[str, int, bool]] = []
        sources: list[Source] = []
        copy = _Copy(self._ram_base, lease.address, {}, {}, {}, {})
        live = self.live_objects()
        at = 0
        dirty_pages = 0
        for oid, record, fresh in live:
            key = object_key(oid)
            if isinstance(record, RomRecord):
                pages = record.rom.size // PAGE_SIZE
                declarations.append((key, pages, fresh))
                if fresh:
                    sources.append(Source(key, array("I", range(pages)), self._ram_base,
                                          self.frames(oid, record.rom)))
                continue
            tracked = record.tracked
            assert tracked.ram is not None
            declarations.append((key, tracked.pages, fresh))
            dirty = tracked.swap()  # a fresh set, this checkpoint's to keep
            parts = set(range(tracked.parts)) if first else dirty
            count = tracked.pages_in(parts)
            indices = array("I")  # filled in after the pause (`_Copy._index`)
            copy.pending[oid] = parts
            copy.slots[oid] = (at, indices)
            copy.frames[oid] = self.frames(oid, tracked.ram)
            copy.part_pages[oid] = record
            sources.append(Source(key, indices, lease.address + at, self._slot_offsets(count)))
            at += count * PAGE_SIZE
            dirty_pages += count
        pause_us = int((time.perf_counter() - started) * 1e6)
        self.plan_recycling()
        job = Job(manifest, declarations, sources, {oid for oid, _, _ in live},
                  self.machine.instructions, dirty_pages, pause_us, wait_us,
                  self.faults_since_last(), started, self._strategy_label(), lease,
                  prepare=copy.copy_rest, settle=copy.settle)
        self._copies.append(copy)
        self._stored = job.live
        self._chained = True
        sys.setswitchinterval(_SWITCH_INTERVAL)
        self.committer.submit(job)
        return True

    def _slot_offsets(self, count: int) -> array[int]:
        """``0, PAGE_SIZE, 2 * PAGE_SIZE, ...``: ``count`` consecutive slots (u64).

        Sliced from one array kept across checkpoints: a slice is a memory
        copy, building the array again a Python step per page in the pause.
        """
        if len(self._ramp) < count:
            self._ramp = array("Q", range(0, max(count, 2 * len(self._ramp)) * PAGE_SIZE,
                                          PAGE_SIZE))
        return self._ramp[:count]

    def pending(self, oid: int) -> set[int]:
        """Parts of RAM object ``oid`` that checkpoints in flight have yet to copy."""
        out: set[int] = set()
        for copy in self._copies:
            with copy.lock:
                out |= copy.pending.get(oid, set())
        return out

    # -- copy-on-write hooks (target's thread, inside its fault) ------------------------
    def _save_before_write(self, record: RamRecord, part: int) -> None:
        for copy in list(self._copies):
            copy.save_part(record.oid, part)

    def _save_before_free(self, record: RamRecord) -> None:
        for copy in list(self._copies):
            copy.save_object(record.oid)

    # -- between time slices and at the end -------------------------------------------
    def background(self) -> list[CheckpointStats]:
        """Main-thread work between time slices (see `Checkpointer.background`)."""
        return self._collected(super().background())

    def finish(self) -> list[CheckpointStats]:
        return self._collected(super().finish())

    def _collected(self, done: list[CheckpointStats]) -> list[CheckpointStats]:
        """Forget the copies whose job settled; the others still take part in write faults.

        Not "whose `pending` is empty": the worker takes a batch out of
        `pending` and copies it while holding the copy's lock, so an empty
        `pending` may still mean pages on their way to the lease. A write
        fault must then wait for that lock (`save_part`); had the copy been
        forgotten, the write would go ahead and the worker store the page
        as written after the checkpoint.
        """
        self._copies = [c for c in self._copies if not c.settled]
        if not self.committer.in_flight:
            self._copies.clear()
            sys.setswitchinterval(self._switch_interval)
        return done
