"""Describing a fault nobody resolves, as Genode's core does.

Genode's pager logs ``illegal READ at address 0x0 by pd='...' thread='main'
ip=0x...`` and stops the thread. unicorn hands the TLB-fill hook only the
page of a data access, so the exact byte is found here by decoding the
faulting instruction (capstone) and computing its memory operand from the
registers; when that is not possible (an implicit operand capstone does
not list, unreadable code) the report keeps the page address. This runs
only for faults that leave the synchronous handlers -- never for write
tracking.
"""

from __future__ import annotations

import mmap
from typing import TYPE_CHECKING

import capstone
from capstone import x86 as cs_x86
from unicorn import x86_const as x86

from rtcr.core import PAGE_MASK, Access, Mapping, RegionMap, resolve, trunc_page

if TYPE_CHECKING:
    from unicorn import Uc

    from .thread import Thread

_MAX_INSTRUCTION = 15
_STACK_SLACK = 64 << 10
"""A fault this far below a thread's stack region is reported as a stack overflow."""
_SEGMENT_BASES = {cs_x86.X86_REG_FS: x86.UC_X86_REG_FS_BASE,
                  cs_x86.X86_REG_GS: x86.UC_X86_REG_GS_BASE}
_PUSHES = frozenset({cs_x86.X86_INS_PUSH, cs_x86.X86_INS_CALL, cs_x86.X86_INS_PUSHFQ})

_disassembler: list[capstone.Cs] = []


def _cs() -> capstone.Cs:
    if not _disassembler:
        cs = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
        cs.detail = True
        _disassembler.append(cs)
    return _disassembler[0]


def _code(space: RegionMap, ram: mmap.mmap, rip: int) -> bytes:
    """Up to 15 bytes at ``rip``, as far as they are mapped."""
    out = b""
    addr = rip
    while len(out) < _MAX_INSTRUCTION:
        mapping = resolve(space, addr, Access.READ)
        if not isinstance(mapping, Mapping):
            break
        in_page = addr & PAGE_MASK
        take = min(_MAX_INSTRUCTION - len(out), (PAGE_MASK + 1) - in_page)
        out += bytes(ram[mapping.phys + in_page:mapping.phys + in_page + take])
        addr += take
    return out


def _register(uc: Uc, insn: capstone.CsInsn, reg: int) -> int:
    name = insn.reg_name(reg)
    if name is None:
        return 0
    uc_reg = getattr(x86, f"UC_X86_REG_{name.upper()}", None)
    return int(uc.reg_read(uc_reg)) if uc_reg is not None else 0


def exact_address(uc: Uc, space: RegionMap, ram: mmap.mmap, page: int,
                  access: Access) -> int:
    """The faulting byte of a ``page``-granular fault, or ``page`` if it cannot be told.

    For an instruction fetch it is ``rip`` (or the page, when the
    instruction runs over into it). For data, the memory operand of the
    instruction at ``rip`` that touches ``page`` -- with the write operand
    preferred for a write -- evaluated on the current registers.
    """
    rip = int(uc.reg_read(x86.UC_X86_REG_RIP))
    if access is Access.EXEC:
        return rip if trunc_page(rip) == page else page
    code = _code(space, ram, rip)
    insn = next(_cs().disasm(code, rip, 1), None)
    if insn is None:
        return page
    candidates: list[tuple[int, int, bool]] = []  # (address, size, writes)
    for op in insn.operands:
        if op.type != cs_x86.X86_OP_MEM:
            continue
        mem = op.mem
        base = (rip + insn.size if mem.base == cs_x86.X86_REG_RIP
                else _register(uc, insn, mem.base) if mem.base else 0)
        index = _register(uc, insn, mem.index) * mem.scale if mem.index else 0
        segment = (int(uc.reg_read(_SEGMENT_BASES[mem.segment]))
                   if mem.segment in _SEGMENT_BASES else 0)
        address = (segment + base + index + mem.disp) & 0xFFFF_FFFF_FFFF_FFFF
        candidates.append((address, max(op.size, 1), bool(op.access & capstone.CS_AC_WRITE)))
    if not candidates and insn.id in _PUSHES and access is Access.WRITE:
        rsp = int(uc.reg_read(x86.UC_X86_REG_RSP))
        candidates.append((rsp - 8, 8, True))
    candidates.sort(key=lambda c: c[2] != (access is Access.WRITE))
    for address, size, _writes in candidates:
        if address <= page + PAGE_MASK and address + size > page:
            return max(address, page)
    return page


_AVX_GROUPS = frozenset({cs_x86.X86_GRP_AVX, cs_x86.X86_GRP_AVX2, cs_x86.X86_GRP_AVX512,
                         cs_x86.X86_GRP_FMA, cs_x86.X86_GRP_FMA4, cs_x86.X86_GRP_F16C,
                         cs_x86.X86_GRP_XOP})
NO_AVX = ("the CPU model has no AVX (no AVX, AVX2, AVX-512, FMA or F16C; CPUID says so): "
          "build the component for plain x86-64, without -mavx or -march=native")


def invalid_instruction(space: RegionMap, ram: mmap.mmap, rip: int) -> str:
    """The crash report of an invalid opcode at ``rip``, saying why where it can.

    An AVX-family instruction (VEX or EVEX encoded vector code) is invalid
    because unicorn's CPU model lacks AVX, which a compiler flag usually
    asked for; that is worth saying.
    """
    insn = next(_cs().disasm(_code(space, ram, rip), rip, 1), None)
    if insn is None:
        return f"invalid instruction at {rip:#x}"
    text = f"invalid instruction at {rip:#x} ({insn.mnemonic} {insn.op_str})".replace(" )", ")")
    vector = insn.mnemonic.startswith("v") and "mm" in insn.op_str
    if vector or _AVX_GROUPS.intersection(insn.groups):
        text += f": {NO_AVX}"
    return text


def describe(thread: Thread, what: str, address: int, ip: int, *, unmapped: bool) -> str:
    """The report line: ``<what> by thread NAME ip=0x...``, plus the stack on an overflow.

    An overflow is an access to *no* region just below the thread's stack;
    a rights violation there hit something attached, not the guard gap.
    """
    line = f"{what} by thread {thread.name} ip={ip:#x}"
    stack = thread.stack
    if stack is not None and unmapped:
        start, size = stack
        if start - _STACK_SLACK <= address < start:
            line += (f" (stack overflow: the stack of thread {thread.name} is "
                     f"[{start:#x}, {start + size:#x}))")
    return line
