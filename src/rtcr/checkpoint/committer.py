"""The commit worker: stores staged checkpoints after their pause, in order.

A checkpoint leaves the pause as a `Job`: its manifest, its object
declarations and, per object, where its pages are (a staging lease, or the
RAM itself for ROM contents, which never change). The worker thread takes
jobs in order, lets a job finish collecting its pages (`Job.prepare`: the
copy-on-write copier of concurrent checkpoints), and writes each into the
store with one commit. The heavy work -- copying, hashing, compressing,
writing, syncing -- happens in native calls and system calls that release
the GIL, so the target runs on beside it.

The worker gives way to the target's pause. A pause is the target's
time, and a worker running Python in it makes the paused thread wait for
the GIL -- on a busy machine, for a core as well. So the checkpointer
`hold`s the worker from the start of a pause until the target runs again
(`release`): the worker waits before each of its steps (copying a batch,
writing an object's pages, committing), at most `HOLD_LIMIT`, so a
commit reads the pause's figures once they are final. Whoever
waits for the worker releases it first, so a hold can never deadlock.
A worker inside a step (a system call, a native copy) finishes it; that
it does not then take the GIL from the paused thread is the switch
interval's part: while held, the interpreter's own (milliseconds), so the
paused thread is never forced to switch; while the worker runs beside the
target, `RUNNING_SWITCH_INTERVAL`, so that a fault or system call of the
target never waits long for the worker's Python.

Jobs form a chain: each one's parent is the checkpoint the previous job
committed. If a job fails, every job queued behind it fails too (their
pages are relative to it), and the checkpointer starts over from the last
committed checkpoint with every page dirty: nothing is lost, only time.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

from rtcr.errors import StoreError
from rtcr.store import CheckpointInfo

from .staging import Lease


@dataclass
class Source:
    """Pages ``indices`` of object ``key``: page ``indices[i]`` at ``base + addrs[i]``."""

    key: str
    indices: array[int]
    base: int
    addrs: array[int]


@dataclass
class Job:
    """One paused-for checkpoint on its way to the store."""

    manifest: dict[str, object]
    declarations: list[tuple[str, int, bool]]
    sources: list[Source]
    live: set[int]  # object ids it holds
    instructions: int
    dirty_pages: int
    pause_us: int
    wait_us: int
    faults: dict[str, int]
    started: float  # perf_counter at the start of the pause
    strategy: str
    lease: Lease | None = None
    # Collects the pages still missing from the lease (concurrent checkpoints).
    prepare: Callable[[], None] | None = None
    # Called once the job is done with its pages, before its lease is given back.
    settle: Callable[[], None] | None = None
    done: threading.Event = field(default_factory=threading.Event)
    result: int | None = None
    error: BaseException | None = None
    commit_us: int = 0
    pause_parts: dict[str, int] | None = None
    stored_bytes: int = 0


class CheckpointSink(Protocol):
    """One checkpoint being written (`CheckpointWriter`, or a migration's wire)."""

    def __enter__(self) -> CheckpointSink: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def declare(self, key: str, npages: int, fresh: bool = False) -> None: ...

    def put_pages(self, key: str, indices: array[int], base: int, addrs: array[int]) -> None: ...

    def commit(self, manifest: dict[str, Any], *, instructions: int = 0,
               dirty_pages: int | None = None, pause_us: float = 0.0, strategy: str = "",
               since: float | None = None) -> int: ...


class CommitTarget(Protocol):
    """Where the commit worker writes checkpoints: a `Store`, or a migration's wire."""

    def begin(self, parent: int | None = None) -> CheckpointSink: ...

    def info(self, cid: int) -> CheckpointInfo: ...


# How long the worker gives way to a pause at most: far longer than a pause takes, so
# that only a caller that stops the target for other reasons (an API user between
# `take` and running on) sees the worker go ahead while the target is stopped.
HOLD_LIMIT = 0.05
RUNNING_SWITCH_INTERVAL = 0.0002


class EarlierFailure(StoreError):
    """A job queued behind a failed one: its pages were relative to the failed checkpoint."""


class Committer:
    """A worker thread committing jobs in order to ``store``."""

    def __init__(self, store: CommitTarget, parent: int | None) -> None:
        self.store = store
        self.last_committed = parent
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._in_flight: list[Job] = []
        self._failed = False
        self._thread: threading.Thread | None = None
        self._running = threading.Event()  # set: the target runs, the worker may work
        self._running.set()
        self._switch_interval = sys.getswitchinterval()  # the interpreter's own

    @property
    def in_flight(self) -> list[Job]:
        """Jobs submitted and not yet collected, oldest first."""
        return list(self._in_flight)

    def hold(self) -> None:
        """The target is paused: the worker waits before its next step (see the module)."""
        self._running.clear()
        sys.setswitchinterval(self._switch_interval)

    def release(self) -> None:
        """The target runs again: the worker goes on."""
        self._running.set()
        if self._in_flight:
            sys.setswitchinterval(RUNNING_SWITCH_INTERVAL)

    def give_way(self) -> None:
        """The worker's side of `hold`: wait while the target is paused (at most HOLD_LIMIT)."""
        self._running.wait(HOLD_LIMIT)

    def cpu_seconds(self) -> float:
        """CPU time the worker thread has used so far (0 before it started)."""
        thread = self._thread
        if thread is None or thread.ident is None:
            return 0.0
        return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))

    def submit(self, job: Job) -> None:
        self._in_flight.append(job)
        if self._running.is_set():
            sys.setswitchinterval(RUNNING_SWITCH_INTERVAL)
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="rtcr-committer",
                                            daemon=True)
            self._thread.start()
        self._queue.put(job)

    def run_here(self, job: Job) -> None:
        """Commit ``job`` in the calling thread, after everything queued before it."""
        self.drain()
        self._in_flight.append(job)
        self._store(job)

    def collect(self, wait: bool = False) -> list[Job]:
        """Finished jobs, oldest first (all of them with ``wait``); the caller accounts them."""
        if wait:
            self.release()
        done: list[Job] = []
        while self._in_flight and (wait or self._in_flight[0].done.is_set()):
            job = self._in_flight.pop(0)
            job.done.wait()
            done.append(job)
        if not self._in_flight:
            sys.setswitchinterval(self._switch_interval)
        return done

    def drain(self) -> None:
        """Wait until every submitted job is done (without collecting them)."""
        self.release()
        for job in list(self._in_flight):
            job.done.wait()

    def recover(self) -> None:
        """After a failure was accounted: new jobs build on the last commit again."""
        self._failed = False

    def close(self) -> None:
        self.release()
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            self._store(job)

    def _store(self, job: Job) -> None:
        try:
            if self._failed:
                raise EarlierFailure("an earlier checkpoint failed")
            if job.prepare is not None:
                job.prepare()
            self.give_way()
            with self.store.begin(parent=self.last_committed) as writer:
                for key, npages, fresh in job.declarations:
                    writer.declare(key, npages, fresh=fresh)
                for source in job.sources:
                    self.give_way()
                    writer.put_pages(source.key, source.indices, source.base, source.addrs)
                self.give_way()
                cid = writer.commit(job.manifest, instructions=job.instructions,
                                    dirty_pages=job.dirty_pages, pause_us=job.pause_us,
                                    strategy=job.strategy, since=job.started)
            info = self.store.info(cid)
            job.commit_us = int(info.commit_us)  # one definition: what the record says
            job.stored_bytes = info.bytes
            job.result = cid
            self.last_committed = cid
        except BaseException as error:
            self._failed = True
            job.error = error
        finally:
            if job.settle is not None:
                job.settle()
            if job.lease is not None:
                job.lease.release()
            job.done.set()
