"""One emulated x86-64 CPU per protection domain.

Physical RAM (the core's buffer) is mapped into unicorn once; the CPU runs
in virtual-TLB mode, so every TLB miss asks the core's pager for the frame
and the rights. A fill the pager cannot satisfy becomes a reflected fault:
the faulting thread blocks at the faulting instruction and re-executes it
once an attach resolves its ticket. A fault nobody may resolve stops the
thread, logged as Genode's core logs it. Threads of the PD share this CPU
(and its TLB, as they share the address space); their register state is
switched in and out.

Why one module of this size: the fill hook, the fault path, the code
coherence hooks and the register state are the unicorn instance's callbacks
and share its state; they are the CPU.
"""

from __future__ import annotations

import ctypes
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from unicorn import (
    UC_ARCH_X86,
    UC_HOOK_INSN,
    UC_HOOK_INTR,
    UC_MODE_64,
    UC_PROT_EXEC,
    UC_PROT_READ,
    UC_PROT_WRITE,
    Uc,
    UcError,
)
from unicorn import unicorn_const as ucc
from unicorn import x86_const as x86
from unicorn.unicorn_py3 import unicorn as _ucmod
from unicorn.unicorn_py3.arch import types as _uc_types

from rtcr.core import (
    PAGE_MASK,
    PAGE_SIZE,
    RESOLVED,
    RWX_EXEC,
    RWX_READ,
    RWX_WRITE,
    Access,
    FaultTicket,
    Mapping,
    PhysicalRam,
    ProtectionDomain,
    Unhandled,
    WalkFailure,
    reflect,
    resolve,
    resume,
    translate,
    trunc_page,
)

from . import fault_report
from .code import CodeFrames
from .icount import InstructionCounter, StopReason
from .registers import (
    SYSCALL_REGISTERS,
    FastRegisters,
    Registers,
    read_registers,
    write_registers,
)
from .scheduler import Scheduler
from .thread import FaultStop, FaultWait, Thread, ThreadState
from .tlb import SoftwareTlb

_ACCESS = {
    ucc.UC_MEM_READ: Access.READ,
    ucc.UC_MEM_WRITE: Access.WRITE,
    ucc.UC_MEM_FETCH: Access.EXEC,
}
_uclib: Any = _ucmod.uclib
CPU_MODEL_NAME = "sandybridge"  # as checkpoints record it (their provenance)
CPU_MODEL = getattr(x86, f"UC_CPU_X86_{CPU_MODEL_NAME.upper()}")
"""The CPU every component sees: Sandy Bridge as unicorn emulates it.

unicorn's default (Haswell) offers RDRAND, which hands the guest the host's
randomness: a run could never be repeated or restored. Sandy Bridge lacks
RDRAND and RDSEED (both are invalid instructions here) and, like every model
in unicorn, AVX: CPUID says so, and an AVX instruction is an invalid opcode.
"""
_UC_TLB_VIRTUAL = 1
if (RWX_READ, RWX_WRITE, RWX_EXEC) != (UC_PROT_READ, UC_PROT_WRITE, UC_PROT_EXEC):
    raise ImportError("the core's rights bits must be unicorn's protection bits: a PTE's "
                      "rights enter the TLB as they are")
log = logging.getLogger("rtcr.core")  # reports as Genode's core makes them
_UPGRADE_CHECK_PAGES = 16  # larger flushes always flush unicorn's TLB
_REMAPPED_LIMIT = 64  # flushed ranges remembered one by one for the code-page check
# A synchronous fault handler that keeps re-faulting is a bug in the handler;
# bound the retries so a misbehaving runtime cannot hang the machine.
_MAX_SYNCHRONOUS_RETRIES = 16
# Where a frame is named to unicorn's code invalidation (which takes a virtual
# address): non-canonical, so no guest mapping is ever there.
_CODE_PROBE = 0x8000_0000_0000_0000
_INTERRUPT_NAMES = {0: "divide error", 1: "debug trap", 3: "breakpoint (int3)", 4: "overflow",
                    5: "bound range", 6: "invalid opcode", 13: "general protection fault",
                    14: "page fault", 16: "x87 floating-point error", 17: "alignment check",
                    19: "SIMD floating-point exception"}


class GuestCrash(Exception):
    """The running thread did something no handler can resolve (invalid instruction...)."""


class FillObserver(Protocol):
    """Told of every TLB fill that reached Python (benchmarks measure the fault path so).

    `faults` is how many failed translations the fill reflected before it
    ended (0: a plain refill); `ns` is the whole fill, reflection included.
    """

    def filled(self, vaddr: int, access: Access, faults: int, ns: int) -> None: ...


_observers: list[FillObserver] = []


@contextmanager
def observing_fills(observer: FillObserver) -> Iterator[None]:
    """Every CPU created inside the block reports its fills to `observer`."""
    _observers.append(observer)
    try:
        yield
    finally:
        _observers.remove(observer)


SyscallServer = Callable[[Thread], int | None]
"""Serves the system call a thread just issued: the value for rax, None if it blocked."""


class Cpu:
    """One component's CPU: unicorn, its TLBs and the hooks that fill and stop them.

    It gets the objects it works with, not the component: the PD whose
    address space it translates (``name`` is the component's, for the
    log), the machine's RAM, code frames and scheduler, and ``syscall``,
    who serves the system calls.
    """

    def __init__(self, name: str, pd: ProtectionDomain, ram: PhysicalRam, code: CodeFrames,
                 scheduler: Scheduler, syscall: SyscallServer) -> None:
        self.name = name
        self._code = code
        self._scheduler = scheduler
        self._serve_syscall = syscall
        self.uc = uc = Uc(UC_ARCH_X86, UC_MODE_64)
        uc.ctl_set_cpu_model(CPU_MODEL)
        buffer = ram.buffer
        self._ram_pointer = ctypes.addressof(ctypes.c_char.from_buffer(buffer))
        uc.mem_map_ptr(0, ram.size, UC_PROT_READ | UC_PROT_WRITE | UC_PROT_EXEC,
                       self._ram_pointer)
        uc.ctl_set_tlb_mode(_UC_TLB_VIRTUAL)
        self.tlb = SoftwareTlb(uc, self._tlb_fill_guarded)
        code.attach(self)
        uc.hook_add(UC_HOOK_INSN, self._syscall, None, 1, 0, x86.UC_X86_INS_SYSCALL)
        uc.hook_add(UC_HOOK_INTR, self._interrupt)
        self._clock_hooks = [
            _hook_instruction(uc, x86.UC_X86_INS_RDTSC, lambda _uc, _user: self._read_clock(False)),
            _hook_instruction(uc, x86.UC_X86_INS_RDTSCP, lambda _uc, _user: self._read_clock(True))]
        # Virtual page -> frame of every page holding a counted block: the counter
        # knows blocks by virtual address, so a page mapped to other code must
        # forget its blocks (same address and size, other instructions).
        self._code_pages: dict[int, int] = {}
        self._remapped: list[tuple[int, int]] = []  # flushed since the last check
        self.counter = InstructionCounter(uc, learned=self._learned)
        self.registers = FastRegisters(uc, SYSCALL_REGISTERS)
        self.address_space = pd.address_space
        self.address_space.bind_address_space(self)
        self._ram = buffer
        self.observer: FillObserver | None = _observers[-1] if _observers else None
        self._reflected = 0  # failed translations reflected by the fill in progress
        self.flush_pending = False
        # Pages flushed since unicorn's TLB was last flushed, with what the
        # software TLB held for them (None: too many to check, flush for sure).
        self._flushed: list[tuple[int, tuple[int, int] | None]] | None = []
        self.loaded: Thread | None = None  # whose registers are in the CPU now
        self.current: Thread | None = None  # running right now (inside emu_start)
        self._fault_stop: tuple[int, Access] | None = None
        self._crash: str | None = None
        self._hook_error: BaseException | None = None

    # -- flushing (core's only call into the machine: Address_space::flush) ---
    def flush(self, start: int, size: int) -> None:
        """Mappings of `[start, start+size)` died: neither TLB may serve them again."""
        # Remember what may be cached for a small range: if the change turns
        # out to be an upgrade, unicorn's TLB need not be flushed (_flush_if_pending).
        # The cache forgets the range at once: the next fill must not see it.
        self._remapped.append((start, size))
        if len(self._remapped) > _REMAPPED_LIMIT:
            self._remapped = [(0, 1 << 64)]  # check every code page
        if size <= _UPGRADE_CHECK_PAGES * PAGE_SIZE and self._flushed is not None:
            for page in range(trunc_page(start), start + size, PAGE_SIZE):
                self._flushed.append((page, self.tlb.take(page)))
        else:
            self._flushed = None
            self.tlb.invalidate(start, size)
        self.flush_pending = True

    def _flush_if_pending(self, filling: tuple[int, int] | None = None) -> None:
        """Flush unicorn's TLB if a flush happened, unless it only upgraded rights.

        `filling` is the page the current fill is about to insert and the PTE
        the pager just gave for it (neither translated nor inserted twice).
        """
        if not self.flush_pending:
            return
        self.flush_pending = False
        if self._remapped:
            self._forget_remapped_code()
        flushed, self._flushed = self._flushed, []
        if flushed is not None and self.tlb.complete:
            refills: list[tuple[int, int, int]] = []
            if all(self._only_upgraded(page, cached, refills, filling)
                   for page, cached in flushed):
                # Keep the cache complete: its entries now stand for the stale ones too.
                for page, phys, perms in refills:
                    if filling is None or page != filling[0]:
                        self.tlb.insert(page, phys, perms)
                return
        self.uc.ctl(ucc.UC_CTL_TLB_FLUSH, ucc.UC_CTL_IO_WRITE)
        self.tlb.unicorn_flushed()

    def _only_upgraded(self, page: int, cached: tuple[int, int] | None,
                       refills: list[tuple[int, int, int]],
                       filling: tuple[int, int] | None) -> bool:
        """Is what unicorn may hold for `page` still right, if with fewer rights?

        Write tracking detaches a read-only part and attaches it writable: the
        same frame with more rights. A stale read-only entry for it is harmless
        (a write comes back as a write fill), so that needs no TLB flush.
        """
        if cached is None:
            return True  # the cache is complete: unicorn holds nothing for this page
        now = (filling[1] if filling is not None and filling[0] == page
               else translate(self.address_space, page, Access.READ))
        if not isinstance(now, int) or now & ~PAGE_MASK != cached[0]:
            return False
        perms = now & PAGE_MASK
        refills.append((page, now & ~PAGE_MASK, perms))
        return cached[1] & ~perms == 0

    def _learned(self, addr: int, size: int) -> None:
        for page in range(trunc_page(addr), addr + size, PAGE_SIZE):
            mapping = resolve(self.address_space, page, Access.EXEC)
            if isinstance(mapping, Mapping):
                self._code_pages[page] = mapping.phys

    def _forget_remapped_code(self) -> None:
        """The counter forgets the blocks of flushed pages that now show another frame."""
        flushed, self._remapped = self._remapped, []
        code = self._code_pages
        for start, size in flushed:
            pages = (range(trunc_page(start), start + size, PAGE_SIZE)
                     if size <= _UPGRADE_CHECK_PAGES * PAGE_SIZE
                     else [page for page in code if start <= page < start + size])
            for page in pages:
                frame = code.get(page)
                if frame is None:
                    continue
                now = resolve(self.address_space, page, Access.EXEC)
                if not isinstance(now, Mapping) or now.phys != frame:
                    self.counter.forget(page, page + PAGE_SIZE)
                    del code[page]

    # -- code coherence (code.py) --------------------------------------------
    def code_event(self, event: int, frame: int) -> None:
        """Called from the fill hook (C) when a frame changes between written and executed."""
        try:
            self._code.changed(event, frame)
        except BaseException as error:  # re-raised by run(), like a fill hook's
            self._hook_error = error
            self.counter.request_stop()

    def flush_unicorn_tlb(self) -> None:
        self.uc.ctl(ucc.UC_CTL_TLB_FLUSH, ucc.UC_CTL_IO_WRITE)
        self.tlb.unicorn_flushed()

    def drop_code(self, frames: Iterable[int]) -> None:
        """Invalidate the code this CPU translated from `frames`: they were written.

        This happens at once, also inside a fill or a system call: the
        instruction that wrote is not stopped (a stop inside a fill makes
        unicorn execute the instruction again). unicorn invalidates by virtual
        address, translated through its TLB: a probe page (see tlb.c)
        translates to each frame in turn, whether or not a guest mapping still
        shows it, and unicorn's TLB is flushed afterwards. The instruction
        counter forgets the blocks of the pages the code was executed through.
        """
        probe = _CODE_PROBE
        for frame in frames:
            pages = self.tlb.take_code_pages(frame)
            if pages == ():
                continue  # never executed on this CPU
            self.tlb.probe(probe, frame * PAGE_SIZE)
            self.uc.ctl_remove_cache(probe, probe + PAGE_SIZE)
            probe += PAGE_SIZE
            if pages is None:
                self.counter.invalidate()
            for page in pages or ():
                self.counter.forget(page, page + PAGE_SIZE)
        if probe != _CODE_PROBE:
            self.tlb.probe(0, 0)
            self.flush_unicorn_tlb()  # the probe pages' entries go with it

    # -- register state ---------------------------------------------------
    def _load(self, thread: Thread) -> None:
        if self.loaded is not thread:
            self._unload()
            if thread.registers is not None:
                write_registers(self.uc, thread.registers)
                thread.registers = None
            elif thread.context is not None:
                self.uc.context_restore(thread.context)
                thread.context = None
            self.loaded = thread
        if thread.pending_result is not None:
            self.registers.write(x86.UC_X86_REG_RAX, thread.pending_result)
            thread.pending_result = None

    def _unload(self) -> None:
        previous = self.loaded
        if previous is not None and previous.state is not ThreadState.EXITED:
            previous.context = self.uc.context_save()
        self.loaded = None

    def registers_of(self, thread: Thread) -> Registers:
        """Explicit register values of a thread that is not running."""
        if thread.registers is not None:
            regs = dict(thread.registers)
        else:
            self._load(thread)
            regs = read_registers(self.uc)
        if thread.pending_result is not None:
            regs["rax"] = thread.pending_result & 0xFFFF_FFFF_FFFF_FFFF
        return regs

    def forget(self, thread: Thread) -> None:
        if self.loaded is thread:
            self.loaded = None

    # -- running ----------------------------------------------------------
    def run(self, thread: Thread, limit: int) -> None:
        """Run `thread` until `limit` instructions (CPU total), or until it blocks/exits.

        Raises GuestCrash if the thread executes something unrecoverable.
        """
        self._load(thread)
        self._flush_if_pending()
        self.current = thread
        self._fault_stop = None
        self._crash = None
        before = self.counter.instructions
        rip = self.registers.read(x86.UC_X86_REG_RIP)
        try:
            reason = self.counter.run(rip, limit)
        except UcError as error:
            if self._fault_stop is None:
                self._crash = self._crash or self._describe_error(error)
            else:
                rip = self.registers.read(x86.UC_X86_REG_RIP)
                self.counter.rewind_to(rip, fetch=self._fault_stop[1] is Access.EXEC)
            reason = None
        finally:
            thread.instructions += self.counter.instructions - before
            self.current = None
        if self._hook_error is not None:
            hook_error, self._hook_error = self._hook_error, None
            raise hook_error
        if reason is StopReason.HALTED:
            # hlt is privileged: in user mode it would raise a general protection fault.
            halt = int(self.uc.reg_read(x86.UC_X86_REG_RIP)) - 1
            self._crash = f"privileged instruction hlt at {halt:#x}"
        if self._crash is not None:
            raise GuestCrash(self._crash)

    def request_stop(self) -> None:
        self.counter.request_stop()

    def _describe_error(self, error: UcError) -> str:
        rip = self.registers.read(x86.UC_X86_REG_RIP)
        if error.errno == ucc.UC_ERR_INSN_INVALID:
            return fault_report.invalid_instruction(self.address_space, self._ram, rip)
        return f"{error} at {rip:#x}"

    # -- hooks --------------------------------------------------------------
    def _tlb_fill_guarded(self, vaddr: int, access: int, entry: object) -> bool:
        # Called from C: an exception must not vanish there; re-raised by run().
        try:
            observer = self.observer
            if observer is None:
                return self._tlb_fill(vaddr, access, entry)
            self._reflected = 0
            started = time.perf_counter_ns()
            filled = self._tlb_fill(vaddr, access, entry)
            observer.filled(vaddr, _ACCESS.get(access, Access.READ), self._reflected,
                            time.perf_counter_ns() - started)
            return filled
        except BaseException as error:
            self._hook_error = error
            self.counter.request_stop()
            return False

    def _tlb_fill(self, vaddr: int, access: int, entry: object) -> bool:
        kind = _ACCESS.get(access, Access.READ)
        thread = self.current
        result = translate(self.address_space, vaddr, kind)
        for _attempt in range(_MAX_SYNCHRONOUS_RETRIES):
            if isinstance(result, int):  # a PTE: frame | rights, the rights as unicorn's bits
                entry.paddr = result & ~PAGE_MASK  # type: ignore[attr-defined]
                entry.perms = result & PAGE_MASK  # type: ignore[attr-defined]
                if self.flush_pending:
                    self._flush_if_pending(filling=(trunc_page(vaddr), result))
                return True  # the software TLB caches the entry (tlb.c)
            if thread is None:
                return False
            self._reflected += 1
            outcome = reflect(result, thread,
                              byte_offset=lambda: self._exact_address(vaddr, kind) - vaddr)
            if outcome is RESOLVED or (isinstance(outcome, FaultTicket) and outcome.resolved):
                resumed = resume(result)  # no second walk of the maps above, if unchanged
                result = translate(self.address_space, vaddr, kind) if resumed is None else resumed
                continue
            if isinstance(outcome, FaultTicket):
                thread.block(FaultWait(outcome.region_map, outcome.fault))
            elif isinstance(outcome, Unhandled):
                self._stop(thread, outcome)
            self._fault_stop = (vaddr, kind)
            return False
        self._crash = (f"fault handler did not resolve a {kind.name} fault at {vaddr:#x} "
                       f"after {_MAX_SYNCHRONOUS_RETRIES} attempts")
        return False

    def _exact_address(self, vaddr: int, kind: Access) -> int:
        return fault_report.exact_address(self.uc, self.address_space, self._ram,
                                          trunc_page(vaddr), kind)

    def _stop(self, thread: Thread, unhandled: Unhandled) -> None:
        """Genode's pager gives up on the thread: log the fault, stop the thread for good."""
        ip = int(self.uc.reg_read(x86.UC_X86_REG_RIP))
        report = fault_report.describe(thread, unhandled.describe(), unhandled.addr, ip,
                                       unmapped=unhandled.reason is WalkFailure.NO_REGION)
        log.error("%s: %s", self.name, report)
        thread.block(FaultStop(report))

    def _syscall(self, uc: Uc, _: object) -> None:
        thread = self.current
        if thread is None:
            return
        result = self._serve_syscall(thread)
        if result is not None:
            self.registers.write(x86.UC_X86_REG_RAX, result)
        if (thread.state is not ThreadState.RUNNABLE or self.flush_pending
                or self._scheduler.preempt_requested):
            self.counter.request_stop()

    def _read_clock(self, rdtscp: bool) -> int:
        """rdtsc/rdtscp: the virtual time in ns, never the host's (returns 1: done here).

        The time is that of the instruction itself -- the instructions retired
        before it plus the idle time -- so it does not depend on where unicorn
        cut translation blocks, which differs after a restore. rdtscp's
        processor id (TSC_AUX) is 0: there is one CPU per component.
        """
        try:
            registers = self.registers
            rip = registers.read(x86.UC_X86_REG_RIP)
            now = self._scheduler.now_ns - self.counter.not_yet_run(rip)
            registers.write(x86.UC_X86_REG_RAX, now & _LOW_32)
            registers.write(x86.UC_X86_REG_RDX, (now >> 32) & _LOW_32)
            if rdtscp:
                registers.write(x86.UC_X86_REG_RCX, 0)
        except BaseException as error:  # re-raised by run(), like a fill hook's
            self._hook_error = error
            self.counter.request_stop()
        return 1

    def _interrupt(self, uc: Uc, number: int, _: object) -> None:
        rip = self._trap_site(number, int(uc.reg_read(x86.UC_X86_REG_RIP)))
        name = _INTERRUPT_NAMES.get(number, f"interrupt {number}")
        self._crash = f"{name} at {rip:#x}"
        self.counter.request_stop()

    def _trap_site(self, number: int, rip: int) -> int:
        """Traps (int3, int1, int n) leave rip after the instruction: name the instruction."""
        candidates = [(2, bytes([0xCD, number]))] if number == 3 or number >= 32 else []
        if number in (1, 3):
            candidates.insert(0, (1, b"\xf1" if number == 1 else b"\xcc"))
        for length, encoding in candidates:
            if rip < length:
                continue
            mapping = resolve(self.address_space, rip - length, Access.EXEC)
            if isinstance(mapping, Mapping) and trunc_page(rip - length) == trunc_page(rip - 1):
                phys = mapping.phys + ((rip - length) & PAGE_MASK)
                if bytes(self._ram[phys:phys + length]) == encoding:
                    return rip - length
        return rip


_INSN_CFUNC = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p)
_LOW_32 = 0xFFFF_FFFF


def _hook_instruction(uc: Uc, instruction: int,
                      callback: Callable[[int, int], int]) -> object:
    """Hook an instruction whose callback returns 1 to replace it (cpuid, rdtsc, rdtscp).

    The Python binding only knows cpuid of these; the C API takes them all.
    """
    function = _INSN_CFUNC(callback)
    handle = _uc_types.uc_hook_h()
    status = _uclib.uc_hook_add(uc._uch, ctypes.byref(handle), UC_HOOK_INSN,
                                ctypes.cast(function, ctypes.c_void_p), None,
                                ctypes.c_uint64(1), ctypes.c_uint64(0), ctypes.c_int(instruction))
    if status != ucc.UC_ERR_OK:
        raise UcError(status)
    return function



__all__ = ["Cpu", "FillObserver", "GuestCrash", "observing_fills"]
