"""A target under the runtime: start or restore it, run it, checkpoint it.

This is what `rtcr run` and `rtcr restore` drive, and what tests and
benchmarks use through the Python API.

Why one module of this size: the ways a session comes to be (start, a
scenario's start_all, resume from a store, pull over a migration) each end
in the same object, and `run` is the one loop that interleaves time slices,
checkpoints, lazy loading, retention and signals over it; split apart they
would hand the checkpointer, loader and counters back and forth.
"""

from __future__ import annotations

import contextlib
import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rtcr.errors import InvalidArgument, StoreError
from rtcr.machine import Component, ElfImage, Machine, RunResult, Status
from rtcr.machine.component import LogSink, print_log
from rtcr.machine.machine import DEFAULT_CAP_QUOTA
from rtcr.store import Retained, Retention, Store

from .checkpointer import Checkpointer, CheckpointStats, fault_totals
from .concurrent import ConcurrentCheckpointer, Policy
from .inputs import Inputs
from .lazy import PREFETCH_PAGES, LazyLoader, LazyLoadFailed, LazyStats, PageSource, StoredPages
from .provenance import (
    Binary,
    current,
    read_binary,
    rebuilt_segments,
    recorded,
)
from .provenance import mismatch as provenance_mismatch
from .restorer import restore
from .runtime import RomRecord, Runtime
from .services import Services
from .staging import DEFAULT_BUDGET, StagingArea
from .tracking import Strategy

EXIT_IDLE = 123  # every thread waits for a signal nothing is left to send
EXIT_LIMIT = 124  # stopped by --max-instructions (or by the caller's stop condition)
EXIT_DEADLOCK = 125  # every thread blocked for good
EXIT_CRASH = 139  # a thread executed something unrecoverable
EXIT_STORE = 74  # writing a checkpoint failed (disk full, I/O error): sysexits' EX_IOERR
EXIT_PAGE_CORRUPT = 65  # a lazy restore read a page that failed verification: EX_DATAERR

# Physical RAM beyond the target's quota: ROM segments and slack.
_RAM_HEADROOM = 8 << 20


@dataclass(frozen=True)
class Launch:
    """A component to start: its name, program, quotas and the ROM modules it may open."""

    name: str
    image: ElfImage
    ram: int
    caps: int
    roms: dict[str, bytes] = field(default_factory=dict)


class Outcome(enum.Enum):
    EXITED = "exited"
    LIMIT = "limit"
    DEADLOCK = "deadlock"
    CRASHED = "crashed"
    IDLE = "idle"
    STOPPED = "stopped"  # the caller's `stop_when` said so
    STORE_FAILED = "store-failed"  # a checkpoint could not be written, and the run stopped
    INTERRUPTED = "interrupted"  # SIGINT/SIGTERM (set by the command line, see cli._running)
    PAGE_CORRUPT = "page-corrupt"  # a lazy restore could not load a page: the run stopped


@dataclass
class SessionResult:
    outcome: Outcome
    exit_code: int
    instructions: int
    diagnostic: str
    faults: dict[str, int]
    checkpoints: list[CheckpointStats] = field(default_factory=list)
    wall_seconds: float = 0.0
    # The newest committed checkpoint of the chain the run continued (None: none yet).
    newest: int | None = None
    lazy: LazyStats | None = None  # None: not a lazy restore

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {
            "outcome": self.outcome.value,
            "exit_code": self.exit_code,
            "instructions": self.instructions,
            "faults": self.faults,
            "checkpoints": [c.as_json() for c in self.checkpoints],
            "diagnostic": self.diagnostic,
            "wall_seconds": round(self.wall_seconds, 6),
            "newest_checkpoint": self.newest,
        }
        if self.lazy is not None:
            out["lazy"] = self.lazy.as_json()
        return out


def _checkpointer(machine: Machine, component: Component, runtime: Runtime,
                  store: Store | None, concurrent: Policy | None, *, parent: int | None = None,
                  stored_objects: set[int] | None = None,
                  staging_budget: int | None = None) -> Checkpointer | None:
    if store is None:
        return None
    staging = StagingArea(DEFAULT_BUDGET if staging_budget is None else staging_budget)
    if concurrent is not None:
        return ConcurrentCheckpointer(machine, component, runtime, store, parent=parent,
                                      stored_objects=stored_objects, policy=concurrent,
                                      staging=staging)
    return Checkpointer(machine, component, runtime, store, parent=parent,
                        stored_objects=stored_objects, staging=staging)


def _shut_down(checkpointer: Checkpointer) -> None:
    """After a store failure: stop the commit worker; the jobs behind the failed one fail."""
    with contextlib.suppress(StoreError):
        checkpointer.close()


class Session:
    def __init__(self, machine: Machine, component: Component, runtime: Runtime,
                 checkpointer: Checkpointer | None, *, restored_log_lines: int = 0,
                 lazy: LazyLoader | None = None, prefetch_pages: int = PREFETCH_PAGES,
                 forced: str | None = None, store: Store | None = None) -> None:
        # What differed from the checkpoint's provenance when a restore was forced.
        self.forced = forced
        self.store = store  # where the checkpoints go (None: nowhere, or a migration's wire)
        # LOG lines the component had printed before the checkpoint it was restored from.
        self.restored_log_lines = restored_log_lines
        self.machine = machine
        self.component = component
        self.runtime = runtime
        self.checkpointer = checkpointer
        self.lazy = lazy  # the RAM a lazy restore has still to load
        self.prefetch_pages = prefetch_pages  # loaded between two time slices (0: none)

    @classmethod
    def start(cls, elf: ElfImage | Path | str, *, ram_quota: int = 16 << 20,
              strategy: Strategy = Strategy.RO_ATTACH, granularity: int = 1,
              store: Store | None = None, log_sink: LogSink = print_log,
              quantum: int | None = None, concurrent: Policy | None = None,
              roms: dict[str, bytes] | None = None, cap_quota: int | None = None,
              staging_budget: int | None = None, binary: Binary | None = None,
              inputs: Inputs | None = None) -> Session:
        """Load an ELF under the runtime; `concurrent` selects copy-on-write checkpoints.

        `roms` are the ROM modules the component may open by name (a
        checkpoint keeps the ones it opened, so a restore needs none).
        `staging_budget` bounds the memory of checkpoints in flight (bytes).
        Checkpoints record the ELF file's identity as their provenance:
        read from `elf` when it is a path, else `binary` (None: none).
        `inputs` (arguments, environment, stdin) become ROM modules too
        (see `inputs`), kept by every checkpoint.
        """
        if isinstance(elf, ElfImage):
            image = elf
        else:
            binary, image = read_binary(elf)
        given = (inputs or Inputs()).roms(image.name)
        clash = sorted(set(given) & set(roms or {}))
        if clash:
            raise InvalidArgument(f"ROM {clash[0]!r} holds the component's inputs: give "
                                  "your ROM another name")
        launch = Launch(image.name, image, ram_quota,
                        DEFAULT_CAP_QUOTA if cap_quota is None else cap_quota,
                        {**(roms or {}), **given})
        return cls.start_all([launch], strategy=strategy, granularity=granularity,
                             store=store, log_sink=log_sink, quantum=quantum,
                             concurrent=concurrent, staging_budget=staging_budget,
                             binary=binary)

    @classmethod
    def start_all(cls, launches: list[Launch], *, services: Services | None = None,
                  strategy: Strategy = Strategy.RO_ATTACH, granularity: int = 1,
                  store: Store | None = None, log_sink: LogSink = print_log,
                  quantum: int | None = None, concurrent: Policy | None = None,
                  staging_budget: int | None = None, binary: Binary | None = None) -> Session:
        """Start several components side by side, the runtime the parent of each.

        The first is the target (the image's `component`); the others are
        adopted (`Runtime.adopt_component`), as a scenario's init starts its
        start nodes; `services` routes what they announce to each other.
        `binary` is the provenance checkpoints record (None: none).
        """
        machine = Machine(sum(launch.ram for launch in launches) + _RAM_HEADROOM,
                          log_sink=log_sink, **({"quantum": quantum} if quantum else {}))
        runtime = Runtime(strategy, granularity, banked=concurrent is not None)
        runtime.provenance = current(binary).as_json()
        runtime.services = None if services is None else services.unannounced()
        components = []
        for number, launch in enumerate(launches):
            component = machine.create_component(launch.name, ram_quota=launch.ram,
                                                 cap_quota=launch.caps, parent=runtime)
            component.roms = dict(launch.roms)
            if number == 0:
                runtime.adopt_address_space(component)
            else:
                runtime.adopt_component(component)
            component.load(launch.image)
            runtime.provide_roms(component)
            components.append(component)
        return cls(machine, components[0], runtime,
                   _checkpointer(machine, components[0], runtime, store, concurrent,
                                 staging_budget=staging_budget), store=store)

    @classmethod
    def resume(cls, store: Store, checkpoint_id: int | None = None, *,
               strategy: Strategy | None = None, granularity: int | None = None,
               log_sink: LogSink = print_log, checkpoint: bool = True,
               concurrent: Policy | None = None, staging_budget: int | None = None,
               lazy: bool = False, prefetch_pages: int = PREFETCH_PAGES,
               binary: Path | None = None, force: bool = False,
               ram_quota: int | None = None) -> Session:
        """Restore a checkpoint (default: the newest) into a fresh machine.

        `ram_quota` replaces the component's RAM quota (see `restore`).

        `lazy` starts the target before its RAM is back: pages are loaded on
        their first access and `prefetch_pages` more are loaded between two
        time slices (0: only on access; see `lazy`); the store must stay
        open until the run ends.

        A checkpoint whose provenance does not match this rtcr and host
        (`provenance.mismatch`) raises `provenance.IncompatibleCheckpoint`, unless
        `force` (then `forced` says what differed). `binary` restores onto
        a rebuilt ELF: its layout must be the checkpointed one
        (`provenance.layout_difference`, else `IncompatibleCheckpoint`);
        its read-only segments replace the checkpointed ones, and new
        checkpoints store them and record it.
        """
        started = time.perf_counter()
        cid = checkpoint_id if checkpoint_id is not None else store.newest()
        if cid is None:
            raise StoreError(f"{store.path} holds no checkpoint to restore")
        loaded = store.load(cid)
        provenance = recorded(loaded.manifest)
        difference = provenance_mismatch(provenance, cid, check_binary=binary is None)
        if difference is not None and not force:
            raise difference.refusal()
        onto, segments = (None, {}) if binary is None else rebuilt_segments(
            provenance, cid, binary, loaded.manifest["component"]["name"])
        restored = restore(StoredPages(loaded), cid, strategy=strategy, granularity=granularity,
                           log_sink=log_sink, banked=concurrent is not None, lazy=lazy,
                           segments=segments, ram_quota=ram_quota)
        restored.runtime.provenance = current(
            onto if binary is not None else provenance.binary if provenance else None).as_json()
        # Replaced segments are new to the chain: the next checkpoint stores them whole.
        stored = {oid for oid in restored.objects
                  if not isinstance(record := restored.runtime.objects[oid], RomRecord)
                  or record.label is not None or record.name not in segments}
        if restored.lazy is not None:
            restored.lazy.started = started
        checkpointer = (_checkpointer(restored.machine, restored.component, restored.runtime,
                                      store, concurrent, parent=cid,
                                      stored_objects=stored,
                                      staging_budget=staging_budget)
                        if checkpoint else None)
        return cls(restored.machine, restored.component, restored.runtime, checkpointer,
                   restored_log_lines=restored.log_lines, lazy=restored.lazy,
                   prefetch_pages=prefetch_pages,
                   forced=None if difference is None else difference.what,
                   store=store if checkpoint else None)

    @classmethod
    def pull(cls, image: PageSource, checkpoint_id: int, *, log_sink: LogSink = print_log,
             prefetch_pages: int = PREFETCH_PAGES) -> Session:
        """Restore an image that is not in a store lazily, taking no checkpoints.

        This is the receiving end of a post-copy migration: ``image``'s pages
        arrive over the connection while the target runs (`rtcr.migrate`).
        Its provenance is checked as `resume` checks it (never forced).
        """
        started = time.perf_counter()
        difference = provenance_mismatch(recorded(image.manifest), checkpoint_id)
        if difference is not None:
            raise difference.refusal()
        restored = restore(image, checkpoint_id, strategy=Strategy.RO_ATTACH,
                           log_sink=log_sink, lazy=True)
        assert restored.lazy is not None
        restored.lazy.started = started
        return cls(restored.machine, restored.component, restored.runtime, None,
                   restored_log_lines=restored.log_lines, lazy=restored.lazy,
                   prefetch_pages=prefetch_pages)

    def checkpoint(self) -> CheckpointStats:
        """Take a checkpoint now and wait for its commit (the API wants its id)."""
        if self.checkpointer is None:
            raise RuntimeError("this session has no store to checkpoint into")
        if self.lazy is not None:
            self.lazy.load_dirty()
        stats = self.checkpointer.checkpoint()
        if stats is None:
            raise RuntimeError("the checkpoint was skipped (concurrent policy skip)")
        return stats

    def run(self, *, every: int | None = None, every_ms: float | None = None,
            max_instructions: int | None = None,
            on_checkpoint: Callable[[CheckpointStats], None] | None = None,
            on_progress: Callable[[], None] | None = None,
            stop_when: Callable[[], bool] | None = None,
            on_store_error: Callable[[StoreError], bool] | None = None,
            checkpoint_now: Callable[[], bool] | None = None,
            final_checkpoint: bool = False, retention: Retention | None = None,
            on_retained: Callable[[Retained | StoreError], None] | None = None
            ) -> SessionResult:
        """Run to the end, checkpointing every `every` instructions or `every_ms` ms.

        `on_progress` is called between time slices (keep it cheap);
        `stop_when` too, and when it says True the run ends (`Outcome.STOPPED`)
        once the checkpoints taken so far are committed. `checkpoint_now`
        is asked there as well: True takes a checkpoint at once (on demand).
        `final_checkpoint` takes one more where the run stopped, when
        `max_instructions` or `stop_when` ended it (not when the component
        ended itself: there is nothing left to continue).

        A wall-clock checkpoint is due only when the target ran since the
        previous one: however short `every_ms`, at least one time slice runs
        between two checkpoints, so the run always progresses.

        `retention` is a rolling window over the store (`Store.retain`),
        applied after checkpoints committed, whenever no other one is on its
        way to the store (and not before a lazy restore has loaded
        everything: it reads the checkpoint it restored), and at the end;
        `on_retained` hears what each application did, or the `StoreError`
        that stopped it (the run goes on: a store too full to gc still takes
        checkpoints).

        When a checkpoint cannot be written (`StoreError`: a full disk, an I/O
        error), `on_store_error` decides: True keeps the target running
        without checkpoints, False (or no callback) ends the run with
        `Outcome.STORE_FAILED`. Either way nothing committed is lost.
        """
        machine = self.machine
        started = time.perf_counter()
        if max_instructions is not None:
            max_instructions += machine.instructions  # counted from here, also after a restore
        next_at = machine.instructions + every if every else None
        interval = every_ms / 1000 if every_ms else None
        wall_deadline = time.monotonic() + interval if interval else None
        checkpointed_at = machine.instructions

        def wall_clock_due() -> bool:
            return (wall_deadline is not None and machine.instructions > checkpointed_at
                    and time.monotonic() >= wall_deadline)

        def pause_due() -> bool:
            return ((stop_when is not None and stop_when()) or wall_clock_due()
                    or (checkpoint_now is not None and checkpoint_now()))

        checkpointer = self.checkpointer
        lazy = self.lazy if self.lazy is not None and not self.lazy.done else None
        failure: StoreError | None = None
        unloadable: LazyLoadFailed | None = None

        retained_at = len(checkpointer.history) if checkpointer is not None else 0

        def report(done: list[CheckpointStats]) -> None:
            for stats in done:
                if on_checkpoint is not None:
                    on_checkpoint(stats)

        def retain() -> None:
            nonlocal retained_at
            if (retention is None or checkpointer is None or self.store is None
                    or len(checkpointer.history) == retained_at
                    or checkpointer.committer.in_flight
                    or (self.lazy is not None and not self.lazy.done)):
                return
            retained_at = len(checkpointer.history)
            try:
                retained: Retained | StoreError = self.store.retain(retention)
            except StoreError as error:
                retained = error
            if on_retained is not None:
                on_retained(retained)

        def background() -> None:
            if checkpointer is not None:
                report(checkpointer.background())
                retain()
            if lazy is not None:
                lazy.prefetch(self.prefetch_pages)
            if on_progress is not None:
                on_progress()

        if self.lazy is not None:
            self.lazy.started_running()

        while True:
            try:
                result = machine.run(pause_at=next_at if checkpointer else None,
                                     max_instructions=max_instructions,
                                     should_pause=pause_due
                                     if interval or stop_when or checkpoint_now else None,
                                     between_slices=background
                                     if checkpointer or on_progress or lazy else None)
                if result.status is not Status.PAUSED or (stop_when is not None and stop_when()):
                    break
                if checkpointer is not None:
                    if lazy is not None:
                        lazy.load_dirty()
                    checkpointer.take()
            except LazyLoadFailed as error:  # never run on with a page that is not the image's
                unloadable = error
                result = RunResult(Status.PAUSED, machine.instructions)
                break
            except StoreError as error:
                assert checkpointer is not None  # only checkpointing writes to the store
                _shut_down(checkpointer)
                checkpointer = None
                if on_store_error is None or not on_store_error(error):
                    failure = error
                    result = RunResult(Status.PAUSED, machine.instructions)
                    break
            checkpointed_at = machine.instructions
            if next_at is not None and every:
                while next_at <= machine.instructions:
                    next_at += every
            if interval:
                wall_deadline = time.monotonic() + interval
        if checkpointer is not None:  # the run ends when its last checkpoint is durable
            try:
                if (final_checkpoint and unloadable is None
                        and result.status in (Status.PAUSED, Status.LIMIT)):
                    try:
                        if lazy is not None:
                            lazy.load_dirty()
                    except LazyLoadFailed as error:  # as in the loop: no checkpoint of it
                        unloadable = error
                    else:
                        checkpointer.take()
                report(checkpointer.close())
                retain()
            except StoreError as error:
                _shut_down(checkpointer)
                if on_store_error is None or not on_store_error(error):
                    failure = error
        outcome = self._result(result, time.perf_counter() - started)
        if failure is not None:
            outcome.outcome, outcome.exit_code = Outcome.STORE_FAILED, EXIT_STORE
            outcome.diagnostic = str(failure)
        if unloadable is not None:
            outcome.outcome, outcome.exit_code = Outcome.PAGE_CORRUPT, EXIT_PAGE_CORRUPT
            outcome.diagnostic = str(unloadable)
        return outcome

    @property
    def newest(self) -> int | None:
        """The newest committed checkpoint of this session's chain (None: none)."""
        return self.checkpointer.parent if self.checkpointer is not None else None

    def _result(self, result: RunResult, wall: float) -> SessionResult:
        outcome = self._outcome(result, wall)
        outcome.newest = self.newest
        if self.lazy is not None:
            outcome.lazy = self.lazy.stats()
        return outcome

    def _outcome(self, result: RunResult, wall: float) -> SessionResult:
        history = self.checkpointer.history if self.checkpointer else []
        faults = fault_totals(self.machine)
        if result.status is Status.FINISHED:
            # The components the runtime started (one, or a scenario's): the first crash,
            # else the first non-zero exit value, in start order, is the run's.
            roots = [c for c in self.machine.components if c.creator is None]
            crashed = next((c.crash for c in roots if c.crash), None)
            if crashed is not None:
                return SessionResult(Outcome.CRASHED, EXIT_CRASH, result.instructions,
                                     crashed, faults, history, wall)
            code = next((c.exit_code for c in roots if c.exit_code), 0)
            return SessionResult(Outcome.EXITED, code or 0, result.instructions,
                                 "", faults, history, wall)
        if result.status is Status.PAUSED:
            return SessionResult(Outcome.STOPPED, EXIT_LIMIT, result.instructions,
                                 "stopped by its caller", faults, history, wall)
        if result.status is Status.IDLE:
            return SessionResult(Outcome.IDLE, EXIT_IDLE, result.instructions,
                                 result.diagnostic, faults, history, wall)
        if result.status is Status.LIMIT:
            return SessionResult(Outcome.LIMIT, EXIT_LIMIT, result.instructions,
                                 f"stopped after {result.instructions:,} instructions "
                                 "(--max-instructions)", faults, history, wall)
        return SessionResult(Outcome.DEADLOCK, EXIT_DEADLOCK, result.instructions,
                             result.diagnostic, faults, history, wall)

    def memory_digest(self) -> str:
        """A hash of every live RAM object's contents, by object id (for equivalence tests)."""
        import hashlib

        if self.lazy is not None:  # the host reads every frame: all of it must be back
            self.lazy.finish()
        digest = hashlib.blake2b(digest_size=16)
        for record in self.runtime.ram_records():
            ram = record.tracked.ram
            if ram is None:
                continue
            digest.update(record.oid.to_bytes(8, "little"))
            digest.update(ram.read(0, ram.size))
        return digest.hexdigest()
