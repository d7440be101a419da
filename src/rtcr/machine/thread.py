"""Threads: register state plus what a blocked thread is waiting for.

A thread is the unit the scheduler runs and the unit a checkpoint captures.
Its blocked state is an explicit value (`Blocker`) rather than a Python
frame, so that a checkpoint can record it and a restore can recreate it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rtcr.core import Fault, RegionMap, SignalContext, SignalReceiver

from .registers import Registers

if TYPE_CHECKING:
    from unicorn.unicorn import UcContext

    from .component import Component


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


Blocker = FaultWait | SignalWait | SleepUntil | JoinWait


class Thread:
    """One guest thread of a component.

    Implements the core's faulter interface (`wake`) and signal-waiter
    interface (`wake_signal`), so the core can resume it without knowing
    about CPUs.
    """

    def __init__(self, component: Component, tid: int, name: str, registers: Registers) -> None:
        self.component = component
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
        self.fault_address: int | None = None  # virtual address of its last fault
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
        self.component.machine.scheduler.make_runnable(self)

    # -- core interfaces ------------------------------------------------
    def wake(self) -> None:
        """An attach covered the address this thread faulted on: retry."""
        if self.component.cpu.faulting is self:
            self.component.cpu.fault_resolved = True
            return
        if isinstance(self.blocker, FaultWait):
            self.unblock()

    def wake_signal(self, context: SignalContext) -> None:
        """A signal arrived for this waiting thread: return its selector."""
        selector = self.component.pd.cap_space.selector(context)
        self.unblock(result=selector if selector is not None else 0)

    def describe(self) -> str:
        what = self.blocker.describe() if self.blocker else self.state.value
        return f"thread {self.tid} ({self.name}) of {self.component.name}: {what}"
