"""A minimal, single-threaded runner for SDK tests (not the rtcr machine).

It maps an ELF's segments flat into unicorn, gives the main thread a stack
the way the machine does (rsp 16-byte aligned, all other registers zero)
and serves the few system calls single-threaded components use: EXIT, LOG,
RAM_ALLOC, ATTACH into the address space (fresh, private memory per
attach), TIME_US, SLEEP_US, YIELD, RAM_AVAIL, CAPS_AVAIL.  Anything else
ends the run with an error.  It exists so that the SDK's crt0, printf and
the compute examples can be checked end to end before the real machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from unicorn import UC_ARCH_X86, UC_HOOK_INSN, UC_MODE_64, UC_PROT_ALL, Uc
from unicorn.x86_const import (
    UC_X86_INS_SYSCALL,
    UC_X86_REG_R8,
    UC_X86_REG_R9,
    UC_X86_REG_R10,
    UC_X86_REG_RAX,
    UC_X86_REG_RDI,
    UC_X86_REG_RDX,
    UC_X86_REG_RIP,
    UC_X86_REG_RSI,
    UC_X86_REG_RSP,
)

from rtcr.abi import Errno, Syscall
from rtcr.machine.elf import load_elf

STACK_TOP = 0x7FFF0000
STACK_SIZE = 1 << 20
HEAP_BASE = 0x10000000
PAGE = 0x1000


@dataclass
class RunResult:
    exit_code: int | None
    lines: list[str] = field(default_factory=list)
    instructions: int = 0
    error: str | None = None


def run(path: Path, max_instructions: int = 500_000_000) -> RunResult:
    image = load_elf(path)
    uc = Uc(UC_ARCH_X86, UC_MODE_64)
    for seg in image.segments:
        uc.mem_map(seg.vaddr, seg.size, UC_PROT_ALL)
        uc.mem_write(seg.vaddr + seg.data_offset, seg.data)
    uc.mem_map(STACK_TOP - STACK_SIZE, STACK_SIZE, UC_PROT_ALL)
    uc.reg_write(UC_X86_REG_RSP, STACK_TOP)

    result = RunResult(exit_code=None)
    ds_sizes: dict[int, int] = {}
    next_cap = [2]
    heap = [HEAP_BASE]
    clock = [0]

    def syscall(uc: Uc, _user: object) -> None:
        n = uc.reg_read(UC_X86_REG_RAX)
        a = [
            uc.reg_read(r)
            for r in (
                UC_X86_REG_RDI,
                UC_X86_REG_RSI,
                UC_X86_REG_RDX,
                UC_X86_REG_R10,
                UC_X86_REG_R8,
                UC_X86_REG_R9,
            )
        ]
        ret = 0
        if n == Syscall.EXIT:
            result.exit_code = a[0] & 0xFFFFFFFF
            if result.exit_code >= 1 << 31:
                result.exit_code -= 1 << 32
            uc.emu_stop()
        elif n == Syscall.LOG:
            result.lines.append(bytes(uc.mem_read(a[0], a[1])).decode("utf-8", "replace"))
        elif n == Syscall.RAM_ALLOC:
            size = (a[0] + PAGE - 1) & ~(PAGE - 1)
            if size == 0:
                ret = -Errno.EDENIED
            else:
                ret = next_cap[0]
                ds_sizes[ret] = size
                next_cap[0] += 1
        elif n == Syscall.ATTACH:
            if a[0] != 1 or a[1] not in ds_sizes:
                ret = -Errno.ECAP
            else:
                size = ds_sizes[a[1]]
                ret = heap[0]
                uc.mem_map(ret, size, UC_PROT_ALL)
                heap[0] += size + PAGE
        elif n in (Syscall.TIME_US,):
            ret = clock[0]
        elif n == Syscall.SLEEP_US:
            clock[0] += a[0]
        elif n == Syscall.ROM_OPEN:  # no ROM modules here: crt0 finds no inputs
            ret = -Errno.EDENIED
        elif n in (Syscall.YIELD, Syscall.RAM_AVAIL, Syscall.CAPS_AVAIL):
            ret = 1 << 20 if n != Syscall.YIELD else 0
        else:
            result.error = f"unsupported syscall {n}"
            uc.emu_stop()
        uc.reg_write(UC_X86_REG_RAX, ret & 0xFFFFFFFFFFFFFFFF)

    uc.hook_add(UC_HOOK_INSN, syscall, None, 1, 0, UC_X86_INS_SYSCALL)
    try:
        uc.emu_start(image.entry, 0, count=max_instructions)
    except Exception as exc:  # unicorn errors
        result.error = f"{exc} at rip {uc.reg_read(UC_X86_REG_RIP):#x}"
    return result
