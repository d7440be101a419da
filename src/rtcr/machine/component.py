"""A component: a protection domain, its CPU, its threads and its parent.

Loading follows Genode's ELF loading: read-only segments become ROM
dataspaces attached read-only (executable where the segment says so),
writable segments and bss become RAM, and the main thread gets a stack.
Everything is requested from the component's parent, so an interposing
parent (the checkpoint runtime) sees the whole address space being built.
"""

from __future__ import annotations

import collections
import io
import sys
from collections.abc import Callable
from typing import Protocol

from rtcr.abi import STACK_AREA_BASE
from rtcr.core import Core, ProtectionDomain, SignalContext, host_write

from .code import CodeFrames
from .cpu import Cpu
from .elf import ElfImage
from .parent import Parent
from .registers import Registers, initial_registers
from .scheduler import Scheduler
from .thread import FaultStop, FaultWait, JoinWait, SignalWait, Thread, ThreadState

MAIN_STACK_SIZE = 256 * 1024
MAIN_STACK_TOP = 0x7FFF_F000_0000

LogSink = Callable[["Component", str], None]


def print_log(component: Component, line: str) -> None:
    """The default log sink: `[name] text` on stdout, as `rtcr run` prints it.

    The line goes to stdout's binary layer as bytes, until every byte is
    written: a signal (the Ctrl-C that stops a run) that interrupts a write
    to a full pipe makes that layer's write return the bytes written so far,
    and the text layer (print) drops the rest: stdout would hold the line
    cut short, inside a character where it is not ASCII (seen with CPython
    3.11). A stdout that is no text layer over a binary one (a terminal's
    live display) takes the line as text.
    """
    text = f"[{component.name}] {line}\n"
    stdout = sys.stdout
    if not isinstance(stdout, io.TextIOWrapper):
        print(text, end="", file=stdout, flush=True)
        return
    stdout.flush()  # what was printed before this line goes first
    left = memoryview(text.encode(stdout.encoding, stdout.errors or "strict"))
    while left:
        left = left[stdout.buffer.write(left):]
    stdout.buffer.flush()


#: How many of its newest LOG lines a component's checkpoints carry.
LOG_TAIL_LINES = 20


class SystemCalls(Protocol):
    """Who serves a component's system calls (``SyscallTable``, above components)."""

    def dispatch(self, component: Component, thread: Thread) -> int | None: ...


class Host(Protocol):
    """What a component needs of the machine it runs on (``Machine``, above components)."""

    @property
    def core(self) -> Core: ...

    @property
    def code(self) -> CodeFrames: ...

    @property
    def scheduler(self) -> Scheduler: ...

    @property
    def log_sink(self) -> LogSink: ...

    @property
    def syscalls(self) -> SystemCalls: ...


class Component:
    def __init__(self, machine: Host, name: str, pd: ProtectionDomain, parent: Parent) -> None:
        self.machine = machine
        self.name = name
        self.pd = pd
        self.parent = parent
        self.cpu = Cpu(name, pd, machine.core.ram, machine.code, machine.scheduler,
                       lambda thread: machine.syscalls.dispatch(self, thread))
        self.threads: dict[int, Thread] = {}
        self.next_tid = 1
        self.exit_code: int | None = None
        self.crash: str | None = None
        # The last allocation its quota refused: a component that ignores the
        # error code usually crashes or hangs soon after, and this is why.
        self.refused: str | None = None
        self.log_lines = 0
        # The newest LOG lines, kept in checkpoints so that `rtcr show` can say what
        # the component printed last (and restored, so later checkpoints agree).
        self.log_tail: collections.deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)
        # ROM modules by name (`rtcr run --rom NAME=FILE`), opened with ROM_OPEN.
        self.roms: dict[str, bytes] = {}
        # Components it started (CHILD_START); they end when it ends.
        self.children: list[Component] = []
        self.creator: Component | None = None  # the component that started it (a child's)
        # A child's: submitted when it exits, so its parent learns of it.
        self.exit_signal: SignalContext | None = None

    def __repr__(self) -> str:
        return f"<Component {self.name}>"

    @property
    def exited(self) -> bool:
        return self.exit_code is not None

    # -- building -------------------------------------------------------------
    def load(self, image: ElfImage, stack_size: int = MAIN_STACK_SIZE) -> Thread:
        """Build the address space from `image` and create the main thread."""
        space = self.pd.address_space
        for number, segment in enumerate(image.segments):
            if segment.writeable:
                ds = self.parent.ram_alloc(self, segment.size)
                self.parent.attach(self, space, ds, size=0, offset=0, at=segment.vaddr,
                                   executable=segment.executable, writeable=True)
                if segment.data:
                    host_write(space, segment.vaddr + segment.data_offset, segment.data)
            else:
                rom = self.parent.rom(self, segment.rom_name(image.name, number),
                                      segment.content())
                self.parent.attach(self, space, rom, size=0, offset=0, at=segment.vaddr,
                                   executable=segment.executable, writeable=False)
        stack = self.allocate_stack(stack_size, at=MAIN_STACK_TOP - stack_size)
        registers = initial_registers(rip=image.entry, rsp=stack[0] + stack[1])
        return self.create_thread(registers, stack=stack, name="main")

    def allocate_stack(self, size: int, at: int | None = None) -> tuple[int, int]:
        """A stack: in the PD's stack area if it has one (anywhere there), else at `at`."""
        ds = self.parent.ram_alloc(self, size)
        area = self.pd.stack_area
        if area is not None:
            rng = self.parent.attach(self, area, ds, size=0, offset=0, at=None,
                                     executable=False, writeable=True)
            return STACK_AREA_BASE + rng.start, rng.size
        rng = self.parent.attach(self, self.pd.address_space, ds, size=0, offset=0, at=at,
                                 executable=False, writeable=True)
        return rng.start, rng.size

    def create_thread(self, registers: Registers, *, stack: tuple[int, int] | None,
                      name: str | None = None, tid: int | None = None) -> Thread:
        if tid is None:
            tid = self.next_tid
        self.next_tid = max(self.next_tid, tid + 1)
        thread = Thread(self, tid, name or f"thread{tid}", registers, self.machine.scheduler)
        thread.stack = stack
        self.threads[tid] = thread
        self.machine.scheduler.make_runnable(thread)
        return thread

    # -- running --------------------------------------------------------------
    def log(self, line: str) -> None:
        self.log_lines += 1
        self.log_tail.append(line)
        self.machine.log_sink(self, line)

    def thread_exit(self, thread: Thread) -> None:
        self._retire(thread)
        if thread.tid != 1:
            self._free_stack(thread)
        for other in self.threads.values():
            if isinstance(other.blocker, JoinWait) and other.blocker.tid == thread.tid:
                other.unblock(result=0)
        if all(t.state is ThreadState.EXITED for t in self.threads.values()):
            self._exited(0)

    def _free_stack(self, thread: Thread) -> None:
        """Give an exited thread's stack back, so creating and joining threads never runs dry."""
        if thread.stack is None:
            return
        space, at = self.pd.address_space, thread.stack[0]
        if self.pd.stack_area is not None:
            space, at = self.pd.stack_area, at - STACK_AREA_BASE
        region = space.region_at(at)
        if region is None:
            return
        self.parent.detach(self, space, region.start)
        self.parent.ram_free(self, region.dataspace)
        thread.stack = None

    def exit(self, code: int) -> None:
        """End the whole component, whatever its threads are doing."""
        self._exited(code)
        for thread in self.threads.values():
            self._retire(thread)
        self.cpu.request_stop()
        for child in self.children:
            child.exit(code)

    def _exited(self, code: int) -> None:
        """Take `code` as the exit value (the first one counts) and tell the parent once."""
        if self.exit_code is not None:
            return
        self.exit_code = code
        if self.exit_signal is not None:
            self.exit_signal.submit()

    def crashed(self, thread: Thread, reason: str) -> None:
        self.crash = f"thread {thread.tid} ({thread.name}) crashed: {reason}{self.refusal()}"
        self.exit(139)

    def refusal(self) -> str:
        """``; before that: <the last allocation refused>``, or nothing."""
        return f"; before that: {self.refused}" if self.refused else ""

    def _retire(self, thread: Thread) -> None:
        blocker = thread.blocker
        if isinstance(blocker, FaultWait):
            blocker.region_map.cancel_fault(thread)
        elif isinstance(blocker, SignalWait):
            (blocker.receiver or self.pd.signal_receiver).cancel_wait(thread)
        thread.state = ThreadState.EXITED
        thread.blocker = None
        thread.context = None
        thread.registers = None
        self.cpu.forget(thread)

    def blocked_threads(self) -> list[Thread]:
        return [t for t in self.threads.values() if t.state is ThreadState.BLOCKED]

    def stopped_threads(self) -> list[Thread]:
        """Threads a fault nobody may resolve stopped for good."""
        return [t for t in self.threads.values() if isinstance(t.blocker, FaultStop)]
