"""Taking a checkpoint: the pause only copies.

The machine is paused between time slices (every thread stopped at an
instruction boundary, whether running, blocked on a fault, waiting for a
signal or sleeping). In the pause the checkpointer records the non-memory
state (`image.capture`), copies the dirty pages of every RAM object into a
staging buffer in one native call, re-arms dirty tracking by swapping each
object's pair of maps (`TrackedRam.swap`; the map set aside is re-armed
between time slices, off the pause), and lets the target run on. Hashing,
compression, writing and the one durable commit happen afterwards in the
commit worker (`committer`); a checkpoint becomes visible at its commit,
and `close` waits for the last one.

The pause lasts from `take` until the target runs again: the first time
slice boundary after it (`background`, which re-arms nothing then) or
`finish`. Throughout, and for the first time slice after it, the commit
worker gives way (`Committer.hold`): a worker woken at the end of the
pause would take the GIL whenever the resuming thread lets go of it for a
moment (a call into unicorn), and on a busy machine the resuming thread
then waits for a core, for milliseconds. After one slice the pause is
over and the worker goes on; the target's faults and the worker then share
the GIL as they must while a copy runs.

If the dirty pages do not fit the staging budget, the checkpoint is stored
straight from RAM while the target stays stopped: memory stays bounded, the
pause grows. If a commit fails, the next checkpoint starts again from the
last committed one with every page dirty: nothing is lost on failure.
"""

from __future__ import annotations

import time
from array import array
from dataclasses import dataclass, field

from rtcr.core import PAGE_SIZE, Dataspace, FaultType
from rtcr.machine import Component, Machine
from rtcr.store.native import address, gather

from .committer import CommitTarget, Committer, EarlierFailure, Job, Source
from .image import capture, object_key
from .runtime import RamRecord, RomRecord, Runtime
from .staging import DEFAULT_BUDGET, StagingArea
from .tracking import Strategy, TrackedRam

# Parts re-armed per time slice in the map a swap set aside: at least this many, and
# enough to finish within _RECYCLE_SLICES slices, so the next swap finds it ready.
_RECYCLE_MIN = 256
_RECYCLE_SLICES = 4


@dataclass(frozen=True)
class CheckpointStats:
    """One committed checkpoint, as `--summary-json` and the terminal report it.

    ``pause_us`` is the time the target was stopped for it, from the start
    of `take` until the target runs again (the one definition of pause,
    shared with ``rtcr inspect``), ``wait_us`` the part of it spent waiting
    for staging memory, ``commit_us`` the commit latency (pause start to
    durable pages and issued commit). ``pause_parts`` says where the pause
    went: capture (the image), rearm (tracking), copy (the pages; stopped)
    or plan (the copy's bookkeeping; concurrent), resume (from the end of
    `take` until the target runs), offcpu (the main thread not running:
    waiting for the GIL or for a core; staging waits excluded) and worker
    (CPU the commit worker used meanwhile).
    """

    id: int
    instructions: int
    pause_us: int
    dirty_pages: int
    bytes: int
    faults: dict[str, int] = field(default_factory=dict)
    commit_us: int | None = None
    wait_us: int | None = None
    pause_parts: dict[str, int] | None = None

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "id": self.id, "instructions": self.instructions, "pause_us": self.pause_us,
            "dirty_pages": self.dirty_pages, "bytes": self.bytes, "faults": self.faults}
        if self.commit_us is not None:
            out["commit_us"] = self.commit_us
        if self.wait_us is not None:
            out["wait_us"] = self.wait_us
        if self.pause_parts is not None:
            out["pause_parts"] = self.pause_parts
        return out


@dataclass
class _Pause:
    """A pause not over yet: the target has not run since `take` returned."""

    job: Job
    started: float  # perf_counter at its start
    taken: float  # perf_counter when `take` returned
    cpu: float  # the main thread's CPU time at its start
    worker_cpu: float  # the commit worker's CPU time at its start
    waited: float  # seconds of it spent waiting for staging memory


LiveObject = tuple[int, RomRecord | RamRecord, bool]  # object id, record, new to the chain


def fault_totals(machine: Machine) -> dict[str, int]:
    counts = machine.core.fault_counts
    return {kind.name.lower(): counts.get(kind, 0)
            for kind in (FaultType.READ, FaultType.WRITE, FaultType.EXEC)}


def pages_of(tracked: TrackedRam, parts: set[int]) -> array[int]:
    """The page indices of ``parts``, ascending (u32)."""
    if tracked.part_pages == 1:
        return array("I", sorted(parts))
    return array("I", (page for part in sorted(parts) for page in tracked.part_pages_of(part)))


class Checkpointer:
    def __init__(self, machine: Machine, component: Component, runtime: Runtime,
                 store: CommitTarget, *, parent: int | None = None,
                 stored_objects: set[int] | None = None,
                 staging: StagingArea | None = None) -> None:
        self.machine = machine
        self.component = component
        self.runtime = runtime
        self.store = store
        self.staging = staging if staging is not None else StagingArea(DEFAULT_BUDGET)
        self.committer = Committer(store, parent)
        self._chained = parent is not None  # a full checkpoint exists or is on its way
        # Object ids the previous checkpoint holds; anything else is new and stored whole.
        self._stored: set[int] = set(stored_objects or ())
        self._committed_objects = set(self._stored)
        self._faults_at_last = fault_totals(machine)
        self._frames: dict[int, array[int]] = {}
        self._ram_base = address(machine.core.ram.buffer)
        self.plan_recycling()  # a new or restored object's second map is armed so, too
        self._pause: _Pause | None = None
        self._release_at_slice = False  # the worker goes on at the next slice boundary
        self.history: list[CheckpointStats] = []

    @property
    def parent(self) -> int | None:
        """The newest committed checkpoint of this run's chain."""
        return self.committer.last_committed

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

    def frames(self, oid: int, ds: Dataspace) -> array[int]:
        """Physical addresses of an object's pages (u64; a dataspace's frames never move)."""
        table = self._frames.get(oid)
        if table is None:
            table = self._frames[oid] = array("Q", (ds.frame(i)
                                                    for i in range(ds.size // PAGE_SIZE)))
        return table

    def _strategy_label(self) -> str:
        return self.runtime.strategy.value

    # -- the pause ------------------------------------------------------------------
    def _hold(self) -> tuple[float, float]:
        """The pause proper begins: the worker gives way; the CPU clocks at this moment."""
        self._end_pause()  # (one the caller ran the target after without saying so)
        self._release_at_slice = False
        self.committer.hold()
        return time.thread_time(), self.committer.cpu_seconds()

    def _opened(self, job: Job, started: float, clocks: tuple[float, float],
                waited: float = 0.0) -> None:
        """`take` is done with ``job``: its pause lasts until the target runs (`_end_pause`)."""
        self._pause = _Pause(job, started, time.perf_counter(), *clocks, waited)
        job.pause_us = int((self._pause.taken - started) * 1e6)

    def _end_pause(self, release: bool = True) -> None:
        """The target runs on: the pause's figures are final; the worker goes on
        (``release``) or at the next slice boundary.

        If the target ran since `take` without a time slice boundary telling
        (an API caller running the machine itself), when it resumed is not
        known: the pause keeps the length of `take`, a lower bound.
        """
        pause, self._pause = self._pause, None
        if pause is None:
            return
        job = pause.job
        if self.machine.instructions == job.instructions:
            now = time.perf_counter()
            wall = now - pause.started
            cpu = time.thread_time() - pause.cpu
            job.pause_us = int(wall * 1e6)
            parts = job.pause_parts if job.pause_parts is not None else {}
            parts["resume_us"] = int((now - pause.taken) * 1e6)
            parts["offcpu_us"] = max(0, int((wall - pause.waited - cpu) * 1e6))
            parts["worker_us"] = int((self.committer.cpu_seconds() - pause.worker_cpu) * 1e6)
            job.pause_parts = parts
        if release:
            self.committer.release()
        else:
            self._release_at_slice = True

    def checkpoint(self) -> CheckpointStats | None:
        """Take a checkpoint and wait for its commit: its stats (None if it was skipped)."""
        if not self.take():
            return None
        done = self.finish()
        return done[-1] if done else None

    def take(self) -> bool:
        """The pause of one checkpoint (False: skipped); its stats arrive when it commits.

        `background` (between time slices) and `finish` account committed ones.
        """
        started = time.perf_counter()
        clocks = self._hold()
        manifest = capture(self.machine, self.component, self.runtime)
        captured = time.perf_counter()
        rearm = 0.0
        first = not self._chained
        declarations: list[tuple[str, int, bool]] = []
        roms: list[Source] = []
        rams: list[tuple[str, array[int], array[int]]] = []
        live = self.live_objects()
        for oid, record, fresh in live:
            key = object_key(oid)
            if isinstance(record, RomRecord):
                pages = record.rom.size // PAGE_SIZE
                declarations.append((key, pages, fresh))
                if fresh:  # ROM never changes: stored straight from its frames
                    frames = self.frames(oid, record.rom)
                    roms.append(Source(key, array("I", range(pages)), self._ram_base, frames))
                continue
            tracked = record.tracked
            assert tracked.ram is not None
            declarations.append((key, tracked.pages, fresh))
            begun = time.perf_counter()
            dirty = tracked.swap()
            rearm += time.perf_counter() - begun
            if first or tracked.strategy is Strategy.FULL:
                indices = array("I", range(tracked.pages))
            else:
                indices = pages_of(tracked, dirty)
            frames = self.frames(oid, tracked.ram)
            rams.append((key, indices, array("Q", (frames[i] for i in indices))))
        dirty_pages = sum(len(indices) for _key, indices, _addrs in rams)
        copying = time.perf_counter()
        lease = self.staging.lease(dirty_pages * PAGE_SIZE)
        sources = list(roms)
        if lease is not None:
            gather(self._ram_base, array("Q", (a for _k, _i, addrs in rams for a in addrs)),
                   lease.address)
            at = 0
            for key, indices, _addrs in rams:
                sources.append(Source(key, indices, lease.address,
                                      array("Q", range(at, at + len(indices) * PAGE_SIZE,
                                                       PAGE_SIZE))))
                at += len(indices) * PAGE_SIZE
        else:  # over the staging budget: encode from RAM while the target stays stopped
            sources += [Source(key, indices, self._ram_base, addrs)
                        for key, indices, addrs in rams]
        live_oids = {oid for oid, _, _ in live}
        self._frames = {oid: f for oid, f in self._frames.items() if oid in live_oids}
        self.plan_recycling()
        parts = {"capture_us": int((captured - started) * 1e6), "rearm_us": int(rearm * 1e6),
                 "copy_us": int((time.perf_counter() - copying) * 1e6)}
        job = Job(manifest, declarations, sources, live_oids,
                  self.machine.instructions, dirty_pages, 0, 0, self.faults_since_last(),
                  started, self._strategy_label(), lease, pause_parts=parts)
        self._stored = job.live
        self._chained = True
        if lease is None:
            self.committer.run_here(job)
            job.pause_us = int((time.perf_counter() - started) * 1e6)
            return True
        self.committer.submit(job)
        self._opened(job, started, clocks)
        return True

    # -- after the pause ----------------------------------------------------------------
    def plan_recycling(self) -> None:
        """After the swaps of a checkpoint: how much re-arming each time slice does."""
        stale = sum(record.tracked.stale_parts for record in self.runtime.ram_records())
        self._recycle_budget = max(_RECYCLE_MIN, -(-stale // _RECYCLE_SLICES))

    def background(self) -> list[CheckpointStats]:
        """Main-thread work between time slices: re-arm the maps the last swap set aside
        (off the pause), account the checkpoints that committed.

        Right after a pause it re-arms nothing: the target runs from here, and
        the pause ends (`_end_pause`).
        """
        if self._pause is not None:
            try:
                return self._account(self.committer.collect())
            finally:
                self._end_pause(release=False)
        if self._release_at_slice:
            self._release_at_slice = False
            self.committer.release()
        budget = self._recycle_budget
        for record in self.runtime.ram_records():
            budget -= record.tracked.recycle(budget)
            if budget <= 0:
                break
        return self._account(self.committer.collect())

    def finish(self) -> list[CheckpointStats]:
        """Wait for every checkpoint in flight and account them (raises a commit's error)."""
        self._end_pause()
        return self._account(self.committer.collect(wait=True))

    def close(self) -> list[CheckpointStats]:
        """At the end of a run: the remaining checkpoints, committed."""
        try:
            return self.finish()
        finally:
            self.committer.close()

    def _account(self, jobs: list[Job]) -> list[CheckpointStats]:
        done: list[CheckpointStats] = []
        errors = [job.error for job in jobs if job.error is not None]
        for job in jobs:
            if job.result is None:
                continue
            self._committed_objects = job.live
            stats = CheckpointStats(job.result, job.instructions, job.pause_us,
                                    job.dirty_pages, job.stored_bytes, job.faults,
                                    commit_us=job.commit_us, wait_us=job.wait_us,
                                    pause_parts=job.pause_parts)
            self.history.append(stats)
            done.append(stats)
        if errors:
            self._recover()
            # The first real failure; those queued behind it only say that it happened.
            raise next((e for e in errors if not isinstance(e, EarlierFailure)), errors[0])
        return done

    def _recover(self) -> None:
        """A commit failed: the next checkpoint stores every page against the last commit."""
        self.committer.drain()
        for job in self.committer.collect():
            if job.result is not None:
                self._committed_objects = job.live
        for record in self.runtime.ram_records():
            if record.tracked.ram is not None:
                record.tracked.dirty.update(range(record.tracked.parts))
        self._stored = set(self._committed_objects)
        self._chained = self.committer.last_committed is not None
        self.committer.recover()
