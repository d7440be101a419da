"""The CPU model: what CPUID offers is what runs, and nothing hands the guest host randomness."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rtcr.machine import Machine, Status

CompileC = Callable[[str, str], Path]

_CPUID = r"""
#include <rtcr.h>
int main(void)
{
	unsigned int a = 1, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	rtcr_printf("%x\n", c);
	return 0;
}
"""

_RDRAND = r"""
#include <rtcr.h>
int main(void)
{
	unsigned long value;
	__asm__ volatile("rdrand %0" : "=r"(value));
	rtcr_printf("%lx\n", value);
	return 0;
}
"""
_AVX = 1 << 28
_RDRAND_BIT = 1 << 30


def _run(elf: Path) -> tuple[Machine, list[str]]:
    lines: list[str] = []
    machine = Machine(log_sink=lambda _c, line: lines.append(line))
    machine.load(elf)
    assert machine.run().status is Status.FINISHED
    return machine, lines


def test_cpuid_offers_neither_avx_nor_rdrand(compile_c: CompileC) -> None:
    _, lines = _run(compile_c("cpuid_leaf1", _CPUID))
    assert int(lines[0], 16) & (_AVX | _RDRAND_BIT) == 0


def test_rdrand_is_an_invalid_instruction(compile_c: CompileC) -> None:
    machine, lines = _run(compile_c("rdrand", _RDRAND))
    assert lines == []
    [component] = machine.components
    assert component.crash is not None and "invalid instruction" in component.crash
    assert "rdrand" in component.crash
