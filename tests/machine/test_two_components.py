"""Two components in one machine: both finish, interleave deterministically, and are isolated."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from machine_support import expected_log, run_api

from rtcr.core import Dataspace, RegionMap, SignalContext
from rtcr.machine import Component, Machine, RunResult, Status

CompileC = Callable[[str, str], Path]
Example = Callable[[str], Path]

PINGPONG = r"""
#include <rtcr.h>
int main(void)
{
	for (int i = 0; i < 3; i++) {
		rtcr_printf("round %d\n", i);
		rtcr_yield();
	}
	return 0;
}
"""

# Creates many objects, so its selectors run far beyond the probe's, then stays
# alive (yielding) while the probe looks around.
OWNER = r"""
#include <rtcr.h>
int main(void)
{
	for (int i = 0; i < 12; i++) {
		rtcr_ram_alloc(RTCR_PAGE_SIZE);
		rtcr_rm_create(1UL << 20);
		rtcr_signal_context();
	}
	rtcr_printf("owner's last selector %ld\n", rtcr_signal_context());
	for (int i = 0; i < 200; i++)
		rtcr_yield();
	rtcr_printf("owner done\n");
	return 0;
}
"""

# Classifies selectors 1..50 of its own capability space with harmless calls:
# a region map answers rtcr_fault, a dataspace can be attached (and is detached
# again), a signal context can become a fault handler (and is cleared again).
PROBE = r"""
#include <rtcr.h>
int main(void)
{
	long rm = rtcr_rm_create(1UL << 20);
	struct rtcr_fault f;
	rtcr_yield();   /* let the owner create its objects first */
	for (long sel = 1; sel <= 50; sel++) {
		const char *kind = "-";
		long a;
		if (rtcr_fault(sel, &f) == 0) {
			kind = "rm";
		} else if ((a = rtcr_attach(rm, sel, RTCR_PAGE_SIZE, 0, RTCR_ANYWHERE, 0)) >= 0) {
			rtcr_detach(rm, a);
			kind = "ds";
		} else if (a != -RTCR_ECAP) {
			kind = "ds?";
		} else if (rtcr_fault_handler(rm, sel) == 0) {
			rtcr_fault_handler(rm, -1);
			kind = "sig";
		}
		rtcr_printf("sel %ld %s\n", sel, kind);
	}
	return 0;
}
"""


class _Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def __call__(self, component: Component, line: str) -> None:
        self.lines.append((component.name, line))

    def of(self, name: str) -> list[str]:
        return [line for who, line in self.lines if who == name]


def _run_two(first: Path, second: Path, names: tuple[str, str]
             ) -> tuple[Machine, tuple[Component, Component], RunResult, _Log]:
    log = _Log()
    machine = Machine(log_sink=log)
    a = machine.load(first, name=names[0])
    b = machine.load(second, name=names[1])
    result = machine.run()
    assert result.status is Status.FINISHED, result.diagnostic
    for component in (a, b):
        assert component.crash is None
        assert component.exit_code == 0
    return machine, (a, b), result, log


def test_two_components_interleave_round_robin_on_yield(compile_c: CompileC) -> None:
    elf = compile_c("pingpong", PINGPONG)
    _, _, _, log = _run_two(elf, elf, ("ping", "pong"))
    assert log.lines == [(name, f"round {i}") for i in range(3) for name in ("ping", "pong")]


def test_two_busy_components_both_finish_with_their_own_output(example: Example) -> None:
    _, (counter, life), result, log = _run_two(example("counter"), example("life"),
                                               ("counter", "life"))
    assert log.of("counter") == expected_log("counter")
    assert log.of("life") == expected_log("life")
    # time-sliced, not one after the other
    names = [name for name, _ in log.lines]
    assert names.index("life") < len(names) - 1 - names[::-1].index("counter")
    # sharing the machine changes neither component's instruction stream
    solo = {name: run_api(example(name)).result.instructions for name in ("counter", "life")}
    assert counter.cpu.counter.instructions == solo["counter"]
    assert life.cpu.counter.instructions == solo["life"]
    assert result.instructions == solo["counter"] + solo["life"]


def test_two_components_interleave_identically_every_run(example: Example) -> None:
    runs = [_run_two(example("counter"), example("life"), ("counter", "life"))
            for _ in range(2)]
    assert runs[0][3].lines == runs[1][3].lines
    assert runs[0][2].instructions == runs[1][2].instructions
    assert runs[0][0].scheduler.now_ns == runs[1][0].scheduler.now_ns


def _kind(obj: object) -> str:
    if isinstance(obj, RegionMap):
        return "rm"
    if isinstance(obj, Dataspace):
        return "ds"
    if isinstance(obj, SignalContext):
        return "sig"
    return "?"


def test_capability_selectors_mean_nothing_in_another_component(compile_c: CompileC) -> None:
    _, (owner, probe), _, log = _run_two(compile_c("owner", OWNER), compile_c("probe", PROBE),
                                         ("owner", "probe"))
    found = {}
    for line in log.of("probe"):
        _, sel, kind = line.split()
        found[int(sel)] = kind
    assert sorted(found) == list(range(1, 51))
    own = dict(probe.pd.cap_space.items())
    # the probe sees exactly its own objects, each as what it is ...
    assert found == {sel: _kind(own[sel]) if sel in own else "-" for sel in range(1, 51)}
    # ... while the owner's selectors reach far beyond the probe's and name other objects
    owner_caps = dict(owner.pd.cap_space.items())
    assert log.of("owner")[0] == f"owner's last selector {max(owner_caps)}"
    assert max(owner_caps) > max(own) + 30
    invisible = [sel for sel in owner_caps if sel <= 50 and sel not in own]
    assert invisible
    assert all(found[sel] == "-" for sel in invisible)
    shared = [sel for sel in owner_caps if sel in own]
    assert all(owner_caps[sel] is not own[sel] for sel in shared)
