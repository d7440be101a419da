"""Exactness of the block-hook instruction counter against unicorn's own count=."""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from unicorn import (
    UC_ARCH_X86,
    UC_HOOK_CODE,
    UC_HOOK_INSN,
    UC_HOOK_MEM_WRITE,
    UC_HOOK_TLB_FILL,
    UC_MEM_FETCH,
    UC_MODE_64,
    UC_PROT_ALL,
    UC_TLB_VIRTUAL,
    Uc,
    UcError,
)
from unicorn import unicorn_const as ucc
from unicorn import x86_const as x86

from rtcr.machine import icount, native
from rtcr.machine.icount import InstructionCounter, StopReason

BACKENDS = ["c", "python"]
CODE = 0x40_0000
DATA = 0x80_0000
STACK_TOP = 0xA0_0000
MEM_SIZE = 0x80_0000  # CODE .. CODE+8 MiB: code, data, stack
PAGE = 0x1000
GPRS = [
    x86.UC_X86_REG_RAX, x86.UC_X86_REG_RBX, x86.UC_X86_REG_RCX, x86.UC_X86_REG_RDX,
    x86.UC_X86_REG_RSI, x86.UC_X86_REG_RDI, x86.UC_X86_REG_RBP, x86.UC_X86_REG_RSP,
    x86.UC_X86_REG_R8, x86.UC_X86_REG_R9, x86.UC_X86_REG_R10, x86.UC_X86_REG_R11,
    x86.UC_X86_REG_RIP, x86.UC_X86_REG_EFLAGS,
]  # fmt: skip

# register numbers for the tiny assembler
RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI = range(8)
R8, R9, R10, R11 = range(8, 12)


class Asm:
    """A very small x86-64 assembler (just what these tests need)."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.buf = bytearray()
        self.labels: dict[str, int] = {}
        self.fixups: list[tuple[int, str]] = []  # rel32 at offset

    @property
    def here(self) -> int:
        return self.base + len(self.buf)

    def label(self, name: str) -> Asm:
        self.labels[name] = self.here
        return self

    def _rex(self, r: int = 0, b: int = 0) -> None:
        self.buf.append(0x48 | ((r >> 3) << 2) | (b >> 3))

    def mov_imm(self, reg: int, imm: int) -> Asm:  # mov r64, simm32 (7 bytes)
        self._rex(b=reg)
        self.buf += bytes([0xC7, 0xC0 | (reg & 7)]) + struct.pack("<i", imm)
        return self

    def mov_imm64(self, reg: int, imm: int) -> Asm:  # movabs r64, imm64
        self._rex(b=reg)
        self.buf += bytes([0xB8 | (reg & 7)]) + struct.pack("<Q", imm)
        return self

    def add_imm(self, reg: int, imm: int) -> Asm:  # add r64, simm8
        self._rex(b=reg)
        self.buf += bytes([0x83, 0xC0 | (reg & 7), imm & 0xFF])
        return self

    def add(self, dst: int, src: int) -> Asm:  # add dst, src
        self._rex(r=src, b=dst)
        self.buf += bytes([0x01, 0xC0 | ((src & 7) << 3) | (dst & 7)])
        return self

    def imul_imm(self, reg: int, imm: int) -> Asm:  # imul reg, reg, simm8
        self._rex(r=reg, b=reg)
        self.buf += bytes([0x6B, 0xC0 | ((reg & 7) << 3) | (reg & 7), imm & 0xFF])
        return self

    def dec(self, reg: int) -> Asm:
        self._rex(b=reg)
        self.buf += bytes([0xFF, 0xC8 | (reg & 7)])
        return self

    def store(self, base: int, src: int, disp: int = 0) -> Asm:  # mov [base+disp32], src
        assert base & 7 not in (RSP, RBP)
        self._rex(r=src, b=base)
        self.buf += bytes([0x89, 0x80 | ((src & 7) << 3) | (base & 7)]) + struct.pack("<i", disp)
        return self

    def load(self, dst: int, base: int, disp: int = 0) -> Asm:  # mov dst, [base+disp32]
        assert base & 7 not in (RSP, RBP)
        self._rex(r=dst, b=base)
        self.buf += bytes([0x8B, 0x80 | ((dst & 7) << 3) | (base & 7)]) + struct.pack("<i", disp)
        return self

    def _rel32(self, opcode: bytes, target: str) -> Asm:
        self.buf += opcode
        self.fixups.append((len(self.buf), target))
        self.buf += b"\0\0\0\0"
        return self

    def jnz(self, target: str) -> Asm:
        return self._rel32(b"\x0f\x85", target)

    def jmp(self, target: str) -> Asm:
        return self._rel32(b"\xe9", target)

    def call(self, target: str) -> Asm:
        return self._rel32(b"\xe8", target)

    def ret(self) -> Asm:
        self.buf.append(0xC3)
        return self

    def nop(self, n: int = 1) -> Asm:
        self.buf += b"\x90" * n
        return self

    def syscall(self) -> Asm:
        self.buf += b"\x0f\x05"
        return self

    def hlt(self) -> Asm:
        self.buf.append(0xF4)
        return self

    def pad_to(self, address: int) -> Asm:
        assert address >= self.here
        return self.nop(address - self.here)

    def assemble(self) -> bytes:
        out = bytearray(self.buf)
        for off, target in self.fixups:
            rel = self.labels[target] - (self.base + off + 4)
            out[off : off + 4] = struct.pack("<i", rel)
        return bytes(out)


@dataclass
class Program:
    code: bytes
    entry: int = CODE
    labels: dict[str, int] = field(default_factory=dict)


def _finish(a: Asm) -> Program:
    return Program(a.assemble(), CODE, dict(a.labels))


def prog_straight() -> Program:
    a = Asm(CODE)
    for i in range(300):
        a.add_imm(RAX, i % 100).add(RBX, RAX)
    return _finish(a.hlt())


def prog_loops() -> Program:
    """Nested loops, calls/rets, loads and stores."""
    a = Asm(CODE)
    a.mov_imm(RSP, STACK_TOP).mov_imm(RSI, DATA).mov_imm(R8, 40)
    a.label("outer").mov_imm(RCX, 23)
    a.label("inner").add(RAX, RCX).call("func").store(RSI, RAX, 8).dec(RCX).jnz("inner")
    a.add_imm(RSI, 16).dec(R8).jnz("outer")
    a.hlt()
    a.label("func").imul_imm(RDX, 3).add(RDX, RAX).load(RBX, RSI, 8).add(RBX, RDX).ret()
    return _finish(a)


def prog_page_crossing() -> Program:
    """One straight-line block of ~3 KiB straddling a page boundary."""
    a = Asm(CODE)
    a.jmp("long")
    a.pad_to(CODE + 3 * PAGE - 0x300)
    a.label("long")
    for i in range(400):
        a.mov_imm(R9 if i % 2 else R10, i)
        if i % 50 == 0:
            a.add(RAX, R9)
    a.add(RAX, R10).hlt()
    return _finish(a)


def prog_syscalls() -> Program:
    a = Asm(CODE)
    a.mov_imm(RSP, STACK_TOP).mov_imm(RCX, 30)
    a.label("loop").add_imm(RAX, 1).add(RBX, RAX).syscall().add_imm(RBX, 5).dec(RCX).jnz("loop")
    a.syscall().syscall().nop().hlt()
    return _finish(a)


def prog_faulting(first_in_block: bool) -> Program:
    """Stores to DATA pages; the fault tests refuse or unmap them.

    With ``first_in_block`` the faulting store is the first instruction of a
    block (a loop head), else it sits in the middle of a block.
    """
    a = Asm(CODE)
    a.mov_imm(RSP, STACK_TOP).mov_imm(RDI, DATA).mov_imm(RCX, 6)
    a.label("loop")
    if first_in_block:
        a.store(RDI, RAX)
        a.add_imm(RAX, 3).add(RBX, RAX).load(RDX, RDI)
    else:
        a.add_imm(RAX, 3).add(RBX, RAX).add(RBX, RCX).store(RDI, RAX).load(RDX, RDI).add(RBX, RDX)
    a.add_imm(RBX, 1).mov_imm(RDX, PAGE).add(RDI, RDX).dec(RCX).jnz("loop")
    a.add(RAX, RBX).hlt()
    return _finish(a)


def make_uc(prog: Program, tlb: bool = False,
            fill: Callable[[int, int], bool] | None = None,
            map_data: bool = True) -> Uc:  # fmt: skip
    """x86-64 unicorn with flat memory; in virtual-TLB mode an identity fill hook.

    ``fill(vaddr, access)`` may refuse an access by returning False.
    """
    uc = Uc(UC_ARCH_X86, UC_MODE_64)
    if tlb:
        uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)

        def hook(uc: Uc, vaddr: int, access: int, entry: object, _ud: object) -> bool:
            if fill is not None and not fill(vaddr, access):
                return False
            entry.paddr = vaddr & ~(PAGE - 1)  # type: ignore[attr-defined]
            entry.perms = UC_PROT_ALL  # type: ignore[attr-defined]
            return True

        uc.hook_add(UC_HOOK_TLB_FILL, hook)
    if map_data:
        uc.mem_map(CODE, MEM_SIZE)
    else:
        uc.mem_map(CODE, DATA - CODE)
        uc.mem_map(DATA + 0x10_0000, CODE + MEM_SIZE - DATA - 0x10_0000)
    uc.mem_write(CODE, prog.code)
    return uc


def regs(uc: Uc) -> list[int]:
    return [uc.reg_read(r) for r in GPRS]


def reference_total(prog: Program, **kw: object) -> tuple[int, list[int]]:
    """Instructions of a whole run (to hlt), counted by a per-instruction hook."""
    uc = make_uc(prog, **kw)  # type: ignore[arg-type]
    n = [0]

    def code_hook(uc: Uc, address: int, size: int, _ud: object) -> None:
        n[0] += 1

    uc.hook_add(UC_HOOK_CODE, code_hook)
    uc.hook_add(UC_HOOK_INSN, lambda uc, _ud: None, None, 1, 0, x86.UC_X86_INS_SYSCALL)
    uc.emu_start(prog.entry, 0)
    return n[0], regs(uc)


def reference_after(prog: Program, count: int, flags: bool = True) -> list[int]:
    """Registers after exactly ``count`` instructions, using unicorn's count=.

    unicorn quirk: when count= stops right after a ``syscall`` (handled by a
    UC_HOOK_INSN hook), EFLAGS reads back as 0x2 although the guest sees the
    flags of the last arithmetic instruction (checked with pushfq below);
    ``flags=False`` leaves EFLAGS out of the comparison.
    """
    uc = make_uc(prog)
    uc.hook_add(UC_HOOK_INSN, lambda uc, _ud: None, None, 1, 0, x86.UC_X86_INS_SYSCALL)
    if count:
        uc.emu_start(prog.entry, 0, count=count)
    else:
        uc.reg_write(x86.UC_X86_REG_RIP, prog.entry)
    return regs(uc) if flags else regs(uc)[:-1]


def run_to_end(ic: InstructionCounter, uc: Uc, start: int,
               quanta: Iterator[int] | None = None) -> StopReason:  # fmt: skip
    pc = start
    while True:
        limit = ic.instructions + next(quanta) if quanta is not None else 1 << 62
        reason = ic.run(pc, limit)
        pc = uc.reg_read(x86.UC_X86_REG_RIP)
        if reason is not StopReason.LIMIT:
            return reason


PROGRAMS = {
    "straight": prog_straight,
    "loops": prog_loops,
    "page_crossing": prog_page_crossing,
}


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTCR_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "rtcr-cache"))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("tlb", [False, True], ids=["flat", "tlb"])
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_whole_run_exact(name: str, tlb: bool, backend: str) -> None:
    prog = PROGRAMS[name]()
    total, final = reference_total(prog)
    uc = make_uc(prog, tlb=tlb)
    ic = InstructionCounter(uc, backend=backend)  # type: ignore[arg-type]
    assert ic.backend == backend
    assert ic.run(prog.entry, 1 << 62) is StopReason.HALTED
    assert ic.instructions == total
    assert regs(uc) == final


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_limit_stops_on_block_boundaries(name: str, backend: str) -> None:
    prog = PROGRAMS[name]()
    total, _ = reference_total(prog)
    for limit in [1, 2, 5, 17, 100, 333, total // 2, total - 1]:
        outcomes = []
        for _ in range(2):
            uc = make_uc(prog)
            ic = InstructionCounter(uc, backend=backend)  # type: ignore[arg-type]
            reason = ic.run(prog.entry, limit)
            if reason is StopReason.HALTED:  # the last block crossed the limit
                assert ic.instructions == total
            else:
                assert reason is StopReason.LIMIT
                assert limit <= ic.instructions < total
            # state at the stop == unicorn after exactly that many instructions
            assert regs(uc) == reference_after(prog, ic.instructions)
            outcomes.append((ic.instructions, regs(uc)))
        assert outcomes[0] == outcomes[1]  # deterministic


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("tlb", [False, True], ids=["flat", "tlb"])
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_many_stops_same_result(name: str, tlb: bool, backend: str) -> None:
    prog = PROGRAMS[name]()
    total, final = reference_total(prog)
    uc = make_uc(prog, tlb=tlb)
    ic = InstructionCounter(uc, backend=backend)  # type: ignore[arg-type]
    quanta = iter([1, 3, 7, 1, 50, 2, 13] * 10_000)
    stops = 0
    pc = prog.entry
    while True:
        limit = ic.instructions + next(quanta)
        reason = ic.run(pc, limit)
        pc = uc.reg_read(x86.UC_X86_REG_RIP)
        if reason is StopReason.HALTED:
            break
        assert reason is StopReason.LIMIT and ic.instructions >= limit
        stops += 1
        if stops % 7 == 0:
            assert regs(uc) == reference_after(prog, ic.instructions)
    assert stops > (10 if name == "loops" else 0)
    assert ic.instructions == total
    assert regs(uc) == final


@pytest.mark.parametrize("backend", BACKENDS)
def test_limit_already_reached_runs_nothing(backend: str) -> None:
    prog = prog_loops()
    uc = make_uc(prog)
    ic = InstructionCounter(uc, backend=backend)  # type: ignore[arg-type]
    ic.instructions = 10
    assert ic.run(prog.entry, 10) is StopReason.LIMIT
    assert ic.instructions == 10
    assert ic.hook_calls == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_instructions_settable(backend: str) -> None:
    prog = prog_loops()
    total, _ = reference_total(prog)
    uc = make_uc(prog)
    ic = InstructionCounter(uc, backend=backend)  # type: ignore[arg-type]
    ic.instructions = 1_000_000
    assert ic.run(prog.entry, 1 << 62) is StopReason.HALTED
    assert ic.instructions == 1_000_000 + total
    with pytest.raises(ValueError):
        ic.instructions = -1


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("tlb", [False, True], ids=["flat", "tlb"])
def test_syscall_request_stop(tlb: bool, backend: str) -> None:
    prog = prog_syscalls()
    total, final = reference_total(prog)
    uc = make_uc(prog, tlb=tlb)
    ic = InstructionCounter(uc, backend=backend)  # type: ignore[arg-type]
    seen: list[tuple[int, int]] = []

    def on_syscall(uc: Uc, _ud: object) -> None:
        rip = uc.reg_read(x86.UC_X86_REG_RIP)  # points at the syscall itself
        seen.append((rip, ic.instructions))
        if len(seen) % 3 != 0:  # block two of every three syscalls
            ic.request_stop()

    uc.hook_add(UC_HOOK_INSN, on_syscall, None, 1, 0, x86.UC_X86_INS_SYSCALL)
    pc = prog.entry
    stopped = 0
    while True:
        reason = ic.run(pc, 1 << 62)
        pc = uc.reg_read(x86.UC_X86_REG_RIP)
        if reason is StopReason.HALTED:
            break
        assert reason is StopReason.STOPPED
        stopped += 1
        syscall_rip, _ = seen[-1]
        assert pc == syscall_rip + 2  # stopped right after the syscall
        # exact: unicorn's count= lands on the same state
        assert regs(uc)[:-1] == reference_after(prog, ic.instructions, flags=False)
    assert stopped == 22  # 32 syscalls, every third one does not stop
    assert len(seen) == 32
    assert ic.instructions == total
    assert regs(uc) == final


@pytest.mark.parametrize("backend", BACKENDS)
def test_syscall_stop_and_limits_mixed(backend: str) -> None:
    prog = prog_syscalls()
    total, final = reference_total(prog)
    uc = make_uc(prog)
    ic = InstructionCounter(uc, backend=backend)  # type: ignore[arg-type]
    uc.hook_add(UC_HOOK_INSN, lambda uc, _ud: ic.request_stop(), None, 1, 0,
                x86.UC_X86_INS_SYSCALL)  # fmt: skip
    quanta = iter([2, 5, 1, 9, 3] * 1000)
    pc = prog.entry
    while True:
        reason = ic.run(pc, ic.instructions + next(quanta))
        pc = uc.reg_read(x86.UC_X86_REG_RIP)
        if reason is StopReason.HALTED:
            break
        assert regs(uc)[:-1] == reference_after(prog, ic.instructions, flags=False)
    assert ic.instructions == total
    assert regs(uc) == final


def test_flags_after_syscall_stop_are_the_guests() -> None:
    """Our stop after a syscall keeps the real EFLAGS (count= shows 0x2)."""
    a = Asm(CODE)
    a.mov_imm(RSP, STACK_TOP).mov_imm(RBX, 13).mov_imm(RAX, 3).add(RBX, RAX).syscall()
    a.buf += b"\x9c\x41\x5b"  # pushfq; pop r11
    prog = _finish(a.hlt())
    uc = make_uc(prog)
    ic = InstructionCounter(uc)
    uc.hook_add(UC_HOOK_INSN, lambda uc, _ud: ic.request_stop(), None, 1, 0,
                x86.UC_X86_INS_SYSCALL)  # fmt: skip
    assert ic.run(prog.entry, 1 << 62) is StopReason.STOPPED
    at_stop = uc.reg_read(x86.UC_X86_REG_EFLAGS)
    assert at_stop & 0x10  # AF from 13 + 3
    assert ic.run(uc.reg_read(x86.UC_X86_REG_RIP), 1 << 62) is StopReason.HALTED
    assert uc.reg_read(x86.UC_X86_REG_R11) == at_stop
    assert ic.instructions == 8


def _first_store_counts(prog: Program) -> list[int]:
    """For each store to a DATA page: instructions completed before it (reference)."""
    uc = make_uc(prog)
    n = [0]
    firsts: dict[int, int] = {}

    def code_hook(uc: Uc, address: int, size: int, _ud: object) -> None:
        n[0] += 1

    def write_hook(uc: Uc, access: int, address: int, size: int, value: int, _ud: object) -> None:
        firsts.setdefault(address & ~(PAGE - 1), n[0] - 1)

    uc.hook_add(UC_HOOK_CODE, code_hook)
    uc.hook_add(UC_HOOK_MEM_WRITE, write_hook, None, DATA, DATA + 0x10_0000)
    uc.emu_start(prog.entry, 0)
    return [firsts[p] for p in sorted(firsts)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("first_in_block", [False, True], ids=["mid_block", "block_start"])
def test_tlb_fill_refusal_rewind(first_in_block: bool, backend: str) -> None:
    prog = prog_faulting(first_in_block)
    total, final = reference_total(prog)
    expected_faults = _first_store_counts(prog)
    assert len(expected_faults) == 6
    granted: set[int] = set()
    refused: list[tuple[int, int]] = []

    def fill(vaddr: int, access: int) -> bool:
        page = vaddr & ~(PAGE - 1)
        if DATA <= page < DATA + 0x10_0000 and page not in granted:
            refused.append((page, access))
            return False
        return True

    uc = make_uc(prog, tlb=True, fill=fill)
    ic = InstructionCounter(uc, backend=backend)  # type: ignore[arg-type]
    pc = prog.entry
    faults = []
    while True:
        try:
            reason = ic.run(pc, 1 << 62)
        except UcError:
            pc = uc.reg_read(x86.UC_X86_REG_RIP)
            page, access = refused[-1]
            assert access != UC_MEM_FETCH
            ic.rewind_to(pc, fetch=False)
            faults.append(ic.instructions)
            assert regs(uc) == reference_after(prog, ic.instructions)
            ic.rewind_to(pc, fetch=False)  # idempotent
            assert faults[-1] == ic.instructions
            granted.add(page)
            continue
        assert reason is StopReason.HALTED
        break
    assert faults == expected_faults
    assert ic.instructions == total
    assert regs(uc) == final


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("first_in_block", [False, True], ids=["mid_block", "block_start"])
def test_unmapped_data_rewind_flat(first_in_block: bool, backend: str) -> None:
    """Same without virtual TLB: the data pages start unmapped (UC_ERR_WRITE_UNMAPPED)."""
    prog = prog_faulting(first_in_block)
    total, final = reference_total(prog)
    expected_faults = _first_store_counts(prog)
    uc = make_uc(prog, map_data=False)
    ic = InstructionCounter(uc, backend=backend)  # type: ignore[arg-type]
    pc = prog.entry
    faults = []
    mapped = DATA
    while True:
        try:
            reason = ic.run(pc, ic.instructions + 7)
        except UcError as exc:
            assert exc.errno == ucc.UC_ERR_WRITE_UNMAPPED
            pc = uc.reg_read(x86.UC_X86_REG_RIP)
            ic.rewind_to(pc, fetch=False)
            faults.append(ic.instructions)
            assert regs(uc) == reference_after(prog, ic.instructions)
            uc.mem_map(mapped, PAGE)
            mapped += PAGE
            continue
        pc = uc.reg_read(x86.UC_X86_REG_RIP)
        if reason is StopReason.HALTED:
            break
    assert faults == expected_faults
    assert ic.instructions == total
    assert regs(uc) == final


@pytest.mark.parametrize("backend", BACKENDS)
def test_fetch_refusal_second_page_of_block(backend: str) -> None:
    """A block straddling a page whose second page is refused for fetch.

    unicorn fetches code when translating, before the block's hook: the
    fault comes with RIP at the block start and nothing was counted.
    """
    prog = prog_page_crossing()
    total, final = reference_total(prog)
    long_start = prog.labels["long"]
    second = (long_start & ~(PAGE - 1)) + PAGE
    allow = [False]
    refused: list[int] = []

    def fill(vaddr: int, access: int) -> bool:
        if access == UC_MEM_FETCH and vaddr & ~(PAGE - 1) == second and not allow[0]:
            refused.append(vaddr)
            return False
        return True

    uc = make_uc(prog, tlb=True, fill=fill)
    ic = InstructionCounter(uc, backend=backend)  # type: ignore[arg-type]
    with pytest.raises(UcError):
        ic.run(prog.entry, 1 << 62)
    assert refused
    rip = uc.reg_read(x86.UC_X86_REG_RIP)
    assert rip == long_start
    ic.rewind_to(rip, fetch=True)
    assert ic.instructions == 1  # the jmp
    assert regs(uc) == reference_after(prog, 1)
    allow[0] = True
    assert ic.run(rip, 1 << 62) is StopReason.HALTED
    assert ic.instructions == total
    assert regs(uc) == final


@pytest.mark.parametrize("backend", BACKENDS)
def test_invalidate_relearns(backend: str) -> None:
    prog = prog_loops()
    total, _ = reference_total(prog)
    uc = make_uc(prog)
    ic = InstructionCounter(uc, backend=backend)  # type: ignore[arg-type]
    assert ic.run(prog.entry, 200) is StopReason.LIMIT
    learned = ic.learned_blocks
    assert learned > 0
    ic.invalidate()
    assert ic.learned_blocks == 0
    assert run_to_end(ic, uc, uc.reg_read(x86.UC_X86_REG_RIP)) is StopReason.HALTED
    assert ic.instructions == total
    assert ic.learned_blocks >= learned


@pytest.mark.parametrize("backend", BACKENDS)
def test_jump_to_zero_is_a_fetch_fault(backend: str) -> None:
    a = Asm(CODE)
    a.mov_imm(RAX, 0).add_imm(RBX, 1)
    a.buf += b"\xff\xe0"  # jmp rax
    prog = _finish(a)
    uc = make_uc(prog)
    ic = InstructionCounter(uc, backend=backend)  # type: ignore[arg-type]
    with pytest.raises(UcError) as info:
        ic.run(prog.entry, 1 << 62)
    assert info.value.errno == ucc.UC_ERR_FETCH_UNMAPPED
    assert ic.instructions == 3


def test_backends_agree_on_every_stop() -> None:
    prog = prog_loops()
    trails: dict[str, list[tuple[int, list[int]]]] = {}
    for backend in BACKENDS:
        uc = make_uc(prog, tlb=True)
        ic = InstructionCounter(uc, backend=backend)  # type: ignore[arg-type]
        trail = []
        pc = prog.entry
        quanta = iter([3, 11, 1, 40] * 10_000)
        while True:
            reason = ic.run(pc, ic.instructions + next(quanta))
            pc = uc.reg_read(x86.UC_X86_REG_RIP)
            trail.append((ic.instructions, regs(uc)))
            if reason is StopReason.HALTED:
                break
        trails[backend] = trail
    assert trails["c"] == trails["python"]


def test_fallback_without_compiler(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                   caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    monkeypatch.setattr(icount, "_lib_cache", {})
    monkeypatch.setattr(icount, "_fallback_logged", False)
    monkeypatch.setenv("RTCR_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("RTCR_CC", str(tmp_path / "no-such-compiler"))
    prog = prog_straight()
    total, _ = reference_total(prog)
    with caplog.at_level(logging.WARNING, logger="rtcr.machine"):
        ic = InstructionCounter(make_uc(prog))
        ic2 = InstructionCounter(make_uc(prog))
    assert ic.backend == ic2.backend == "python"
    assert sum("pure-Python" in r.getMessage() for r in caplog.records) == 1
    with pytest.raises(RuntimeError):
        InstructionCounter(make_uc(prog), backend="c")
    assert ic.run(prog.entry, 1 << 62) is StopReason.HALTED
    assert ic.instructions == total


def test_build_is_cached(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RTCR_CACHE_DIR", str(tmp_path / "cache"))
    first = native.build("icount")
    mtime = first.stat().st_mtime_ns
    assert native.build("icount") == first
    assert first.stat().st_mtime_ns == mtime
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [first.name]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("at_block_start", [False, True], ids=["mid_block", "block_start"])
def test_invalid_instruction_rewind(at_block_start: bool, backend: str) -> None:
    """unicorn counts an invalid instruction into its block; rewind_to removes it."""
    a = Asm(CODE)
    a.mov_imm(RCX, 3).add_imm(RAX, 1).jmp("bad").label("bad")
    if not at_block_start:
        a.add_imm(RBX, 1)
    a.buf += b"\x06"  # push es: invalid in 64-bit mode (capstone doesn't decode it either)
    prog = _finish(a.nop().hlt())
    uc = make_uc(prog)
    ic = InstructionCounter(uc, backend=backend)  # type: ignore[arg-type]
    with pytest.raises(UcError) as info:
        ic.run(prog.entry, 1 << 62)
    assert info.value.errno == ucc.UC_ERR_INSN_INVALID
    ic.rewind_to(uc.reg_read(x86.UC_X86_REG_RIP), fetch=False)
    expected = 3 if at_block_start else 4
    assert ic.instructions == expected
    assert regs(uc) == reference_after(prog, expected)


VOFF = 0x7F00_0000_0000  # code runs at CODE + VOFF, backed by physical CODE


def prog_crossing_store() -> Program:
    """A page-crossing block with a store after the page boundary."""
    a = Asm(CODE)
    a.mov_imm(RDI, DATA).jmp("long")
    a.pad_to(CODE + 2 * PAGE - 0x200)
    a.label("long")
    for i in range(300):
        a.mov_imm(R9 if i % 2 else R10, i)
        if i == 150:
            a.store(RDI, R9)
    return _finish(a.add(RAX, R10).hlt())


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("learn", ["request_cache", "capstone"])
def test_rewind_non_identity_mapping(
    learn: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Virtual != physical: code is decoded through the TLB-fill hook (uc_vmem_read)."""
    prog = prog_crossing_store()
    total, final = reference_total(prog)
    expected_fault = _first_store_counts(prog)[0]
    granted = [False]

    def phys(vaddr: int) -> int:
        if CODE + VOFF <= vaddr < CODE + VOFF + 0x10_0000:
            return vaddr - VOFF
        return vaddr

    def hook(uc: Uc, vaddr: int, access: int, entry: object, _ud: object) -> bool:
        if DATA <= vaddr < DATA + PAGE and not granted[0]:
            return False
        entry.paddr = phys(vaddr) & ~(PAGE - 1)  # type: ignore[attr-defined]
        entry.perms = UC_PROT_ALL  # type: ignore[attr-defined]
        return True

    uc = Uc(UC_ARCH_X86, UC_MODE_64)
    uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)
    uc.hook_add(UC_HOOK_TLB_FILL, hook)
    uc.mem_map(CODE, MEM_SIZE)
    uc.mem_write(CODE, prog.code)
    ic = InstructionCounter(uc, backend=backend)  # type: ignore[arg-type]
    if learn == "capstone":
        monkeypatch.setattr(ic, "_icount_from_tb", lambda addr, size: None)
    with pytest.raises(UcError):
        ic.run(prog.entry + VOFF, 1 << 62)
    rip = uc.reg_read(x86.UC_X86_REG_RIP)
    ic.rewind_to(rip, fetch=False)
    assert ic.instructions == expected_fault
    ref = reference_after(prog, expected_fault)
    assert rip == ref[-2] + VOFF
    assert regs(uc)[:-2] == ref[:-2]
    granted[0] = True
    assert ic.run(rip, 1 << 62) is StopReason.HALTED
    assert ic.instructions == total
    assert regs(uc)[:-2] == final[:-2]


@pytest.mark.parametrize("backend", BACKENDS)
def test_idle_outside_run(backend: str) -> None:
    """emu_start outside run() is neither stopped nor counted; close() removes the hook."""
    prog = prog_loops()
    total, final = reference_total(prog)
    uc = make_uc(prog)
    ic = InstructionCounter(uc, backend=backend)  # type: ignore[arg-type]
    uc.emu_start(prog.entry, 0)
    assert regs(uc) == final
    assert ic.instructions == 0
    assert ic.run(prog.entry, 1 << 62) is StopReason.HALTED  # loop bounds are reloaded
    assert ic.instructions == total
    calls = ic.hook_calls
    ic.close()
    ic.close()
    uc.emu_start(prog.entry, 0)
    assert ic.hook_calls == calls


def test_request_stop_outside_run_is_forgotten() -> None:
    prog = prog_straight()
    total, _ = reference_total(prog)
    uc = make_uc(prog)
    ic = InstructionCounter(uc)
    ic.request_stop()
    assert ic.run(prog.entry, 1 << 62) is StopReason.HALTED
    assert ic.instructions == total
