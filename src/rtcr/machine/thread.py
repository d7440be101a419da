"""Threads: register state plus what a blocked thread is waiting for.

A thread is the unit the scheduler runs and the unit a checkpoint captures.
Its blocked state is an explicit value (`Blocker`) rather than a Python
frame, so that a checkpoint can record it and a restore can recreate it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from rtcr.core import (
    Fault,
    FaultTicket,
    ProtectionDomain,
    RegionMap,
    SignalContext,
    SignalReceiver,
)

from .icount import InstructionCounter
from .registers import Registers

if TYPE_CHECKING:
    from unicorn.unicorn import UcContext


class ThreadState(enum.Enum):
    RUNNABLE = "runnable"
    BLOCKED = "blocked"
    EXITED = "exited"


@dataclass(frozen=True, slots=True)
class FaultWait:
    """Blocked on a page fault reflected to `region_map` (leaf coordinates)."""

    region_map: RegionMap
    fault: Fault

    def describe(self) -> str:
        return f"{self.fault.type.name} fault at address {self.fault.addr:#x}"


@dataclass(frozen=True, slots=True)
class FaultStop:
    """Stopped for good by a fault nobody may resolve (Genode's pager stops the thread).

    `report` is the line core logged, in Genode's words.
    """

    report: str

    def describe(self) -> str:
        return f"stopped by an unresolvable fault: {self.report}"


@dataclass(frozen=True, slots=True)
class SignalWait:
    """Blocked in `rtcr_signal_wait` (the PD's receiver) or `rtcr_signal_wait_at`."""

    receiver: SignalReceiver | None = None  # None: the PD's own receiver

    def describe(self) -> str:
        return "waiting for a signal"


@dataclass(frozen=True, slots=True)
class SleepUntil:
    """Blocked in `rtcr_sleep_us` until virtual time `deadline_ns`."""

    deadline_ns: int

    def describe(self) -> str:
        return f"sleeping until virtual time {self.deadline_ns // 1000} us"


@dataclass(frozen=True, slots=True)
class JoinWait:
    """Blocked in `rtcr_thread_join` until thread `tid` exits."""

    tid: int

    def describe(self) -> str:
        return f"joining thread {self.tid}"


Blocker = FaultWait | FaultStop | SignalWait | SleepUntil | JoinWait


class RunQueue(Protocol):
    """Where a thread goes when it wakes (``Scheduler``): threads wake through it alone."""

    def make_runnable(self, thread: Thread) -> None: ...


class Processor(Protocol):
    """What the run loop needs of the CPU a thread runs on (``Cpu``)."""

    @property
    def counter(self) -> InstructionCounter: ...

    def run(self, thread: Thread, limit: int) -> None: ...


class ThreadOwner(Protocol):
    """What a thread, and the loop that runs it, knows of its component (``Component``).

    Threads are below components, which create them: this is the narrow
    way back, as Genode's threads know their PD and not the whole component.
    """

    @property
    def name(self) -> str: ...

    @property
    def pd(self) -> ProtectionDomain: ...

    @property
    def cpu(self) -> Processor: ...

    def crashed(self, thread: Thread, reason: str) -> None: ...


class Thread:
    """One guest thread of a component.

    Implements the core's faulter interface (`fault_resolved`) and
    signal-waiter interface (`wake_signal`), so the core can resume it
    without knowing about CPUs; it resumes through its scheduler.
    """

    def __init__(self, component: ThreadOwner, tid: int, name: str, registers: Registers,
                 scheduler: RunQueue) -> None:
        self.component = component
        self.scheduler = scheduler
        self.tid = tid
        self.name = name
        self.state = ThreadState.RUNNABLE
        self.blocker: Blocker | None = None
        # Exactly one of these holds the register state while not running:
        # explicit registers (fresh or restored thread) or a unicorn context.
        self.registers: Registers | None = registers
        self.context: UcContext | None = None
        # A blocking system call's result, delivered in rax on resume.
        self.pending_result: int | None = None
        self.stack: tuple[int, int] | None = None  # (start, size) of its stack region
        self.instructions = 0

    def __repr__(self) -> str:
        return f"<Thread {self.component.name}:{self.tid} {self.name} {self.state.value}>"

    def block(self, blocker: Blocker) -> None:
        self.state = ThreadState.BLOCKED
        self.blocker = blocker

    def unblock(self, result: int | None = None) -> None:
        if self.state is not ThreadState.BLOCKED:
            return
        self.state = ThreadState.RUNNABLE
        self.blocker = None
        if result is not None:
            self.pending_result = result
        self.scheduler.make_runnable(self)

    # -- core interfaces ------------------------------------------------
    def fault_resolved(self, ticket: FaultTicket) -> None:
        """An attach covered the address this thread is blocked on: retry the access.

        A ticket resolved while the thread is still inside its fill (not
        blocked yet) is read by the CPU from the ticket itself.
        """
        blocker = self.blocker
        if isinstance(blocker, FaultWait) and blocker.region_map is ticket.region_map:
            self.unblock()

    def wake_signal(self, context: SignalContext) -> None:
        """A signal arrived for this waiting thread: return its selector."""
        selector = self.component.pd.cap_space.selector(context)
        self.unblock(result=selector if selector is not None else 0)

    def describe(self) -> str:
        what = self.blocker.describe() if self.blocker else self.state.value
        return f"thread {self.tid} ({self.name}) of {self.component.name}: {what}"
