"""A thread's architectural register state as plain, portable values.

unicorn's own context objects carry its internal layout; checkpoints store
these named integers instead, so that an image outlives a unicorn upgrade.
"""

from __future__ import annotations

import ctypes
from collections.abc import Mapping, Sequence
from typing import Any

from unicorn import Uc
from unicorn import x86_const as x86
from unicorn.unicorn_py3 import unicorn as _ucmod

_uclib: Any = _ucmod.uclib

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
    ("fs_base", x86.UC_X86_REG_FS_BASE),
    ("gs_base", x86.UC_X86_REG_GS_BASE),
    ("mxcsr", x86.UC_X86_REG_MXCSR),
    ("fpcw", x86.UC_X86_REG_FPCW),
)
VECTOR: tuple[tuple[str, int], ...] = tuple(
    (f"xmm{i}", getattr(x86, f"UC_X86_REG_XMM{i}")) for i in range(16)
)
ALL: tuple[tuple[str, int], ...] = GENERAL_PURPOSE + VECTOR

Registers = dict[str, int]


def initial_registers(rip: int, rsp: int, **others: int) -> Registers:
    """A fresh thread: everything zero except what the caller sets.

    rflags bit 1 is architecturally always set; mxcsr and fpcw get their
    reset values so that SSE and x87 code behave as on a real CPU.
    """
    regs: Registers = {name: 0 for name, _ in ALL}
    regs.update(rip=rip, rsp=rsp, rflags=0x202, mxcsr=0x1F80, fpcw=0x37F)
    regs.update(others)
    return regs


def read_registers(uc: Uc) -> Registers:
    return {name: int(uc.reg_read(const)) for name, const in ALL}


def write_registers(uc: Uc, regs: Mapping[str, int]) -> None:
    for name, const in ALL:
        uc.reg_write(const, regs[name])


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
