"""How a run that cannot finish ends: deadlock (125), crash (139), instruction limit (124)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from machine_support import assert_no_traceback, run_api, run_cli, run_cli_summary, stderr_lines

from rtcr.checkpoint import EXIT_CRASH, EXIT_DEADLOCK, EXIT_LIMIT
from rtcr.machine import Status

CompileC = Callable[[str, str], Path]

DEADLOCK = r"""
#include <rtcr.h>

static void waiter(void *arg)
{
	(void)arg;
	rtcr_signal_wait();   /* nobody ever submits */
	rtcr_printf("waiter woke\n");
}

int main(void)
{
	rtcr_signal_context();
	long t = rtcr_thread_create(waiter, 0, 0);
	rtcr_printf("waiter is thread %ld\n", t);
	rtcr_thread_join(t);
	rtcr_printf("joined\n");
	return 0;
}
"""

CRASH = r"""
#include <rtcr.h>
extern char crash_site[];
int main(void)
{
	rtcr_printf("site 0x%lx\n", (unsigned long)crash_site);
	__asm__ volatile(CRASH_ASM ::: "rax", "rcx", "rdx", "memory");
	rtcr_printf("still alive\n");
	return 0;
}
"""
CRASHES = {
    "ud2": ("ud2", "invalid instruction"),
    "avx": ("vaddps %%ymm1, %%ymm2, %%ymm0", "(vaddps ymm0, ymm2, ymm1): the CPU model has no AVX"),
    "int3": ("int3", "int3"),
    "hlt": ("hlt", "hlt"),
    "int80": ("int $0x80", "interrupt 128"),
    "div0": ("xor %%ecx, %%ecx\\n.globl crash_site\\ncrash_site: div %%rcx", "divide"),
}

LOOP = r"""
#include <rtcr.h>
int main(void)
{
	rtcr_printf("looping\n");
	for (;;)
		__asm__ volatile("");
}
"""

ILLEGAL_WRITE = r"""
#include <rtcr.h>
int main(void)
{
	long ds = rtcr_ram_alloc(RTCR_PAGE_SIZE);
	long at = rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, 0 /* read-only */);
	volatile unsigned char *p = (volatile unsigned char *)at;
	rtcr_printf("attached read-only at 0x%lx, reads %d\n", at, p[0x10]);
	p[0x10] = 1;
	rtcr_printf("the write went through\n");
	return 0;
}
"""


def _crash_source(kind: str) -> str:
    asm = CRASHES[kind][0]
    if "crash_site" not in asm:
        asm = f".globl crash_site\\ncrash_site: {asm}"
    return f'#define CRASH_ASM "{asm}"\n' + CRASH


def _site(first_line: str) -> int:
    match = re.fullmatch(r"(?:\[\w+\] )?site 0x([0-9a-f]+)", first_line)
    assert match, first_line
    return int(match[1], 16)


# -- deadlock -----------------------------------------------------------------------

def test_deadlock_names_every_blocked_thread_and_what_it_waits_for(compile_c: CompileC) -> None:
    run = run_api(compile_c("deadlock", DEADLOCK))
    assert run.lines == ["waiter is thread 2"]
    assert run.result.status is Status.DEADLOCK
    assert run.result.blocked == ("thread 1 (main) of deadlock: joining thread 2",
                                  "thread 2 (thread2) of deadlock: waiting for a signal")
    assert all(text in run.result.diagnostic for text in run.result.blocked)


def test_deadlock_exits_125_with_one_stderr_line(compile_c: CompileC) -> None:
    proc = run_cli("run", compile_c("deadlock", DEADLOCK))
    assert_no_traceback(proc)
    assert proc.returncode == EXIT_DEADLOCK == 125
    assert proc.stdout.splitlines() == ["[deadlock] waiter is thread 2"]
    [line] = stderr_lines(proc)
    assert "deadlock" in line
    assert "thread 1 (main) of deadlock: joining thread 2" in line
    assert "thread 2 (thread2) of deadlock: waiting for a signal" in line


# -- crashes --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(CRASHES))
def test_crash_names_the_instruction_and_its_address(kind: str, compile_c: CompileC) -> None:
    run = run_api(compile_c(f"crash_{kind}", _crash_source(kind)))
    assert run.result.status is Status.FINISHED
    assert run.component.exit_code == EXIT_CRASH == 139
    assert len(run.lines) == 1  # never "still alive"
    site = _site(run.lines[0])
    crash = run.component.crash
    assert crash is not None
    assert CRASHES[kind][1] in crash
    assert f"at {site:#x}" in crash, crash
    assert "thread 1 (main)" in crash


def test_only_avx_code_is_blamed_on_the_cpu_model_lacking_avx(compile_c: CompileC) -> None:
    crash = run_api(compile_c("crash_ud2", _crash_source("ud2"))).component.crash
    assert crash is not None and "invalid instruction" in crash and "AVX" not in crash


@pytest.mark.parametrize("kind", ["ud2", "int3"])
def test_crash_exits_139_with_one_stderr_line(kind: str, compile_c: CompileC) -> None:
    proc = run_cli("run", compile_c(f"crash_{kind}", _crash_source(kind)))
    assert_no_traceback(proc)
    assert proc.returncode == 139
    site = _site(proc.stdout.splitlines()[0])
    [line] = stderr_lines(proc)
    assert f"at {site:#x}" in line


def test_crash_in_one_thread_ends_the_whole_component(compile_c: CompileC) -> None:
    source = r"""
#include <rtcr.h>
static volatile int spin = 1;
static void bad(void *arg) { (void)arg; __asm__ volatile("ud2"); }
int main(void)
{
	rtcr_thread_join(rtcr_thread_create(bad, 0, 0));
	rtcr_printf("main survived\n");
	return 0;
}
"""
    run = run_api(compile_c("crash_thread", source))
    assert run.lines == []
    assert run.component.exit_code == 139
    assert run.component.crash is not None
    assert "thread 2" in run.component.crash


# -- instruction limit --------------------------------------------------------------

def test_infinite_loop_stops_at_max_instructions_via_api(compile_c: CompileC) -> None:
    run = run_api(compile_c("loop", LOOP), max_instructions=5_000_000)
    assert run.result.status is Status.LIMIT
    assert 5_000_000 <= run.result.instructions < 5_000_000 + 64
    assert run.component.exit_code is None


def test_infinite_loop_is_stopped_by_max_instructions_with_status_124(
        compile_c: CompileC, tmp_path: Path) -> None:
    proc, summary = run_cli_summary(compile_c("loop", LOOP), tmp_path,
                                    "--max-instructions", "5M")
    assert_no_traceback(proc)
    assert proc.returncode == EXIT_LIMIT == 124
    assert proc.stdout.splitlines() == ["[loop] looping"]
    assert summary["exit_code"] == 124
    instructions = summary["instructions"]
    assert isinstance(instructions, int)
    assert 5_000_000 <= instructions < 5_000_000 + 64
    [line] = stderr_lines(proc)
    assert "max-instructions" in line


# -- illegal access without a fault handler ------------------------------------------

def _illegal_address(first_line: str) -> int:
    """The address of the write: byte 0x10 of the read-only page (decoded, not the page)."""
    match = re.search(r"attached read-only at 0x([0-9a-f]+), reads 0$", first_line)
    assert match, first_line
    return int(match[1], 16) + 0x10


_REPORT = re.compile(r"illegal_write: WRITE violation at address (0x[0-9a-f]+) "
                     r"by thread main ip=(0x[0-9a-f]+)")


def test_write_to_read_only_page_without_handler_is_reported_at_its_exact_byte(
        compile_c: CompileC, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        run = run_api(compile_c("illegal_write", ILLEGAL_WRITE))
    assert len(run.lines) == 1
    reports = [r.getMessage() for r in caplog.records
               if r.name == "rtcr.core" and _REPORT.fullmatch(r.getMessage())]
    assert len(reports) == 1
    match = _REPORT.fullmatch(reports[0])
    assert match is not None
    assert int(match[1], 16) == _illegal_address(run.lines[0])


def test_write_to_read_only_page_without_handler_ends_as_a_crash(compile_c: CompileC) -> None:
    run = run_api(compile_c("illegal_write", ILLEGAL_WRITE))
    address = _illegal_address(run.lines[0])
    assert run.result.status is Status.FINISHED
    assert run.component.exit_code == 139
    assert run.component.crash is not None
    assert f"WRITE violation at address {address:#x} by thread main" in run.component.crash


def test_write_to_read_only_page_without_handler_via_cli(compile_c: CompileC) -> None:
    proc = run_cli("run", compile_c("illegal_write", ILLEGAL_WRITE))
    assert_no_traceback(proc)
    assert proc.returncode == 139
    assert len(proc.stdout.splitlines()) == 1
    address = _illegal_address(proc.stdout.splitlines()[0])
    lines = stderr_lines(proc)
    assert any(f"WRITE violation at address {address:#x} by thread main ip=0x" in line
               for line in lines), lines


NULL_READ = r"""
#include <rtcr.h>
int main(void)
{
	volatile long *p = (volatile long *)0;
	rtcr_printf("reading NULL\n");
	return (int)p[0];
}
"""


def test_null_dereference_is_an_illegal_read_at_address_0(compile_c: CompileC) -> None:
    run = run_api(compile_c("null_read", NULL_READ))
    assert run.lines == ["reading NULL"]
    assert run.component.exit_code == 139
    assert run.component.crash is not None
    assert re.search(r"illegal READ at address 0x0 by thread main ip=0x[0-9a-f]+$",
                     run.component.crash), run.component.crash


STACK_OVERFLOW = r"""
#include <rtcr.h>
static long deep(long n)
{
	volatile char frame[1024];
	frame[0] = (char)n;
	return deep(n + 1) + frame[0];
}
int main(void)
{
	rtcr_printf("recursing\n");
	return (int)deep(0);
}
"""


def test_stack_overflow_report_names_the_stack_bounds(compile_c: CompileC) -> None:
    run = run_api(compile_c("overflow", STACK_OVERFLOW))
    main = run.component.threads[1]
    assert main.stack is not None
    start, size = main.stack
    assert run.component.exit_code == 139
    assert run.component.crash is not None
    assert (f"(stack overflow: the stack of thread main is [{start:#x}, {start + size:#x}))"
            in run.component.crash), run.component.crash
    assert "illegal WRITE at address" in run.component.crash


QUOTA = r"""
#include <rtcr.h>
int main(void)
{
	long ds = rtcr_ram_alloc(64UL << 20);
	rtcr_printf("alloc: %ld\n", ds);
	long at = rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, RTCR_W);
	volatile long *p = (volatile long *)at;
	return (int)p[0];   /* the error code ignored: a NULL-page access */
}
"""


def test_crash_after_an_ignored_refused_allocation_names_it(compile_c: CompileC) -> None:
    run = run_api(compile_c("greedy", QUOTA))
    assert run.lines == ["alloc: -4"]
    assert run.component.exit_code == 139
    assert run.component.crash is not None
    assert re.search(r"; before that: greedy: RAM quota exceeded: 64 MiB asked, "
                     r"[0-9.]+ MiB left of 16 MiB \(--ram raises the quota\)$",
                     run.component.crash), run.component.crash


OWN_CODE_WRITE = r"""
#include <rtcr.h>
int main(void)
{
	volatile unsigned char *code = (volatile unsigned char *)main;
	rtcr_printf("main at %lx\n", (unsigned long)main);
	code[5] = 0x90;
	return 0;
}
"""


def test_a_write_to_the_programs_own_code_is_a_write_violation_at_its_exact_byte(
        compile_c: CompileC) -> None:
    run = run_api(compile_c("own_code", OWN_CODE_WRITE))
    main = int(run.lines[0].split()[-1], 16)
    assert run.component.exit_code == 139
    assert run.component.crash is not None
    assert re.search(rf"WRITE violation at address {main + 5:#x} by thread main ip=0x[0-9a-f]+$",
                     run.component.crash), run.component.crash
