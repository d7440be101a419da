"""Code coherence: a write to a physical frame invalidates the code translated from it.

As on x86, whatever wrote the frame -- a guest store through another
mapping, a store through the executing mapping itself, the kernel's
copy-out -- the next call of the code runs the new instructions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rtcr.core import host_write
from rtcr.machine import Machine, Status

CompileC = Callable[[str, str], Path]

# A function `mov eax, IMM; ret` written into fresh RAM, called, rewritten, called again.
_REWRITER = r"""
#include <rtcr.h>

static void emit(volatile unsigned char *at, unsigned int value)
{
	at[0] = 0xb8;                      /* mov eax, imm32 */
	for (int i = 0; i < 4; i++)
		at[1 + i] = (unsigned char)(value >> (8 * i));
	at[5] = 0xc3;                      /* ret */
}

int main(void)
{
	long ds = rtcr_ram_alloc(RTCR_PAGE_SIZE);
	long w = rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, FLAGS_W);
	long x = SAME ? w : rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, RTCR_X);
	if (ds < 0 || w < 0 || x < 0)
		return 1;
	unsigned int (*fn)(void) = (unsigned int (*)(void))x;
	rtcr_printf("code at %lx\n", w);
	for (unsigned int round = 1; round <= ROUNDS; round++) {
		if (WRITE(round))
			emit((volatile unsigned char *)w, round * 11);
		rtcr_printf("got %u\n", fn());
		rtcr_yield();
	}
	return 0;
}
"""


def _rewriter(compile_c: CompileC, name: str, *, same: bool, write: str = "1",
              rounds: int = 5) -> Path:
    """The rewriter; `write` is the C condition on `round` under which it writes the code."""
    flags = "RTCR_W | RTCR_X" if same else "RTCR_W"
    source = (f"#define FLAGS_W ({flags})\n#define SAME {int(same)}\n"
              f"#define WRITE(round) ({write})\n#define ROUNDS {rounds}\n") + _REWRITER
    return compile_c(name, source)


def _run(elf: Path) -> list[str]:
    lines: list[str] = []
    machine = Machine(log_sink=lambda _c, line: lines.append(line))
    machine.load(elf)
    assert machine.run().status is Status.FINISHED
    return lines


def test_code_written_through_a_writable_mapping_runs_through_the_executable_one(
        compile_c: CompileC) -> None:
    lines = _run(_rewriter(compile_c, "wx_rewriter", same=False))
    assert lines[1:] == [f"got {round_ * 11}" for round_ in range(1, 6)]


def test_code_rewritten_through_its_own_writable_executable_mapping_runs_new(
        compile_c: CompileC) -> None:
    lines = _run(_rewriter(compile_c, "rwx_rewriter", same=True))
    assert lines[1:] == [f"got {round_ * 11}" for round_ in range(1, 6)]


def test_code_the_kernel_writes_runs_new(compile_c: CompileC) -> None:
    """The kernel's copy-out (the pager's host write) into code that ran before."""
    elf = _rewriter(compile_c, "host_rewritten", same=False, write="round == 1", rounds=2)
    lines: list[str] = []
    machine = Machine(log_sink=lambda _c, line: lines.append(line))
    component = machine.load(elf)
    assert machine.run(should_pause=lambda: len(lines) == 2).status is Status.PAUSED
    assert lines[1] == "got 11"
    code = int(lines[0].split()[-1], 16)
    host_write(component.pd.address_space, code, bytes([0xB8, 7, 0, 0, 0, 0xC3]))
    assert machine.run().status is Status.FINISHED
    assert lines[2:] == ["got 7"]
