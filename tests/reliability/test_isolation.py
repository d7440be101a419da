"""Isolation: two components side by side in one machine.

Neither reaches the other's dataspaces, region maps, threads or signals
without a capability handed over on purpose; a selector of one PD means
nothing in another; a component that exhausts its quotas or spins forever
hurts nobody else -- with both components under core directly and each
under its own checkpoint runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_harness import ROOT, Lines, component, machine_violations

from rtcr.checkpoint import Outcome, Runtime, Session
from rtcr.checkpoint.checkpointer import Checkpointer
from rtcr.machine import Component, Machine, Status, load_elf
from rtcr.store import Store

SECRET_A = 0xA11CE0000000A11C
SECRET_B = 0xB0B00000000B0B0B
GIFT = 1000
COUNTER_OUT = (ROOT / "examples" / "expected" / "counter.txt").read_text().splitlines()

Loader = Callable[[Machine, Path, str, int, int], tuple[Component, Runtime | None]]


def load_core(machine: Machine, elf: Path, name: str, ram: int, caps: int
              ) -> tuple[Component, Runtime | None]:
    return machine.load(elf, name=name, ram_quota=ram, cap_quota=caps), None


def load_runtime(machine: Machine, elf: Path, name: str, ram: int, caps: int
                 ) -> tuple[Component, Runtime | None]:
    runtime = Runtime()
    comp = machine.create_component(name, ram_quota=ram, cap_quota=caps, parent=runtime)
    runtime.adopt_address_space(comp)
    comp.load(load_elf(elf))
    return comp, runtime


PARENTS = pytest.mark.parametrize("loader", [load_core, load_runtime], ids=["core", "runtime"])


def probe(secret: int, threads: int) -> Path:
    return component("probe", f"SECRET={secret:#x}UL", f"PROBE_THREADS={threads}")


def reach(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith(("reach ", "gift ", "probe done"))]


def owned(lines: list[str]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {"ds": set(), "rm": set(), "sig": set(), "tid": set()}
    for line in lines:
        if line.startswith("own "):
            _, kind, sel = line.split()
            out[kind].add(int(sel))
    return out


def run_probes(loader: Loader, *, alone: bool = False,
               gift: bool = False) -> tuple[Machine, Lines, list[Component]]:
    sink = Lines()
    machine = Machine(96 << 20, log_sink=sink)
    a, _ = loader(machine, probe(SECRET_A, 1), "a", 4 << 20, 300)
    comps = [a]
    if not alone:
        b, _ = loader(machine, probe(SECRET_B, 6), "b", 4 << 20, 300)
        comps.append(b)
        if gift:  # hand a dataspace of A to B on purpose
            ds = a.pd.alloc_ram(4096)
            ds.write(0, (0x61F7).to_bytes(8, "little"))
            b.pd.cap_space.insert_at(GIFT, ds)
    result = machine.run(max_instructions=500_000_000)
    assert result.status is Status.FINISHED, result
    assert all(c.exit_code == 0 and c.crash is None for c in comps)
    return machine, sink, comps


@PARENTS
def test_selectors_mean_nothing_in_another_pd(loader: Loader) -> None:
    machine, sink, (a, _b) = run_probes(loader)
    for name, secret, other in (("a", SECRET_A, SECRET_B), ("b", SECRET_B, SECRET_A)):
        lines = sink.of(name)
        mine = owned(lines)
        text = "\n".join(lines)
        assert f"{other:x}" not in text, f"{name} read the other component's secret"
        assert f"reach ds {min(mine['ds'])} {secret:x}" in lines
        for line in reach(lines):
            kind, *rest = line.split()[1:]
            if line.startswith("reach ") and kind in ("rm", "sig"):
                assert int(rest[0]) in mine[kind] | {1}, line
            if line.startswith("reach tid"):
                assert int(rest[0]) in mine["tid"], line
        assert "gift none" in lines
    # what A reaches does not depend on B being there at all
    _, alone, _ = run_probes(loader, alone=True)
    assert reach(sink.of("a")) == reach(alone.of("a"))
    # B submitted to every selector it has: none of it reached A's receiver
    a_sigs = owned(sink.of("a"))["sig"]
    assert len(a.pd.signal_receiver.pending_queue()) == len(a_sigs)
    assert all(ctx.receiver is a.pd.signal_receiver for ctx in a.pd.signal_receiver.pending_queue())
    assert machine_violations(machine) == []


def test_a_capability_handed_over_on_purpose_works() -> None:
    _, sink, _ = run_probes(load_core, gift=True)
    assert "gift 61f7" in sink.of("b")
    assert "gift none" in sink.of("a")


HOG_MODES = {"ram": 1, "caps": 2, "threads": 3, "all": 5}


@PARENTS
@pytest.mark.parametrize("mode", list(HOG_MODES))
def test_a_resource_hog_gets_errors_and_the_other_completes(
        loader: Loader, mode: str, example: Callable[[str], Path]) -> None:
    sink = Lines()
    machine = Machine(64 << 20, log_sink=sink)
    hog, _ = loader(machine, component("hog", f"HOG_MODE={HOG_MODES[mode]}"), "hog", 2 << 20, 80)
    other, _ = loader(machine, example("counter"), "counter", 4 << 20, 4096)
    result = machine.run(max_instructions=2_000_000_000)
    assert result.status is Status.FINISHED, result
    assert hog.crash is None and hog.exit_code == 0
    lines = sink.of("hog")
    assert lines[-1] == "hog done"
    exhausted = [line for line in lines if line.startswith("exhausted")]
    assert exhausted
    for line in exhausted:
        code = int(line.split(": ")[1].split()[0])
        assert code in (-4, -5, -12), line  # ENORAM, ENOCAPS, ENOTHREAD
    assert [f"[counter] {line}" for line in sink.of("counter")] == COUNTER_OUT
    assert other.exit_code == 0
    assert machine_violations(machine) == []
    assert hog.pd.avail_ram() >= 0 and hog.pd.avail_caps() >= 0
    assert other.pd.used_ram() + other.pd.avail_ram() == 4 << 20


def test_a_spinning_component_is_stopped_while_the_others_checkpoints_work(
        tmp_path: Path, example: Callable[[str], Path]) -> None:
    sink = Lines()
    machine = Machine(64 << 20, log_sink=sink)
    spin, _ = load_runtime(machine, component("hog", "HOG_MODE=4"), "spin", 1 << 20, 64)
    other, runtime = load_runtime(machine, example("counter"), "counter", 4 << 20, 4096)
    assert runtime is not None
    store = Store.create(tmp_path / "store")
    checkpointer = Checkpointer(machine, other, runtime, store)
    ids: list[int] = []
    limit = 60_000_000
    while True:
        result = machine.run(pause_at=machine.instructions + 2_000_000, max_instructions=limit)
        if result.status is not Status.PAUSED:
            break
        if not other.exited:
            stats = checkpointer.checkpoint()
            assert stats is not None
            ids.append(stats.id)
    assert result.status is Status.LIMIT
    assert spin.exit_code is None and sink.of("spin") == ["spinning"]
    assert other.exit_code == 0
    assert [f"[counter] {line}" for line in sink.of("counter")] == COUNTER_OUT
    assert len(ids) >= 2 and store.verify().ok
    # every checkpoint of the counter restores alone and finishes the count
    for cid in (ids[0], ids[len(ids) // 2]):
        resumed_sink = Lines()
        resumed = Session.resume(store, cid, log_sink=resumed_sink, checkpoint=False)
        again = resumed.run(max_instructions=100_000_000)
        assert again.outcome is Outcome.EXITED, (cid, again.diagnostic)
        out = sink.of("counter")[:resumed.restored_log_lines] + resumed_sink.of("counter")
        assert [f"[counter] {line}" for line in out] == COUNTER_OUT, cid
    store.close()


AS_DATASPACE = r"""
#include <rtcr.h>
int main(void)
{
	long as = rtcr_rm_dataspace(RTCR_ADDRESS_SPACE);   /* the address space as a dataspace */
	long rm = rtcr_rm_create(1 << 20);
	long at = rtcr_attach(rm, as, 4096, 0x400000, RTCR_ANYWHERE, 0);   /* a window on our code */
	rtcr_printf("as %ld rm %ld at %ld\n", as > 0 ? 1L : as, rm > 0 ? 1L : rm, at);
	for (volatile unsigned long i = 0; i < 300000; i++)
		;
	rtcr_printf("still here %ld\n", rtcr_detach(rm, (unsigned long)at));
	return 0;
}
"""


def test_the_address_space_dataspace_survives_a_checkpoint(
        tmp_path: Path, compile_c: Callable[[str, str], Path]) -> None:
    """RM_DATASPACE(RTCR_ADDRESS_SPACE) under the runtime: checkpoints used to fail with
    'was not handed out by this runtime' (the runtime did not know that dataspace)."""
    elf = compile_c("as_dataspace", AS_DATASPACE)
    store = Store.create(tmp_path / "store")
    sink = Lines()
    session = Session.start(elf, store=store, log_sink=sink)
    result = session.run(every=200_000, max_instructions=50_000_000)
    assert result.outcome is Outcome.EXITED, result.diagnostic
    name = session.component.name
    assert sink.of(name) == ["as 1 rm 1 at 0", "still here 0"]
    assert len(result.checkpoints) >= 2
    resumed_sink = Lines()
    resumed = Session.resume(store, store.ids()[0], log_sink=resumed_sink, checkpoint=False)
    assert resumed.run(max_instructions=50_000_000).outcome is Outcome.EXITED
    assert sink.of(name)[:resumed.restored_log_lines] + resumed_sink.of(name) == sink.of(name)
    store.close()
