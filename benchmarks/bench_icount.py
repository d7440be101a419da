"""Instruction-counting overhead: bare unicorn vs count= vs block-hook counters.

Usage: .venv/bin/python benchmarks/bench_icount.py [--millions N] [--repeat R]

Prints guest MIPS for a tight arithmetic loop and a memory-touching loop
(load/add/store walking 256 KiB), for
  * bare unicorn, no hooks (one emu_start to the end),
  * unicorn's count= in 100k-instruction quanta,
  * the C block-hook counter (InstructionCounter.run with 100k limits),
  * the same in virtual-TLB mode with an identity TLB-fill hook (Python),
  * the pure-Python block-hook fallback,
each also as a ratio to bare in the same run.
"""

from __future__ import annotations

import argparse
import struct
import time
from collections.abc import Callable
from typing import Any

from unicorn import (
    UC_ARCH_X86,
    UC_HOOK_TLB_FILL,
    UC_MODE_64,
    UC_PROT_ALL,
    UC_TLB_VIRTUAL,
    Uc,
)
from unicorn import x86_const as x86

from rtcr.machine.icount import InstructionCounter, StopReason

CODE = 0x10_0000
DATA = 0x20_0000
MEM = 0x10_0000 + 0x40_0000
QUANTUM = 100_000


def _loop(setup: bytes, body: bytes, iterations: int) -> tuple[bytes, int]:
    """setup; rcx = iterations; loop: body; dec rcx; jnz loop; hlt -> (code, instructions)."""
    mov_rcx = b"\x48\xc7\xc1" + struct.pack("<i", iterations)
    loop = body + b"\x48\xff\xc9"  # dec rcx
    rel = -(len(loop) + 2)
    assert rel >= -128
    code = setup + mov_rcx + loop + b"\x75" + struct.pack("<b", rel) + b"\xf4"
    return code, setup.count(b"\x48") + 1 + iterations * (_insns(body) + 2) + 1


def _insns(body: bytes) -> int:
    return body.count(b"\x48")  # every instruction below carries one REX.W prefix


def tight(iterations: int) -> tuple[bytes, int]:
    body = b"\x48\x83\xc0\x01" + b"\x48\x01\xc3"  # add rax, 1; add rbx, rax
    return _loop(b"", body, iterations)


def memory(iterations: int) -> tuple[bytes, int]:
    setup = b"\x48\xc7\xc7" + struct.pack("<i", DATA) + b"\x48\x31\xf6"  # mov rdi, DATA; xor rsi
    body = (
        b"\x48\x8b\x04\x37"  # mov rax, [rdi+rsi]
        b"\x48\x01\xc8"  # add rax, rcx
        b"\x48\x89\x04\x37"  # mov [rdi+rsi], rax
        b"\x48\x83\xc6\x40"  # add rsi, 64
        b"\x48\x81\xe6\xff\xff\x03\x00"  # and rsi, 0x3ffff
    )
    return _loop(setup, body, iterations)


def make(code: bytes, tlb: bool) -> Uc:
    uc = Uc(UC_ARCH_X86, UC_MODE_64)
    if tlb:
        uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)

        def fill(uc: Uc, vaddr: int, access: int, entry: Any, _ud: object) -> bool:
            entry.paddr = vaddr & ~0xFFF
            entry.perms = UC_PROT_ALL
            return True

        uc.hook_add(UC_HOOK_TLB_FILL, fill)
    uc.mem_map(CODE, MEM)
    uc.mem_write(CODE, code)
    return uc


def run_bare(code: bytes, expected: int, tlb: bool = False) -> float:
    uc = make(code, tlb)
    t = time.perf_counter()
    uc.emu_start(CODE, 0)
    dt = time.perf_counter() - t
    assert uc.reg_read(x86.UC_X86_REG_RIP) == CODE + len(code)
    return dt


def run_count(code: bytes, expected: int) -> float:
    uc = make(code, False)
    end = CODE + len(code)
    pc = CODE
    t = time.perf_counter()
    while pc != end:
        uc.emu_start(pc, 0, count=QUANTUM)
        pc = uc.reg_read(x86.UC_X86_REG_RIP)
    return time.perf_counter() - t


def run_counter(backend: str, tlb: bool = False) -> Callable[[bytes, int], float]:
    def run(code: bytes, expected: int) -> float:
        uc = make(code, tlb)
        ic = InstructionCounter(uc, backend=backend)  # type: ignore[arg-type]
        pc = CODE
        t = time.perf_counter()
        while True:
            reason = ic.run(pc, ic.instructions + QUANTUM)
            if reason is StopReason.HALTED:
                break
            pc = uc.reg_read(x86.UC_X86_REG_RIP)
        dt = time.perf_counter() - t
        assert ic.instructions == expected, (ic.instructions, expected)
        return dt

    return run


def best(fn: Callable[[bytes, int], float], code: bytes, n: int, repeat: int) -> float:
    return min(fn(code, n) for _ in range(repeat))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--millions", type=float, default=40.0, help="guest instructions per run")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    big = int(args.millions * 1e6)
    methods: list[tuple[str, Callable[[bytes, int], float], int]] = [
        ("bare unicorn (no hooks)", run_bare, big),
        (f"emu_start count={QUANTUM:,}", run_count, big),
        (f"C block hook, {QUANTUM:,} limits", run_counter("c"), big),
        ("C block hook, virtual TLB", run_counter("c", tlb=True), big),
        ("Python block hook (fallback)", run_counter("python"), big // 20),
    ]
    workloads = [("tight loop", tight, 4), ("memory loop", memory, 7)]
    print(f"{'method':34} {'workload':12} {'MIPS':>8} {'vs bare':>8}")
    for wname, build, per_iter in workloads:
        bare_mips = 0.0
        for mname, fn, insns in methods:
            code, n = build(insns // per_iter)
            dt = best(fn, code, n, args.repeat)
            mips = n / dt / 1e6
            if fn is run_bare:
                bare_mips = mips
            print(f"{mname:34} {wname:12} {mips:8.1f} {mips / bare_mips:8.2f}")


if __name__ == "__main__":
    main()
