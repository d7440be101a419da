"""Threads: create / join / exit, the thread limit, virtual-time sleep, deterministic yield."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from machine_support import ApiRun, run_api

from rtcr.abi import Errno
from rtcr.machine import Status, ThreadState
from rtcr.machine.syscalls import MAX_THREADS

CompileC = Callable[[str, str], Path]

LIFECYCLE = r"""
#include <rtcr.h>

static volatile long result[4];

static void worker(void *arg)
{
	long i = (long)arg;
	result[i] = 10 * i;
	if (i == 2) {
		rtcr_thread_exit();          /* explicit exit */
		result[i] = -1;              /* never reached */
	}
	/* workers 1 and 3 return from their entry function */
}

int main(void)
{
	long tid[4];
	for (long i = 1; i <= 3; i++)
		tid[i] = rtcr_thread_create(worker, (void *)i, 0);
	rtcr_printf("created %ld %ld %ld\n", tid[1], tid[2], tid[3]);
	for (long i = 1; i <= 3; i++) {
		long r = rtcr_thread_join(tid[i]);
		rtcr_printf("join %ld = %ld, result %ld\n", tid[i], r, result[i]);
	}
	rtcr_printf("join again = %ld\n", rtcr_thread_join(tid[1]));
	rtcr_printf("join self = %ld\n", rtcr_thread_join(1));
	rtcr_printf("join unknown = %ld\n", rtcr_thread_join(999));
	return 0;
}
"""

LIMIT = r"""
#include <rtcr.h>

#define MAX 100
static volatile int release[MAX];

static void parked(void *arg)
{
	long i = (long)arg;
	while (!release[i])
		rtcr_yield();
}

int main(void)
{
	long tid[MAX];
	long n = 0, err = 0;
	while (n < MAX) {
		long t = rtcr_thread_create(parked, (void *)n, 16384);
		if (t < 0) {
			err = t;
			break;
		}
		tid[n++] = t;
	}
	rtcr_printf("created %ld threads, then %ld\n", n, err);
	release[0] = 1;
	rtcr_printf("joined one: %ld\n", rtcr_thread_join(tid[0]));
	long again = rtcr_thread_create(parked, (void *)(MAX - 1), 16384);
	rtcr_printf("create after an exit: %s\n", again > 0 ? "ok" : "failed");
	rtcr_printf("create beyond the limit again: %ld\n",
		rtcr_thread_create(parked, (void *)0, 16384));
	rtcr_exit(0);
}
"""

SLEEP = r"""
#include <rtcr.h>

static void sleeper(void *arg)
{
	unsigned long us = (unsigned long)arg;
	unsigned long t0 = rtcr_time_us();
	rtcr_sleep_us(us);
	rtcr_printf("slept %lu: from %lu to %lu\n", us, t0, rtcr_time_us());
}

int main(void)
{
	unsigned long t0 = rtcr_time_us();
	rtcr_sleep_us(1000);
	unsigned long t1 = rtcr_time_us();
	rtcr_sleep_us(250);
	unsigned long t2 = rtcr_time_us();
	rtcr_printf("main: %lu %lu %lu\n", t0, t1, t2);
	long a = rtcr_thread_create(sleeper, (void *)3000UL, 0);
	long b = rtcr_thread_create(sleeper, (void *)700UL, 0);
	long c = rtcr_thread_create(sleeper, (void *)1500UL, 0);
	rtcr_thread_join(a);
	rtcr_thread_join(b);
	rtcr_thread_join(c);
	rtcr_printf("end %lu\n", rtcr_time_us());
	return 0;
}
"""

YIELD = r"""
#include <rtcr.h>

static void other(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++) {
		rtcr_printf("B %d\n", i);
		rtcr_yield();
	}
}

int main(void)
{
	long t = rtcr_thread_create(other, 0, 0);
	for (int i = 0; i < 3; i++) {
		rtcr_printf("A %d\n", i);
		rtcr_yield();
	}
	rtcr_thread_join(t);
	rtcr_printf("done\n");
	return 0;
}
"""


def _finished(run: ApiRun) -> ApiRun:
    assert run.result.status is Status.FINISHED, run.result.diagnostic
    assert run.component.crash is None
    assert run.component.exit_code == 0
    return run


def test_thread_create_join_and_exit(compile_c: CompileC) -> None:
    run = _finished(run_api(compile_c("lifecycle", LIFECYCLE)))
    assert run.lines == [
        "created 2 3 4",
        "join 2 = 0, result 10",
        "join 3 = 0, result 20",
        "join 4 = 0, result 30",
        "join again = 0",
        f"join self = {-Errno.ENOTHREAD}",
        f"join unknown = {-Errno.ENOTHREAD}",
    ]
    assert all(t.state is ThreadState.EXITED for t in run.component.threads.values())


THREAD_CHURN = r"""
#include <rtcr.h>

static void work(void *arg) { (void)arg; }

int main(void)
{
	long before = rtcr_ram_avail();
	for (int i = 0; i < 1000; i++) {
		long tid = rtcr_thread_create(work, 0, 64 * 1024);
		if (tid < 0) {
			rtcr_printf("create %d failed: %ld\n", i, tid);
			return 1;
		}
		rtcr_thread_join(tid);
	}
	rtcr_printf("ram given back: %d\n", rtcr_ram_avail() == before);
	return 0;
}
"""


def test_exited_threads_give_their_stacks_back(compile_c: CompileC) -> None:
    # 1000 stacks of 64 KiB would need 64 MiB; the default quota is 16 MiB.
    run = _finished(run_api(compile_c("thread_churn", THREAD_CHURN)))
    assert run.lines == ["ram given back: 1"]


def test_thread_limit_returns_enothread(compile_c: CompileC) -> None:
    run = _finished(run_api(compile_c("thread_limit", LIMIT)))
    assert MAX_THREADS == 64
    assert -Errno.ENOTHREAD == -12
    assert run.lines == [
        f"created {MAX_THREADS - 1} threads, then -12",  # the main thread counts too
        "joined one: 0",
        "create after an exit: ok",
        "create beyond the limit again: -12",
    ]


def _times(run: ApiRun) -> tuple[list[int], dict[int, tuple[int, int]], int]:
    main = [int(x) for x in re.fullmatch(r"main: (\d+) (\d+) (\d+)", run.lines[0]).groups()]  # type: ignore[union-attr]
    slept = {}
    for line in run.lines[1:-1]:
        us, start, end = map(int, re.fullmatch(r"slept (\d+): from (\d+) to (\d+)", line).groups())  # type: ignore[union-attr]
        slept[us] = (start, end)
    end = int(re.fullmatch(r"end (\d+)", run.lines[-1])[1])  # type: ignore[index]
    return main, slept, end


def test_sleep_advances_virtual_time_by_the_requested_amount(compile_c: CompileC) -> None:
    run = _finished(run_api(compile_c("sleep", SLEEP)))
    (t0, t1, t2), slept, end = _times(run)
    # one nanosecond per instruction: a few instructions between the calls
    assert 1000 <= t1 - t0 <= 1001
    assert 250 <= t2 - t1 <= 251
    for us, (start, stop) in slept.items():
        assert us <= stop - start <= us + 1
    # the last sleeper's printf and exit and main's joins: a microsecond or two
    assert 0 <= end - max(stop for _, stop in slept.values()) <= 2
    # the machine idled through the sleeps instead of burning instructions
    assert run.result.instructions < 100_000
    assert run.machine.scheduler.idle_ns >= (1000 + 250 + 3000) * 1000 - run.result.instructions


def test_sleepers_wake_in_deadline_order(compile_c: CompileC) -> None:
    run = _finished(run_api(compile_c("sleep", SLEEP)))
    assert [line.split(":")[0] for line in run.lines[1:-1]] == [
        "slept 700", "slept 1500", "slept 3000"]


def test_sleep_and_time_are_deterministic(compile_c: CompileC) -> None:
    first = _finished(run_api(compile_c("sleep", SLEEP)))
    second = _finished(run_api(compile_c("sleep", SLEEP)))
    assert second.lines == first.lines
    assert second.result.instructions == first.result.instructions
    assert second.machine.scheduler.now_ns == first.machine.scheduler.now_ns


def test_yield_interleaves_threads_round_robin(compile_c: CompileC) -> None:
    run = _finished(run_api(compile_c("yield", YIELD)))
    assert run.lines == ["A 0", "B 0", "A 1", "B 1", "A 2", "B 2", "done"]


def test_yield_interleaving_is_deterministic(compile_c: CompileC) -> None:
    runs = [_finished(run_api(compile_c("yield", YIELD))) for _ in range(3)]
    assert len({tuple(r.lines) for r in runs}) == 1
    assert len({r.result.instructions for r in runs}) == 1
