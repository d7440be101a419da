"""The emulated platform: core, components, scheduler, and the run loop.

`Machine.run` is the one place where guest time passes. It stops at
exactly reproducible points (instruction counts at block boundaries), so a
caller such as the checkpoint runtime can pause the machine, look at or
copy its state, and continue.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rtcr.core import Core, ProtectionDomain, SignalContext

from .code import CodeFrames
from .component import Component, LogSink, print_log
from .cpu import GuestCrash
from .elf import ElfImage, load_elf
from .parent import CoreParent, Parent
from .scheduler import DEFAULT_QUANTUM, Scheduler
from .syscalls import SyscallTable
from .thread import FaultStop, SignalWait, ThreadState

DEFAULT_CAP_QUOTA = 4096  # capabilities of a component nobody gave a quota


class Status(enum.Enum):
    FINISHED = "finished"  # every component has exited
    PAUSED = "paused"  # reached `pause_at` or `should_pause` said so
    LIMIT = "limit"  # reached `max_instructions`
    DEADLOCK = "deadlock"  # nothing runnable, nothing sleeping
    IDLE = "idle"  # every live thread waits for a signal that nothing is left to send


@dataclass(frozen=True)
class RunResult:
    status: Status
    instructions: int
    diagnostic: str = ""
    blocked: tuple[str, ...] = field(default_factory=tuple)


class Machine:
    def __init__(self, ram_size: int = 64 << 20, *, quantum: int = DEFAULT_QUANTUM,
                 log_sink: LogSink = print_log) -> None:
        self.core = Core(ram_size=ram_size)
        self.code = CodeFrames(self.core.ram)
        self.scheduler = Scheduler(lambda: self.instructions, quantum)
        self.syscalls = SyscallTable(self)
        self.components: list[Component] = []
        self.log_sink = log_sink
        self.retired_instructions = 0  # of CPUs whose counters were replaced

    @property
    def instructions(self) -> int:
        """Guest instructions executed so far, by every component."""
        return self.retired_instructions + sum(c.cpu.counter.instructions for c in self.components)

    def create_component(self, name: str, *, ram_quota: int, cap_quota: int = DEFAULT_CAP_QUOTA,
                         parent: Parent | None = None) -> Component:
        pd = self.core.create_pd(name, ram_quota=ram_quota, cap_quota=cap_quota)
        return self.add_component(name, pd, parent or CoreParent())

    def add_component(self, name: str, pd: ProtectionDomain, parent: Parent) -> Component:
        """A component of nobody's in `pd`, not loaded (a restore gives it its threads)."""
        component = Component(self, name, pd, parent)
        self.components.append(component)
        return component

    def start_child(self, creator: Component, name: str, pd: ProtectionDomain,
                    image: ElfImage, *, exit_signal: SignalContext | None = None) -> Component:
        """A component in PD session `pd` of `creator`, served by `creator`'s parent.

        It may open the ROMs its creator may (Genode: a route to the parent's
        ROM service) and ends when its creator ends; when it exits,
        `exit_signal` is submitted (its creator asks for the value).
        """
        child = self.adopt_child(creator, name, pd, exit_signal=exit_signal)
        creator.parent.child_started(child)
        child.load(image)
        return child

    def adopt_child(self, creator: Component, name: str, pd: ProtectionDomain, *,
                    exit_signal: SignalContext | None = None) -> Component:
        """A child of `creator` in `pd`, not loaded: a restore gives it its threads."""
        child = self.add_component(name, pd, creator.parent)
        child.exit_signal = exit_signal
        child.creator = creator
        child.roms = dict(creator.roms)
        creator.children.append(child)
        return child

    def load(self, image: ElfImage | Path | str, *, name: str | None = None,
             ram_quota: int = 16 << 20, cap_quota: int = DEFAULT_CAP_QUOTA,
             parent: Parent | None = None) -> Component:
        if not isinstance(image, ElfImage):
            image = load_elf(image)
        component = self.create_component(name or image.name, ram_quota=ram_quota,
                                          cap_quota=cap_quota, parent=parent)
        component.load(image)
        return component

    def run(self, *, pause_at: int | None = None, max_instructions: int | None = None,
            should_pause: Callable[[], bool] | None = None,
            between_slices: Callable[[], object] | None = None) -> RunResult:
        """Run until every component exits, or a stop condition holds.

        `pause_at` and `max_instructions` are machine-wide instruction counts;
        the machine stops at the first block boundary at or after them.
        `should_pause` is asked between time slices (for wall-clock triggers);
        `between_slices` runs there too (background work invisible to the guest).
        """
        scheduler = self.scheduler
        while True:
            if all(c.exited for c in self.components):
                return RunResult(Status.FINISHED, self.instructions)
            total = self.instructions
            if max_instructions is not None and total >= max_instructions:
                return RunResult(Status.LIMIT, total)
            if pause_at is not None and total >= pause_at:
                return RunResult(Status.PAUSED, total)
            if between_slices is not None:
                between_slices()
            if should_pause is not None and should_pause():
                return RunResult(Status.PAUSED, total)
            if scheduler.carried is None:
                scheduler.wake_sleepers()
            picked = scheduler.pick()
            if picked is None:
                if scheduler.idle_until_next_deadline():
                    continue
                if self._crash_stopped():
                    continue
                return self._deadlock()
            thread, budget = picked
            deadline = scheduler.next_deadline()
            if deadline is not None:
                budget = min(budget, deadline - scheduler.now_ns)
            pause_bound = min((b - total for b in (pause_at, max_instructions) if b is not None),
                              default=None)
            limit = budget if pause_bound is None else min(budget, pause_bound)
            cpu = thread.component.cpu
            scheduler.preempt_requested = False
            before = cpu.counter.instructions
            try:
                cpu.run(thread, before + max(1, limit))
            except GuestCrash as crash:
                thread.component.crashed(thread, str(crash))
            used = cpu.counter.instructions - before
            # Only the schedule ends a slice (quantum spent, yield, block, exit); a stop
            # for a pause or a TLB flush is invisible to the guest and continues it.
            if (used < budget and not scheduler.preempt_requested
                    and thread.state is ThreadState.RUNNABLE):
                scheduler.carry(thread, budget - used)
            else:
                scheduler.requeue(thread)

    def _crash_stopped(self) -> bool:
        """Nothing can run: a component with a thread stopped by a fault ends as a crash.

        Genode's pager merely stops such a thread; here, once nothing else can
        run, waiting longer cannot help, and the stopped thread is the reason.
        """
        crashed = False
        for component in self.components:
            stopped = component.stopped_threads() if not component.exited else []
            if stopped:
                blocker = stopped[0].blocker
                assert isinstance(blocker, FaultStop)
                component.crashed(stopped[0], blocker.report)
                crashed = True
        return crashed

    def _deadlock(self) -> RunResult:
        """Nothing runs or sleeps: idle if all wait for signals, else a deadlock.

        Signals come only from running threads (submit) and from their faults,
        so when every live thread waits for one, none will ever arrive: the
        component is *idle* -- a Genode component whose entrypoint waits for
        work (`sleep_forever`, `construct` returned), not a broken one.
        """
        live = [c for c in self.components if not c.exited]
        blocked_threads = [t for c in live for t in c.blocked_threads()]
        blocked = tuple(t.describe() for t in blocked_threads)
        if all(isinstance(t.blocker, SignalWait) for t in blocked_threads):
            text = "every thread waits for a signal and nothing is left to send one: " \
                + "; ".join(blocked)
            return RunResult(Status.IDLE, self.instructions, diagnostic=text, blocked=blocked)
        refusals = "".join(c.refusal() for c in live)
        text = ("every thread is blocked and nothing can wake them: " + "; ".join(blocked)
                + refusals)
        return RunResult(Status.DEADLOCK, self.instructions, diagnostic=text, blocked=blocked)
