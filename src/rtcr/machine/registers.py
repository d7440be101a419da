"""A thread's architectural register state as plain, portable values.

unicorn's own context objects carry its internal layout; checkpoints store
these named integers instead, so that an image outlives a unicorn upgrade.

The state is everything a component can observe with user instructions:
the general-purpose registers, rip and rflags (DF, AC and the rest), the
data segment selectors and the FS/GS bases, the whole x87 FPU (the eight
physical 80-bit registers, control, status word with TOP, tag word, last
instruction and operand pointers and opcode -- what FNSTENV/FXSAVE show)
and the SSE state (MXCSR, XMM0-15). The CPU model offers no AVX, so there
is no YMM/ZMM upper state to keep. Each value is one integer: an x87
register is its 80 bits (mantissa in the low 64, sign and exponent above),
an XMM register its 128 bits.
"""

from __future__ import annotations

import ctypes
from collections.abc import Mapping, Sequence
from typing import Any

from unicorn import Uc
from unicorn import x86_const as x86
from unicorn.unicorn_py3 import unicorn as _ucmod

_uclib: Any = _ucmod.uclib

# rax (the number), then the arguments in the order of the calling convention.
SYSCALL_REGISTERS = (x86.UC_X86_REG_RAX, x86.UC_X86_REG_RDI, x86.UC_X86_REG_RSI,
                     x86.UC_X86_REG_RDX, x86.UC_X86_REG_R10, x86.UC_X86_REG_R8,
                     x86.UC_X86_REG_R9)

GENERAL_PURPOSE: tuple[tuple[str, int], ...] = (
    ("rax", x86.UC_X86_REG_RAX),
    ("rbx", x86.UC_X86_REG_RBX),
    ("rcx", x86.UC_X86_REG_RCX),
    ("rdx", x86.UC_X86_REG_RDX),
    ("rsi", x86.UC_X86_REG_RSI),
    ("rdi", x86.UC_X86_REG_RDI),
    ("rbp", x86.UC_X86_REG_RBP),
    ("rsp", x86.UC_X86_REG_RSP),
    ("r8", x86.UC_X86_REG_R8),
    ("r9", x86.UC_X86_REG_R9),
    ("r10", x86.UC_X86_REG_R10),
    ("r11", x86.UC_X86_REG_R11),
    ("r12", x86.UC_X86_REG_R12),
    ("r13", x86.UC_X86_REG_R13),
    ("r14", x86.UC_X86_REG_R14),
    ("r15", x86.UC_X86_REG_R15),
    ("rip", x86.UC_X86_REG_RIP),
    ("rflags", x86.UC_X86_REG_RFLAGS),
    # Selectors before the bases: loading a selector resets its segment's base.
    ("ds", x86.UC_X86_REG_DS),
    ("es", x86.UC_X86_REG_ES),
    ("fs", x86.UC_X86_REG_FS),
    ("gs", x86.UC_X86_REG_GS),
    ("ss", x86.UC_X86_REG_SS),
    ("fs_base", x86.UC_X86_REG_FS_BASE),
    ("gs_base", x86.UC_X86_REG_GS_BASE),
    ("mxcsr", x86.UC_X86_REG_MXCSR),
    ("fpcw", x86.UC_X86_REG_FPCW),
    ("fpsw", x86.UC_X86_REG_FPSW),
    ("fip", x86.UC_X86_REG_FIP),
    ("fcs", x86.UC_X86_REG_FCS),
    ("fdp", x86.UC_X86_REG_FDP),
    ("fds", x86.UC_X86_REG_FDS),
    ("fop", x86.UC_X86_REG_FOP),
)
X87: tuple[tuple[str, int], ...] = tuple(
    (f"fp{i}", getattr(x86, f"UC_X86_REG_FP{i}")) for i in range(8)
)
"""The physical x87 registers (ST(i) is FP((TOP + i) mod 8), TOP is in fpsw)."""
# The tag word after the registers: unicorn keeps only "empty or not" per
# register and derives the rest of the tag from the register's value.
TAG: tuple[tuple[str, int], ...] = (("fptag", x86.UC_X86_REG_FPTAG),)
VECTOR: tuple[tuple[str, int], ...] = tuple(
    (f"xmm{i}", getattr(x86, f"UC_X86_REG_XMM{i}")) for i in range(16)
)
ALL: tuple[tuple[str, int], ...] = GENERAL_PURPOSE + X87 + TAG + VECTOR
_X87_IDS = frozenset(const for _, const in X87)
_MANTISSA_BITS = 64
_MANTISSA_MASK = (1 << _MANTISSA_BITS) - 1

Registers = dict[str, int]


def initial_registers(rip: int, rsp: int, **others: int) -> Registers:
    """A fresh thread: everything zero except what the caller sets.

    rflags bit 1 is architecturally always set; the FPU and SSE state is
    what FNINIT and a reset leave (control word 0x37F, every x87 register
    empty, MXCSR 0x1F80), so a new thread inherits nothing from the thread
    that ran on the CPU before it.
    """
    regs: Registers = {name: 0 for name, _ in ALL}
    regs.update(rip=rip, rsp=rsp, rflags=0x202, mxcsr=0x1F80, fpcw=0x37F, fptag=0xFFFF)
    regs.update(others)
    return regs


def read_registers(uc: Uc) -> Registers:
    """Every register of the state above, as one integer each."""
    return {name: _read(uc, const) for name, const in ALL}


def write_registers(uc: Uc, regs: Mapping[str, int]) -> None:
    """Put a complete register state (as `read_registers` returns it) into the CPU."""
    missing = [name for name, _ in ALL if name not in regs]
    if missing:
        raise ValueError(f"register state lacks {', '.join(missing)}")
    for name, const in ALL:
        _write(uc, const, regs[name])


def _read(uc: Uc, const: int) -> int:
    value = uc.reg_read(const)
    if const in _X87_IDS:
        mantissa, exponent = value
        return int(mantissa) | int(exponent) << _MANTISSA_BITS
    return int(value)


def _write(uc: Uc, const: int, value: int) -> None:
    if const in _X87_IDS:
        uc.reg_write(const, (value & _MANTISSA_MASK, value >> _MANTISSA_BITS))
    else:
        uc.reg_write(const, value)


class FastRegisters:
    """Raw 64-bit register access for the hot paths (system calls, faults).

    unicorn's Python `reg_read` decodes every register kind generically and
    costs microseconds; the system-call path reads seven registers per call.
    These go straight to `uc_reg_read_batch` / `uc_reg_write`.
    """

    def __init__(self, uc: Uc, batch: Sequence[int]) -> None:
        self._handle = uc._uch
        self._count = len(batch)
        self._ids = (ctypes.c_int * self._count)(*batch)
        self._values = (ctypes.c_uint64 * self._count)()
        base = ctypes.addressof(self._values)
        self._pointers = (ctypes.c_void_p * self._count)(*(base + 8 * i
                                                            for i in range(self._count)))
        self._one = ctypes.c_uint64()

    def read_batch(self) -> list[int]:
        """The registers named at construction, in that order."""
        if _uclib.uc_reg_read_batch(self._handle, self._ids, self._pointers, self._count):
            raise RuntimeError("uc_reg_read_batch failed")
        return list(self._values)

    def read(self, register: int) -> int:
        if _uclib.uc_reg_read(self._handle, register, ctypes.byref(self._one)):
            raise RuntimeError(f"uc_reg_read({register}) failed")
        return self._one.value

    def write(self, register: int, value: int) -> None:
        self._one.value = value & 0xFFFF_FFFF_FFFF_FFFF
        if _uclib.uc_reg_write(self._handle, register, ctypes.byref(self._one)):
            raise RuntimeError(f"uc_reg_write({register}) failed")
