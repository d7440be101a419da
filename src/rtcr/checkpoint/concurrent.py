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

Nothing in the pause depends on the dirty set. It swaps the maps (O(the
target's regions)), captures the image (O(objects and threads)) and hands
the worker, per object, the set of dirty parts as the write faults left it;
the worker sorts it into page indices, builds the address lists and copies
(in batches of `_COPY_CHUNK` pages, each under the copy's lock) once the
target runs again (`Committer.hold`), so neither the sort nor the worker's
Python between its native calls makes the paused target wait for the GIL.

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
import threading
import time
from array import array
from bisect import bisect_left
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from itertools import chain

from rtcr.core import PAGE_SIZE, Dataspace
from rtcr.machine import Component, Machine
from rtcr.store import Store
from rtcr.store.native import gather

from .checkpointer import Checkpointer, CheckpointStats
from .committer import Job, Source
from .image import capture, object_key
from .runtime import RamRecord, RomRecord, Runtime
from .staging import StagingArea

# Pages the worker copies per lock hold (a writing target waits at most that long).
_COPY_CHUNK = 256


class Policy(enum.Enum):
    WAIT = "wait"
    SKIP = "skip"


@dataclass
class _Object:
    """One RAM object of a copy: its dirty parts and where their pages go in the lease.

    The part of rank r (in ascending order) goes to ``slot + r * part_size``:
    only the last part may be short, and it has the highest rank.
    """

    record: RamRecord
    ram: Dataspace
    parts: Collection[int]  # the checkpoint's dirty parts (a range for a full checkpoint)
    slot: int  # lease address of its first page
    indices: array[int]  # the Source's page indices, ascending (filled in by `_Copy._index`)
    addrs: array[int]  # the Source's slot offsets (filled in by `_Copy._index`)
    order: list[int] = field(default_factory=list)  # `parts` ascending (`_Copy._index`)
    frames: array[int] = field(default_factory=lambda: array("Q"))  # (`_Copy._index`)
    copied: int = 0  # parts order[:copied] are in the lease (or need not be any more)
    saved: set[int] = field(default_factory=set)  # parts a write saved before the worker


@dataclass
class _Copy:
    """The copy-on-write side of one job: which parts still wait to be copied, and where to."""

    base: int  # the RAM buffer
    objects: dict[int, _Object]  # RAM object id -> its part of the copy
    frames: Callable[[int, Dataspace], array[int]]  # an object's frame table (`Checkpointer`)
    slots: Callable[[int], array[int]]  # 0, PAGE_SIZE, ... (`ConcurrentCheckpointer`)
    give_way: Callable[[], None]  # the worker waits while the target is paused
    lock: threading.Lock = field(default_factory=threading.Lock)
    indexed: bool = False
    settled: bool = False  # the job is done with the lease: no save is due any more
    saves: int = 0  # parts a write saved first

    def _index(self) -> None:
        """Sort the checkpoint's parts into page indices, once (caller holds the lock).

        Not in the pause: the worker does it when the target runs again, or
        the first write that must save a part, whichever comes first.
        """
        if self.indexed:
            return
        for oid, obj in self.objects.items():
            tracked = obj.record.tracked
            obj.order = list(obj.parts) if isinstance(obj.parts, range) else sorted(obj.parts)
            if tracked.part_pages == 1:
                obj.indices.extend(obj.order)
            else:
                obj.indices.extend(chain.from_iterable(map(tracked.part_pages_of, obj.order)))
            obj.addrs.extend(self.slots(len(obj.indices)))
            obj.frames = self.frames(oid, obj.ram)
        self.indexed = True

    def pending(self, oid: int) -> set[int]:
        """Parts of object ``oid`` this copy has yet to copy."""
        with self.lock:
            obj = self.objects.get(oid)
            if obj is None or self.settled:
                return set()
            if not self.indexed:
                return set(obj.parts) - obj.saved
            return set(obj.order[obj.copied:]) - obj.saved

    def save_part(self, oid: int, part: int) -> None:
        """Copy ``part`` of object ``oid`` into the lease now, if this copy still waits for it."""
        with self.lock:
            obj = self.objects.get(oid)
            if self.settled or obj is None or part not in obj.parts or part in obj.saved:
                return
            self._index()
            rank = bisect_left(obj.order, part)
            if rank < obj.copied:
                return
            obj.saved.add(part)
            self.saves += 1
            self._copy(obj, rank, [part])

    def save_object(self, oid: int) -> None:
        """Copy every part of object ``oid`` this copy still waits for into the lease now."""
        with self.lock:
            obj = self.objects.get(oid)
            if self.settled or obj is None:
                return
            self._index()
            self._copy_ranks(obj, obj.copied, len(obj.order))
            obj.copied = len(obj.order)

    def copy_rest(self) -> None:
        """The worker's part: everything the target did not save first."""
        for obj in list(self.objects.values()):
            step = max(1, _COPY_CHUNK // obj.record.tracked.part_pages)
            while True:
                self.give_way()
                with self.lock:
                    self._index()
                    lo = obj.copied
                    hi = min(lo + step, len(obj.order))
                    if self.settled or lo >= hi:
                        break
                    self._copy_ranks(obj, lo, hi)
                    obj.copied = hi

    def _copy_ranks(self, obj: _Object, lo: int, hi: int) -> None:
        """Copy the parts of ranks ``lo`` to ``hi`` not saved yet, in runs of adjacent slots."""
        parts = obj.order[lo:hi]
        if obj.saved.isdisjoint(parts):
            self._copy(obj, lo, parts)
            return
        start = lo
        for rank, part in enumerate(parts, lo):
            if part in obj.saved:
                self._copy(obj, start, obj.order[start:rank])
                start = rank + 1
        self._copy(obj, start, obj.order[start:hi])

    def _copy(self, obj: _Object, rank: int, parts: list[int]) -> None:
        """Copy ``parts`` (ascending, ranks from ``rank`` on) from RAM into their slots."""
        if not parts:
            return
        tracked = obj.record.tracked
        size = tracked.part_pages
        frames = obj.frames
        if size == 1:
            src = array("Q", map(frames.__getitem__, parts))
        else:
            src = array("Q", chain.from_iterable(frames[p * size:(p + 1) * size]
                                                 for p in parts))
        _scatter_gather(self.base, src, obj.slot + rank * tracked.part_size)

    def settle(self) -> None:
        """No more saves: the lease is about to be given back."""
        with self.lock:
            self.settled = True


def _scatter_gather(base: int, src: array[int], dst: int) -> None:
    """Copy page ``base + src[i]`` to ``dst + i * PAGE_SIZE``, for every i (one native call)."""
    gather(base, src, dst)


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
        self._saves = 0  # saves of the copies already forgotten
        self._ramp = array("Q")
        runtime.before_upgrade = self._save_before_write
        runtime.before_free = self._save_before_free

    def _strategy_label(self) -> str:
        return self.runtime.strategy.value + "+concurrent"

    # -- the pause ----------------------------------------------------------------
    def take(self) -> bool:
        """Pause-time part of a checkpoint (False: skipped); its stats arrive at its commit.

        O(objects and threads): the dirty parts are handed over as the write
        faults left them; sorting them into pages is the worker's (`_Copy`).
        """
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
        waited = time.perf_counter() - started
        clocks = self._hold()
        held = time.perf_counter()
        manifest = capture(self.machine, self.component, self.runtime)
        captured = time.perf_counter()
        rearm = 0.0
        declarations: list[tuple[str, int, bool]] = []
        sources: list[Source] = []
        copy = _Copy(self._ram_base, {}, self.frames, self._slot_offsets,
                     self.committer.give_way)
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
            begun = time.perf_counter()
            dirty = tracked.swap()  # a fresh set, this checkpoint's to keep
            rearm += time.perf_counter() - begun
            parts: Collection[int] = range(tracked.parts) if first else dirty
            count = tracked.pages_in(parts)
            obj = _Object(record, tracked.ram, parts, lease.address + at, array("I"),
                          array("Q"))
            copy.objects[oid] = obj
            sources.append(Source(key, obj.indices, obj.slot, obj.addrs))
            at += count * PAGE_SIZE
            dirty_pages += count
        self.plan_recycling()
        planned = time.perf_counter()
        parts_us = {"capture_us": int((captured - held) * 1e6), "rearm_us": int(rearm * 1e6),
                    "plan_us": int((planned - captured - rearm) * 1e6)}
        job = Job(manifest, declarations, sources, {oid for oid, _, _ in live},
                  self.machine.instructions, dirty_pages, 0, int(waited * 1e6),
                  self.faults_since_last(), started, self._strategy_label(), lease,
                  prepare=copy.copy_rest, settle=copy.settle, pause_parts=parts_us)
        self._copies.append(copy)
        self._stored = job.live
        self._chained = True
        self.committer.submit(job)
        self._opened(job, started, clocks, waited)
        return True

    def _slot_offsets(self, count: int) -> array[int]:
        """``0, PAGE_SIZE, 2 * PAGE_SIZE, ...``: ``count`` consecutive slots (u64).

        Sliced from one array kept across checkpoints (a slice is a memory
        copy); called by whoever indexes a copy, after the pause.
        """
        ramp = self._ramp
        if len(ramp) < count:
            ramp = self._ramp = array("Q", range(0, max(count, 2 * len(ramp)) * PAGE_SIZE,
                                                 PAGE_SIZE))
        return ramp[:count]

    @property
    def saves(self) -> int:
        """Parts a write saved before the worker copied them, over the copies in flight."""
        return self._saves + sum(copy.saves for copy in self._copies)

    def pending(self, oid: int) -> set[int]:
        """Parts of RAM object ``oid`` that checkpoints in flight have yet to copy."""
        out: set[int] = set()
        for copy in self._copies:
            out |= copy.pending(oid)
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
        self._saves += sum(c.saves for c in self._copies if c.settled)
        self._copies = [c for c in self._copies if not c.settled]
        if not self.committer.in_flight:
            self._saves += sum(c.saves for c in self._copies)
            self._copies.clear()
        return done
