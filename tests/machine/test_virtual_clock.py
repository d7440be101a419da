"""rdtsc and rdtscp read the machine's virtual time, never the host's.

One tick per guest instruction retired before the reading one, plus the
virtual time that passed while every thread slept -- so the counter is as
deterministic as the instruction count, and restored with it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rtcr.machine import Machine, Status

CompileC = Callable[[str, str], Path]

_READER = r"""
#include <rtcr.h>

int main(void)
{
	unsigned long first, second, third;
	unsigned int lo, hi, lo2, hi2, aux;
	__asm__ volatile("rdtsc\n\tmov %%eax, %%esi\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\t"
		"mov %%edx, %%edi\n\trdtsc"
		: "=a"(lo2), "=d"(hi2), "=S"(lo), "=D"(hi));
	first = ((unsigned long)hi << 32) | lo;
	second = ((unsigned long)hi2 << 32) | lo2;
	rtcr_sleep_us(1000);
	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	third = ((unsigned long)hi << 32) | lo;
	rtcr_printf("%lu %lu %lu %u\n", first, second, third, aux);
	return 0;
}
"""


def _readings(compile_c: CompileC) -> tuple[int, ...]:
    lines: list[str] = []
    machine = Machine(log_sink=lambda _c, line: lines.append(line))
    machine.load(compile_c("tsc_reader", _READER))
    assert machine.run().status is Status.FINISHED
    return tuple(int(word) for word in lines[0].split())


def test_the_tsc_advances_one_tick_per_instruction(compile_c: CompileC) -> None:
    first, second, _, _ = _readings(compile_c)
    assert second - first == 8  # rdtsc, mov, five nops, mov


def test_the_tsc_advances_by_the_virtual_time_slept(compile_c: CompileC) -> None:
    _, second, third, _ = _readings(compile_c)
    assert third - second >= 1_000_000


def test_the_tsc_reads_the_same_in_every_run(compile_c: CompileC) -> None:
    assert _readings(compile_c) == _readings(compile_c)


def test_rdtscp_names_processor_zero(compile_c: CompileC) -> None:
    assert _readings(compile_c)[3] == 0
