"""The guest ABI: decode a `syscall`, validate every argument, serve it.

Capability selectors are looked up in the *caller's* capability space
only, pointers are checked through the caller's own address space, and
every core error becomes the negative error code the component sees.
Requests that create or change core objects go through the component's
parent (`rtcr.machine.parent`), so the checkpoint runtime can interpose.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from unicorn import x86_const as x86

from rtcr.abi import ATTACH_EXECUTABLE, ATTACH_WRITEABLE, Errno, Syscall
from rtcr.core import Dataspace, RegionMap, SignalContext
from rtcr.errors import InvalidArgument, NoThread, OutOfRam, RtcrError

from . import guest_memory
from .registers import initial_registers
from .thread import JoinWait, SignalWait, Thread, ThreadState

if TYPE_CHECKING:
    from .machine import Machine

T = TypeVar("T")
# rax (the number), then the arguments in the order of the calling convention.
SYSCALL_REGISTERS = (x86.UC_X86_REG_RAX, x86.UC_X86_REG_RDI, x86.UC_X86_REG_RSI,
                     x86.UC_X86_REG_RDX, x86.UC_X86_REG_R10, x86.UC_X86_REG_R8,
                     x86.UC_X86_REG_R9)
MAX_LOG_LINE = 64 * 1024
MAX_THREADS = 64
MIN_STACK = 16 * 1024
MAX_STACK = 8 << 20
_U64 = (1 << 64) - 1


def _signed(value: int) -> int:
    return value - (1 << 64) if value >> 63 else value


class SyscallTable:
    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        self._handlers: dict[int, Callable[[Thread, list[int]], int | None]] = {
            Syscall.EXIT: self._exit,
            Syscall.LOG: self._log,
            Syscall.RAM_ALLOC: self._ram_alloc,
            Syscall.RAM_FREE: self._ram_free,
            Syscall.RAM_SEAL: self._ram_seal,
            Syscall.RM_CREATE: self._rm_create,
            Syscall.RM_DATASPACE: self._rm_dataspace,
            Syscall.ATTACH: self._attach,
            Syscall.DETACH: self._detach,
            Syscall.FAULT_HANDLER: self._fault_handler,
            Syscall.FAULT: self._fault,
            Syscall.SIGNAL_CONTEXT: self._signal_context,
            Syscall.SIGNAL_WAIT: self._signal_wait,
            Syscall.SIGNAL_SUBMIT: self._signal_submit,
            Syscall.THREAD_CREATE: self._thread_create,
            Syscall.THREAD_EXIT: self._thread_exit,
            Syscall.THREAD_JOIN: self._thread_join,
            Syscall.TIME_US: self._time_us,
            Syscall.SLEEP_US: self._sleep_us,
            Syscall.YIELD: self._yield,
            Syscall.RAM_AVAIL: lambda t, a: t.component.pd.avail_ram(),
            Syscall.CAPS_AVAIL: lambda t, a: t.component.pd.avail_caps(),
        }
        self.counts: dict[int, int] = {}

    def dispatch(self, thread: Thread) -> int | None:
        """Serve the system call `thread` just issued; the result goes to rax (None: blocked)."""
        number, *args = thread.component.cpu.registers.read_batch()
        handler = self._handlers.get(number)
        self.counts[number] = self.counts.get(number, 0) + 1
        if handler is None:
            return -Errno.ENOSYS
        try:
            return handler(thread, args)
        except RtcrError as error:
            return -error.errno

    # -- helpers ----------------------------------------------------------
    @staticmethod
    def _lookup(thread: Thread, selector: int, kind: type[T]) -> T:
        return thread.component.pd.cap_space.lookup(_signed(selector), kind)

    @staticmethod
    def _install(thread: Thread, obj: object) -> int:
        caps = thread.component.pd.cap_space
        selector = caps.selector(obj)
        return selector if selector is not None else caps.insert(obj)

    # -- process ------------------------------------------------------------
    def _exit(self, thread: Thread, args: list[int]) -> None:
        thread.component.exit(_signed(args[0]) & 0xFF)

    def _log(self, thread: Thread, args: list[int]) -> int:
        addr, length = args[0], args[1]
        if length > MAX_LOG_LINE:
            raise InvalidArgument(f"log line of {length} bytes exceeds {MAX_LOG_LINE}")
        data = guest_memory.read(thread.component.pd.address_space, addr, length)
        thread.component.log(data.decode("utf-8", errors="replace").rstrip("\n"))
        return 0

    # -- RAM ------------------------------------------------------------------
    def _ram_alloc(self, thread: Thread, args: list[int]) -> int:
        size = args[0]
        if size >= 1 << 47:
            raise InvalidArgument(f"RAM size {size:#x} is larger than the address space")
        try:
            ds = thread.component.parent.ram_alloc(thread.component, size)
        except OutOfRam as refused:
            thread.component.refused = str(refused)  # named if the run ends badly
            raise
        return self._install(thread, ds)

    def _ram_free(self, thread: Thread, args: list[int]) -> int:
        ds = self._lookup(thread, args[0], Dataspace)
        thread.component.parent.ram_free(thread.component, ds)
        return 0

    def _ram_seal(self, thread: Thread, args: list[int]) -> int:
        ds = self._lookup(thread, args[0], Dataspace)
        thread.component.parent.ram_seal(thread.component, ds, revoke=False)
        return 0

    # -- region maps --------------------------------------------------------
    def _rm_create(self, thread: Thread, args: list[int]) -> int:
        size = args[0]
        if size == 0 or size >= 1 << 47:
            raise InvalidArgument(f"bad region-map size {size:#x}")
        rm = thread.component.parent.rm_create(thread.component, size)
        return self._install(thread, rm)

    def _rm_dataspace(self, thread: Thread, args: list[int]) -> int:
        rm = self._lookup(thread, args[0], RegionMap)
        return self._install(thread, thread.component.parent.rm_dataspace(thread.component, rm))

    def _attach(self, thread: Thread, args: list[int]) -> int:
        rm_sel, ds_sel, size, offset, at, flags = args
        rm = self._lookup(thread, rm_sel, RegionMap)
        ds = self._lookup(thread, ds_sel, Dataspace)
        if flags & ~(ATTACH_WRITEABLE | ATTACH_EXECUTABLE):
            raise InvalidArgument(f"unknown attach flags {flags:#x}")
        where = None if _signed(at) == -1 else at
        rng = thread.component.parent.attach(
            thread.component, rm, ds, size=size, offset=offset, at=where,
            executable=bool(flags & ATTACH_EXECUTABLE), writeable=bool(flags & ATTACH_WRITEABLE))
        return rng.start

    def _detach(self, thread: Thread, args: list[int]) -> int:
        rm = self._lookup(thread, args[0], RegionMap)
        thread.component.parent.detach(thread.component, rm, args[1])
        return 0

    def _fault_handler(self, thread: Thread, args: list[int]) -> int:
        rm = self._lookup(thread, args[0], RegionMap)
        context = (None if _signed(args[1]) < 0
                   else self._lookup(thread, args[1], SignalContext))
        thread.component.parent.fault_handler(thread.component, rm, context)
        return 0

    def _fault(self, thread: Thread, args: list[int]) -> int:
        rm = self._lookup(thread, args[0], RegionMap)
        fault = thread.component.parent.fault(thread.component, rm)
        record = struct.pack("<qQ", int(fault.type), fault.addr)
        guest_memory.write(thread.component.pd.address_space, args[1], record)
        return 0

    # -- signals ------------------------------------------------------------
    def _signal_context(self, thread: Thread, args: list[int]) -> int:
        context = thread.component.parent.signal_context(thread.component)
        return self._install(thread, context)

    def _signal_wait(self, thread: Thread, args: list[int]) -> int | None:
        receiver = thread.component.pd.signal_receiver
        context = receiver.wait(thread)
        if context is None:
            thread.block(SignalWait())
            return None
        selector = thread.component.pd.cap_space.selector(context)
        return selector if selector is not None else 0

    def _signal_submit(self, thread: Thread, args: list[int]) -> int:
        self._lookup(thread, args[0], SignalContext).submit()
        return 0

    # -- threads --------------------------------------------------------------
    def _thread_create(self, thread: Thread, args: list[int]) -> int:
        trampoline, entry, arg, stack_size = args[0], args[1], args[2], args[3]
        component = thread.component
        if sum(1 for t in component.threads.values() if t.state is not ThreadState.EXITED) \
                >= MAX_THREADS:
            raise NoThread(f"thread limit of {MAX_THREADS} reached")
        if stack_size > MAX_STACK:
            raise InvalidArgument(f"stack size {stack_size} exceeds {MAX_STACK}")
        stack_size = max(MIN_STACK, (stack_size + 4095) & ~4095)
        start, size = component.allocate_stack(stack_size)
        registers = initial_registers(rip=trampoline, rsp=start + size - 8, rdi=entry, rsi=arg)
        new = component.create_thread(registers, stack=(start, size))
        return new.tid

    def _thread_exit(self, thread: Thread, args: list[int]) -> None:
        thread.component.thread_exit(thread)

    def _thread_join(self, thread: Thread, args: list[int]) -> int | None:
        tid = _signed(args[0])
        target = thread.component.threads.get(tid)
        if target is None or target is thread:
            raise NoThread(f"no thread {tid} to join")
        if target.state is ThreadState.EXITED:
            return 0
        thread.block(JoinWait(tid))
        return None

    # -- time -------------------------------------------------------------------
    def _time_us(self, thread: Thread, args: list[int]) -> int:
        return self.machine.scheduler.now_ns // 1000

    def _sleep_us(self, thread: Thread, args: list[int]) -> int | None:
        us = args[0]
        if us >= 1 << 40:
            raise InvalidArgument(f"sleep of {us} us is too long")
        if us == 0:
            return self._yield(thread, args)
        self.machine.scheduler.sleep(thread, self.machine.scheduler.now_ns + us * 1000)
        return None

    def _yield(self, thread: Thread, args: list[int]) -> int:
        self.machine.scheduler.preempt_requested = True
        return 0


__all__ = ["SyscallTable"]
