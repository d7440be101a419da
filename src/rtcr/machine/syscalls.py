"""The guest ABI: decode a `syscall`, validate every argument, serve it.

Capability selectors are looked up in the *caller's* capability space
only, pointers are checked through the caller's own address space, and
every core error becomes the negative error code the component sees.
Requests that create or change core objects go through the component's
parent (`rtcr.machine.parent`), so the checkpoint runtime can interpose.

Why one module of this size: one short handler per system call of the
guest ABI, all validating their arguments the same way; the table is the
ABI, and it reads best in one place.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Protocol, TypeVar

from rtcr.abi import (
    ADDRESS_SPACE_SELECTOR,
    ATTACH_EXECUTABLE,
    ATTACH_WRITEABLE,
    PD_LABEL_MAX,
    QUOTA_CAPS,
    QUOTA_RAM,
    ROM_NAME_MAX,
    SEAL_REVOKE,
    SLEEP_MAX_US,
    Errno,
    PdQuota,
    Syscall,
)
from rtcr.core import (
    Core,
    Dataspace,
    ProtectionDomain,
    RegionMap,
    RomDataspace,
    SignalContext,
    SignalReceiver,
)
from rtcr.errors import (
    Denied,
    InvalidArgument,
    InvalidCapability,
    NoThread,
    OutOfRam,
    RtcrError,
)

from . import guest_memory
from .component import Component
from .elf import ElfImage, parse_elf
from .registers import initial_registers
from .scheduler import Scheduler
from .thread import JoinWait, SignalWait, Thread, ThreadState

T = TypeVar("T")
MAX_LOG_LINE = 64 * 1024
MAX_THREADS = 64
MIN_STACK = 16 * 1024
MAX_STACK = 8 << 20
_U64 = (1 << 64) - 1


def _signed(value: int) -> int:
    return value - (1 << 64) if value >> 63 else value


class Kernel(Protocol):
    """What the system calls need of the machine (``Machine``): core, time, components.

    The table is below the machine, which implements this: it starts
    children and owns the component list the calls check PDs against.
    """

    @property
    def core(self) -> Core: ...

    @property
    def scheduler(self) -> Scheduler: ...

    @property
    def components(self) -> list[Component]: ...

    def start_child(self, creator: Component, name: str, pd: ProtectionDomain,
                    image: ElfImage, *, exit_signal: SignalContext | None = None) -> Component: ...


class SyscallTable:
    def __init__(self, machine: Kernel) -> None:
        self.machine = machine
        self._handlers: dict[int, Callable[[Component, Thread, list[int]], int | None]] = {
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
            Syscall.RAM_AVAIL: lambda c, t, a: c.pd.avail_ram(),
            Syscall.CAPS_AVAIL: lambda c, t, a: c.pd.avail_caps(),
            Syscall.THREAD_SELF: lambda c, t, a: t.tid,
            Syscall.THREAD_KILL: self._thread_kill,
            Syscall.DS_SIZE: lambda c, t, a: self._lookup(c, a[0], Dataspace).size,
            Syscall.RM_DESTROY: self._rm_destroy,
            Syscall.ROM_OPEN: self._rom_open,
            Syscall.SIGNAL_RECEIVER: self._signal_receiver,
            Syscall.SIGNAL_CONTEXT_AT: self._signal_context_at,
            Syscall.SIGNAL_WAIT_AT: self._signal_wait_at,
            Syscall.PD_CREATE: self._pd_create,
            Syscall.PD_SELF: lambda c, t, a: self._install(c, c.pd),
            Syscall.PD_REF_ACCOUNT: self._pd_ref_account,
            Syscall.PD_TRANSFER: self._pd_transfer,
            Syscall.PD_RAM_ALLOC: self._pd_ram_alloc,
            Syscall.PD_RAM_FREE: self._pd_ram_free,
            Syscall.PD_RAM_SEAL: self._pd_ram_seal,
            Syscall.PD_RAM_SIZE: self._pd_ram_size,
            Syscall.PD_QUOTA: self._pd_quota,
            Syscall.CAP_DELEGATE: self._cap_delegate,
            Syscall.SIGNAL_FREE: self._signal_free,
            Syscall.PD_ADDRESS_SPACE: self._pd_address_space,
            Syscall.CHILD_START: self._child_start,
            Syscall.PD_STACK_AREA: self._pd_stack_area,
            Syscall.CHILD_EXIT_VALUE: self._child_exit_value,
            Syscall.THREAD_CREATE_NAMED: self._thread_create_named,
            Syscall.DS_WRITEABLE: lambda c, t, a: int(self._lookup(c, a[0], Dataspace).writeable),
            Syscall.ANNOUNCE: self._announce,
            Syscall.REQUEST: self._request,
        }
        self.counts: dict[int, int] = {}

    def dispatch(self, component: Component, thread: Thread) -> int | None:
        """Serve the system call `thread` of `component` just issued; the result goes to rax.

        None: the thread blocked.
        """
        number, *args = component.cpu.registers.read_batch()
        handler = self._handlers.get(number)
        self.counts[number] = self.counts.get(number, 0) + 1
        if handler is None:
            return -Errno.ENOSYS
        try:
            return handler(component, thread, args)
        except RtcrError as error:
            return -error.errno

    # -- helpers ----------------------------------------------------------
    @staticmethod
    def _lookup(component: Component, selector: int, kind: type[T]) -> T:
        return component.pd.cap_space.lookup(_signed(selector), kind)

    @staticmethod
    def _install(component: Component, obj: object) -> int:
        return SyscallTable._install_in(component.pd, obj)

    @staticmethod
    def _install_in(pd: ProtectionDomain, obj: object) -> int:
        """The selector of `obj` in `pd`'s space: the one it has, else a new one (charged)."""
        caps = pd.cap_space
        selector = caps.selector(obj)
        return selector if selector is not None else caps.insert(obj)

    # -- process ------------------------------------------------------------
    def _exit(self, component: Component, thread: Thread, args: list[int]) -> None:
        component.exit(_signed(args[0]) & 0xFF)

    def _log(self, component: Component, thread: Thread, args: list[int]) -> int:
        addr, length = args[0], args[1]
        if length > MAX_LOG_LINE:
            raise InvalidArgument(f"log line of {length} bytes exceeds {MAX_LOG_LINE}")
        data = guest_memory.read(component.pd.address_space, addr, length)
        component.log(data.decode("utf-8", errors="replace").rstrip("\n"))
        return 0

    # -- RAM ------------------------------------------------------------------
    def _ram_alloc(self, component: Component, thread: Thread, args: list[int]) -> int:
        return self._alloc_on(component, None, args[0])

    def _ram_free(self, component: Component, thread: Thread, args: list[int]) -> int:
        ds = self._lookup(component, args[0], Dataspace)
        component.parent.ram_free(component, ds)
        return 0

    def _ram_seal(self, component: Component, thread: Thread, args: list[int]) -> int:
        return self._seal_on(component, None, args[0], args[1])

    def _alloc_on(self, component: Component, pd: ProtectionDomain | None, size: int) -> int:
        if size >= 1 << 47:
            raise InvalidArgument(f"RAM size {size:#x} is larger than the address space")
        try:
            ds = component.parent.ram_alloc(component, size, pd=pd)
        except OutOfRam as refused:
            component.refused = str(refused)  # named if the run ends badly
            raise
        return self._install(component, ds)

    def _seal_on(self, component: Component, pd: ProtectionDomain | None, selector: int,
                 flags: int) -> int:
        ds = self._lookup(component, selector, Dataspace)
        if flags & ~SEAL_REVOKE:
            raise InvalidArgument(f"unknown seal flags {flags:#x}")
        component.parent.ram_seal(component, ds, revoke=bool(flags & SEAL_REVOKE),
                                         pd=pd)
        return 0

    # -- PD sessions ----------------------------------------------------------
    def _pd_create(self, component: Component, thread: Thread, args: list[int]) -> int:
        label = self._label(component, args[0], args[1])
        pd = component.parent.pd_session(component, f"{component.name} -> {label or 'pd'}")
        return self._install(component, pd)

    @staticmethod
    def _label(component: Component, addr: int, length: int) -> str:
        """A session label or child name the guest passes: UTF-8, at most PD_LABEL_MAX bytes."""
        if length > PD_LABEL_MAX:
            raise InvalidArgument(f"label of {length} bytes (at most {PD_LABEL_MAX})")
        raw = guest_memory.read(component.pd.address_space, addr, length) if length else b""
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidArgument(f"label is not UTF-8: {error}") from error

    def _pd_ref_account(self, component: Component, thread: Thread, args: list[int]) -> int:
        pd = self._lookup(component, args[0], ProtectionDomain)
        pd.ref_account(self._lookup(component, args[1], ProtectionDomain))
        return 0

    def _pd_transfer(self, component: Component, thread: Thread, args: list[int]) -> int:
        source = self._lookup(component, args[0], ProtectionDomain)
        target = self._lookup(component, args[1], ProtectionDomain)
        amount, kind = args[2], args[3]
        if kind == QUOTA_RAM:
            source.transfer_ram(target, amount)
        elif kind == QUOTA_CAPS:
            source.transfer_caps(target, amount)
        else:
            raise InvalidArgument(f"unknown quota kind {kind} (RAM {QUOTA_RAM}, caps {QUOTA_CAPS})")
        return 0

    def _pd_ram_alloc(self, component: Component, thread: Thread, args: list[int]) -> int:
        pd = self._lookup(component, args[0], ProtectionDomain)
        return self._alloc_on(component, pd, args[1])

    def _pd_ram_free(self, component: Component, thread: Thread, args: list[int]) -> int:
        pd = self._lookup(component, args[0], ProtectionDomain)
        ds = self._lookup(component, args[1], Dataspace)
        component.parent.ram_free(component, ds, pd=pd)
        return 0

    def _pd_ram_seal(self, component: Component, thread: Thread, args: list[int]) -> int:
        return self._seal_on(component, self._lookup(component, args[0], ProtectionDomain),
                             args[1], args[2])

    def _pd_ram_size(self, component: Component, thread: Thread, args: list[int]) -> int:
        pd = self._lookup(component, args[0], ProtectionDomain)
        ds = self._lookup(component, args[1], Dataspace)
        return pd.check_owner(component.parent.ram_of(component, ds), "size").size

    def _cap_delegate(self, component: Component, thread: Thread, args: list[int]) -> int:
        """Hand a dataspace or signal context to a PD: it gets a selector of its own."""
        pd = self._lookup(component, args[0], ProtectionDomain)
        return self._install_in(pd, self._handed_on(component, args[1]))

    def _handed_on(self, component: Component, selector: int) -> Dataspace | SignalContext:
        """What a component may hand to another: a dataspace or a signal context."""
        obj = self._lookup(component, selector, object)
        if not isinstance(obj, Dataspace | SignalContext):
            raise InvalidCapability(f"selector {selector} names a {type(obj).__name__}; only "
                                    "dataspaces and signal contexts can be handed on")
        return obj

    # -- services of a scenario -------------------------------------------------
    def _announce(self, component: Component, thread: Thread, args: list[int]) -> int:
        name = self._service_name(component, args[0], args[1])
        component.parent.announce(component, name, self._handed_on(component, args[2]))
        return 0

    def _request(self, component: Component, thread: Thread, args: list[int]) -> int:
        name = self._service_name(component, args[0], args[1])
        return self._install(component, component.parent.request(component, name))

    def _service_name(self, component: Component, addr: int, length: int) -> str:
        name = self._label(component, addr, length)
        if not name:
            raise InvalidArgument("a service needs a name")
        return name

    def _pd_address_space(self, component: Component, thread: Thread, args: list[int]) -> int:
        pd = self._lookup(component, args[0], ProtectionDomain)
        if pd is component.pd:
            return ADDRESS_SPACE_SELECTOR
        return self._install(component, component.parent.pd_address_space(
            component, pd))

    def _pd_stack_area(self, component: Component, thread: Thread, args: list[int]) -> int:
        pd = self._lookup(component, args[0], ProtectionDomain)
        return self._install(component, component.parent.pd_stack_area(component, pd))

    def _child_start(self, component: Component, thread: Thread, args: list[int]) -> int:
        """Start a child from an ELF in a ROM, in a PD session the caller opened."""
        creator = component
        pd = self._lookup(component, args[0], ProtectionDomain)
        binary = self._lookup(component, args[1], RomDataspace)
        name = self._label(creator, args[2], args[3])
        if pd is creator.pd or any(c.pd is pd for c in self.machine.components):
            raise Denied(f"PD {pd.name} already runs a component")
        if not name:
            raise InvalidArgument("a child needs a name")
        exit_signal = (None if _signed(args[4]) < 0
                       else self._lookup(component, args[4], SignalContext))
        image = parse_elf(binary.read(0, binary.size), name, where=f"ROM {binary.name}")
        self.machine.start_child(creator, name, pd, image, exit_signal=exit_signal)
        return 0

    def _child_exit_value(self, component: Component, thread: Thread, args: list[int]) -> int:
        pd = self._lookup(component, args[0], ProtectionDomain)
        child = next((c for c in component.children if c.pd is pd), None)
        if child is None:
            raise NoThread(f"no child of {component.name} runs in {pd.name}")
        if child.exit_code is None:
            raise NoThread(f"{child.name} has not exited")
        return child.exit_code

    def _pd_quota(self, component: Component, thread: Thread, args: list[int]) -> int:
        pd = self._lookup(component, args[0], ProtectionDomain)
        try:
            which = PdQuota(args[1])
        except ValueError as error:
            raise InvalidArgument(f"unknown PD quota {args[1]}") from error
        return {PdQuota.RAM_LIMIT: pd.ram_quota, PdQuota.RAM_USED: pd.used_ram,
                PdQuota.CAPS_LIMIT: pd.cap_quota, PdQuota.CAPS_USED: pd.used_caps}[which]()

    # -- ROM sessions ---------------------------------------------------------
    def _rom_open(self, component: Component, thread: Thread, args: list[int]) -> int:
        addr, length = args[0], args[1]
        if length == 0 or length > ROM_NAME_MAX:
            raise InvalidArgument(f"ROM name of {length} bytes (1 to {ROM_NAME_MAX})")
        raw = guest_memory.read(component.pd.address_space, addr, length)
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidArgument(f"ROM name is not UTF-8: {error}") from error
        return self._install(component, component.parent.rom_session(component, name))

    # -- region maps --------------------------------------------------------
    def _rm_create(self, component: Component, thread: Thread, args: list[int]) -> int:
        size = args[0]
        if size == 0 or size >= 1 << 47:
            raise InvalidArgument(f"bad region-map size {size:#x}")
        rm = component.parent.rm_create(component, size)
        return self._install(component, rm)

    def _rm_destroy(self, component: Component, thread: Thread, args: list[int]) -> int:
        rm = self._lookup(component, args[0], RegionMap)
        if any(rm is pd.address_space for pd in self.machine.core.pds()):
            raise Denied("an address space ends with its PD; it cannot be destroyed")
        component.parent.rm_destroy(component, rm)
        return 0

    def _rm_dataspace(self, component: Component, thread: Thread, args: list[int]) -> int:
        rm = self._lookup(component, args[0], RegionMap)
        return self._install(component, component.parent.rm_dataspace(component, rm))

    def _attach(self, component: Component, thread: Thread, args: list[int]) -> int:
        rm_sel, ds_sel, size, offset, at, flags = args
        rm = self._lookup(component, rm_sel, RegionMap)
        ds = self._lookup(component, ds_sel, Dataspace)
        if flags & ~(ATTACH_WRITEABLE | ATTACH_EXECUTABLE):
            raise InvalidArgument(f"unknown attach flags {flags:#x}")
        where = None if _signed(at) == -1 else at
        rng = component.parent.attach(
            component, rm, ds, size=size, offset=offset, at=where,
            executable=bool(flags & ATTACH_EXECUTABLE), writeable=bool(flags & ATTACH_WRITEABLE))
        return rng.start

    def _detach(self, component: Component, thread: Thread, args: list[int]) -> int:
        rm = self._lookup(component, args[0], RegionMap)
        component.parent.detach(component, rm, args[1])
        return 0

    def _fault_handler(self, component: Component, thread: Thread, args: list[int]) -> int:
        rm = self._lookup(component, args[0], RegionMap)
        context = (None if _signed(args[1]) < 0
                   else self._lookup(component, args[1], SignalContext))
        component.parent.fault_handler(component, rm, context)
        return 0

    def _fault(self, component: Component, thread: Thread, args: list[int]) -> int:
        rm = self._lookup(component, args[0], RegionMap)
        fault = component.parent.fault(component, rm)
        record = struct.pack("<qQ", int(fault.type), fault.addr)
        guest_memory.write(component.pd.address_space, args[1], record)
        return 0

    # -- signals ------------------------------------------------------------
    def _signal_context(self, component: Component, thread: Thread, args: list[int]) -> int:
        context = component.parent.signal_context(component)
        return self._install(component, context)

    def _signal_wait(self, component: Component, thread: Thread, args: list[int]) -> int | None:
        receiver = component.pd.signal_receiver
        context = receiver.wait(thread)
        if context is None:
            thread.block(SignalWait())
            return None
        selector = component.pd.cap_space.selector(context)
        return selector if selector is not None else 0

    def _signal_receiver(self, component: Component, thread: Thread, args: list[int]) -> int:
        receiver = component.parent.signal_receiver(component)
        return self._install(component, receiver)

    def _signal_context_at(self, component: Component, thread: Thread, args: list[int]) -> int:
        receiver = self._lookup(component, args[0], SignalReceiver)
        context = component.parent.signal_context(component, receiver)
        return self._install(component, context)

    def _signal_wait_at(self, component: Component, thread: Thread, args: list[int]) -> int | None:
        receiver = self._lookup(component, args[0], SignalReceiver)
        context = receiver.wait(thread)
        if context is None:
            thread.block(SignalWait(receiver))
            return None
        selector = component.pd.cap_space.selector(context)
        return selector if selector is not None else 0

    def _signal_free(self, component: Component, thread: Thread, args: list[int]) -> int:
        context = self._lookup(component, args[0], SignalContext)
        pd = component.pd
        if context.receiver is not pd.signal_receiver and pd.cap_space.selector(
                context.receiver) is None:
            raise Denied("only the owner of a signal context (who holds its receiver) frees it")
        component.parent.signal_free(component, context)
        return 0

    def _signal_submit(self, component: Component, thread: Thread, args: list[int]) -> int:
        self._lookup(component, args[0], SignalContext).submit()
        return 0

    # -- threads --------------------------------------------------------------
    def _thread_create(self, component: Component, thread: Thread, args: list[int],
                       name: str | None = None) -> int:
        trampoline, entry, arg, stack_size = args[0], args[1], args[2], args[3]
        if sum(1 for t in component.threads.values() if t.state is not ThreadState.EXITED) \
                >= MAX_THREADS:
            raise NoThread(f"thread limit of {MAX_THREADS} reached")
        if stack_size > MAX_STACK:
            raise InvalidArgument(f"stack size {stack_size} exceeds {MAX_STACK}")
        stack_size = max(MIN_STACK, (stack_size + 4095) & ~4095)
        start, size = component.allocate_stack(stack_size)
        registers = initial_registers(rip=trampoline, rsp=start + size - 8, rdi=entry, rsi=arg)
        new = component.create_thread(registers, stack=(start, size), name=name)
        return new.tid

    def _thread_create_named(self, component: Component, thread: Thread, args: list[int]) -> int:
        """THREAD_CREATE with a name (a Genode thread's): the name is read before anything else."""
        name = self._label(component, args[4], args[5])
        if not name.isprintable():
            raise InvalidArgument(f"thread name {name!r} is not printable")
        return self._thread_create(component, thread, args, name or None)

    def _thread_exit(self, component: Component, thread: Thread, args: list[int]) -> None:
        component.thread_exit(thread)

    def _thread_kill(self, component: Component, thread: Thread, args: list[int]) -> int:
        tid = _signed(args[0])
        target = component.threads.get(tid)
        if target is None or target.state is ThreadState.EXITED:
            raise NoThread(f"no live thread {tid} to kill")
        if target is thread:
            raise InvalidArgument("a thread cannot kill itself (use THREAD_EXIT)")
        component.thread_exit(target)
        return 0

    def _thread_join(self, component: Component, thread: Thread, args: list[int]) -> int | None:
        tid = _signed(args[0])
        target = component.threads.get(tid)
        if target is None or target is thread:
            raise NoThread(f"no thread {tid} to join")
        if target.state is ThreadState.EXITED:
            return 0
        thread.block(JoinWait(tid))
        return None

    # -- time -------------------------------------------------------------------
    def _time_us(self, component: Component, thread: Thread, args: list[int]) -> int:
        return self.machine.scheduler.now_ns // 1000

    def _sleep_us(self, component: Component, thread: Thread, args: list[int]) -> int | None:
        us = args[0]
        if us > SLEEP_MAX_US:
            raise InvalidArgument(f"sleep of {us} us is longer than {SLEEP_MAX_US} us")
        if us == 0:
            return self._yield(component, thread, args)
        self.machine.scheduler.sleep(thread, self.machine.scheduler.now_ns + us * 1000)
        return None

    def _yield(self, component: Component, thread: Thread, args: list[int]) -> int:
        self.machine.scheduler.preempt_requested = True
        return 0


__all__ = ["SyscallTable"]
