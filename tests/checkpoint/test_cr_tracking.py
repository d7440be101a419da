"""Dirty tracking: each checkpoint stores exactly what its interval wrote.

The `tracker` component reads and writes the pages of a 37-page arena as a
plan (patched into its ELF) says, one phase per checkpoint. Under
ro-attach the arena pages a checkpoint stores are exactly the pages the
phase wrote (rounded out to parts of `granularity` pages) and reads never
fault; under detach every page touched counts; under full everything is
copied every time.
"""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtcr.checkpoint import CheckpointStats, Session, Strategy
from rtcr.checkpoint.image import object_key
from rtcr.checkpoint.runtime import RamRecord, RegionMapRecord, Runtime
from rtcr.checkpoint.tracking import Arming
from rtcr.core import (
    PAGE_SIZE,
    RESOLVED,
    Access,
    Dataspace,
    Fault,
    FaultTicket,
    FaultType,
    Mapping,
    RegionMap,
    Unhandled,
    Unresolved,
    WalkFailure,
    reflect,
    resolve,
)
from rtcr.machine import Component, Machine, Status
from rtcr.store import Store

ARENA_PAGES = 37
MAGIC = struct.pack("<II", 0x50435452, 0x214E414C)
PLAN_WORDS = 4096

Phase = tuple[list[int], list[int]]  # pages read, then pages written


@dataclass
class Interval:
    stored: set[int]  # arena pages the checkpoint itself stored
    arena_faults: int  # tracking faults on the arena during the interval
    stats: CheckpointStats


def planned_elf(base: Path, phases: list[Phase], dest: Path) -> Path:
    data = bytearray(base.read_bytes())
    at = data.find(MAGIC)
    assert at > 0 and data.find(MAGIC, at + 1) == -1
    words = [len(phases)]
    for reads, writes in phases:
        words += [len(reads), *reads, len(writes), *writes]
    assert len(words) + 2 <= PLAN_WORDS
    data[at + 8:at + 8 + 4 * len(words)] = struct.pack(f"<{len(words)}I", *words)
    dest.write_bytes(bytes(data))
    return dest


def run_plan(base: Path, phases: list[Phase], strategy: Strategy,
             granularity: int) -> list[Interval]:
    """Run the plan with a checkpoint after setup and after every phase."""
    with tempfile.TemporaryDirectory() as tmp:
        elf = planned_elf(base, phases, Path(tmp) / "tracker.elf")
        intervals = run_phases(elf, Path(tmp) / "store", strategy, granularity)
    assert len(intervals) == len(phases) + 1
    return intervals


def run_phases(elf: Path, store_dir: Path, strategy: Strategy, granularity: int,
               arena_pages: int = ARENA_PAGES) -> list[Interval]:
    """Checkpoint whenever the component logs "ready" or "phase" (it yields right after)."""
    store = Store.create(store_dir)
    due = [False]
    lines: list[str] = []

    def sink(component: object, line: str) -> None:
        lines.append(line)
        due[0] = line in ("ready", "phase")

    def pause() -> bool:
        if due[0]:
            due[0] = False
            return True
        return False

    session = Session.start(elf, strategy=strategy, granularity=granularity, store=store,
                            log_sink=sink)
    intervals: list[Interval] = []
    faults_before = 0
    while session.machine.run(should_pause=pause).status is Status.PAUSED:
        arena = next(r for r in session.runtime.ram_records()
                     if r.size == arena_pages * 4096)
        faults = arena.tracked.faults
        stats = session.checkpoint()
        stored = set(store.load(stats.id).stored(object_key(arena.oid)))
        intervals.append(Interval(stored, faults - faults_before, stats))
        faults_before = faults
    assert session.component.exit_code == 0, lines
    store.close()
    return intervals


def parts(pages: list[int], granularity: int) -> set[int]:
    return {part for part in (p // granularity for p in pages)}


def part_pages(part_set: set[int], granularity: int) -> set[int]:
    return {p for part in part_set
            for p in range(part * granularity, min((part + 1) * granularity, ARENA_PAGES))}


pages = st.lists(st.integers(0, ARENA_PAGES - 1), max_size=14)
plans = st.lists(st.tuples(pages, pages), min_size=1, max_size=6)
SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def tracker(component: Callable[[str], Path]) -> Path:
    return component("tracker")


@SETTINGS
@given(plan=plans, granularity=st.sampled_from([1, 1, 2, 4, 5]))
def test_ro_attach_stores_exactly_the_pages_each_interval_wrote(
        tracker: Path, plan: list[Phase], granularity: int) -> None:
    intervals = run_plan(tracker, plan, Strategy.RO_ATTACH, granularity)
    assert intervals[0].stored == set(range(ARENA_PAGES)), "the first checkpoint is full"
    for (_reads, writes), interval in zip(plan, intervals[1:], strict=True):
        written = parts(writes, granularity)
        assert interval.stored == part_pages(written, granularity)
        assert interval.arena_faults == len(written), "one fault per written part"
        assert interval.stats.faults["read"] == 0, "reads never fault under ro-attach"
        assert interval.stats.faults["write"] >= len(written)


@SETTINGS
@given(plan=plans, granularity=st.sampled_from([1, 3]))
def test_detach_stores_every_page_the_interval_touched(
        tracker: Path, plan: list[Phase], granularity: int) -> None:
    intervals = run_plan(tracker, plan, Strategy.DETACH, granularity)
    for (reads, writes), interval in zip(plan, intervals[1:], strict=True):
        touched = parts(reads + writes, granularity)
        assert interval.stored == part_pages(touched, granularity)
        assert interval.arena_faults == len(touched)
        # Reads come first in a phase: every part read faults as a READ.
        assert interval.stats.faults["read"] >= len(parts(reads, granularity))


def test_reads_alone_never_fault_under_ro_attach(tracker: Path) -> None:
    everything = list(range(ARENA_PAGES))
    intervals = run_plan(tracker, [(everything, []), (everything[::-1], [])],
                         Strategy.RO_ATTACH, 1)
    for interval in intervals[1:]:
        assert interval.stored == set()
        assert interval.arena_faults == 0
        assert interval.stats.faults["read"] == 0
        assert interval.stats.dirty_pages < ARENA_PAGES


def test_reads_count_as_dirty_under_detach(tracker: Path) -> None:
    reads = [3, 5, 8, 13, 21, 34]
    intervals = run_plan(tracker, [(reads, []), ([], [])], Strategy.DETACH, 1)
    assert intervals[1].stored == set(reads)
    assert intervals[1].arena_faults == len(reads)
    assert intervals[1].stats.faults["read"] >= len(reads)
    assert intervals[2].stored == set()


def test_full_copies_every_page_at_every_checkpoint(tracker: Path) -> None:
    intervals = run_plan(tracker, [([1], [2]), ([], [])], Strategy.FULL, 1)
    for interval in intervals:
        assert interval.stored == set(range(ARENA_PAGES))
        assert interval.arena_faults == 0


def test_a_page_written_again_after_a_checkpoint_is_tracked_again(tracker: Path) -> None:
    """Re-arming: the dirty pages go back to read-only, so the next write faults again."""
    intervals = run_plan(tracker, [([], [4, 9]), ([], [4, 9]), ([], [9])],
                         Strategy.RO_ATTACH, 1)
    assert [i.stored for i in intervals[1:]] == [{4, 9}, {4, 9}, {9}]
    assert [i.arena_faults for i in intervals[1:]] == [2, 2, 1]


@pytest.mark.parametrize("strategy", [Strategy.RO_ATTACH, Strategy.DETACH])
def test_pages_the_kernel_writes_for_the_component_are_dirty(
        component: Callable[[str], Path], tmp_path: Path, strategy: Strategy) -> None:
    intervals = run_phases(component("kernel_writes"), tmp_path / "store", strategy, 1,
                           arena_pages=12)
    assert [i.stored for i in intervals[1:]] == [{5}, {9}]


# -- routing under the runtime: the target sees faults where Genode's core puts them --------

class _Waiter:
    def __init__(self) -> None:
        self.resolved: list[FaultTicket] = []

    def fault_resolved(self, ticket: FaultTicket) -> None:
        self.resolved.append(ticket)


@dataclass
class _Target:
    machine: Machine
    component: Component
    runtime: Runtime

    @property
    def space(self) -> RegionMap:
        return self.component.pd.address_space

    def ram(self, pages: int) -> tuple[Dataspace, RamRecord]:
        ds = self.runtime.ram_alloc(self.component, pages * PAGE_SIZE)
        record = self.runtime.record_of(ds)
        assert isinstance(record, RamRecord)
        return ds, record

    def attach(self, rm: RegionMap, ds: Dataspace, *, at: int | None = None,
               writeable: bool = True) -> int:
        return self.runtime.attach(self.component, rm, ds, size=0, offset=0, at=at,
                                   executable=False, writeable=writeable).start

    def write_fault(self, addr: int) -> object:
        result = resolve(self.space, addr, Access.WRITE)
        assert isinstance(result, Unresolved), result
        return reflect(result, _Waiter())


def _target(strategy: Strategy) -> _Target:
    machine = Machine(16 << 20, log_sink=lambda component, line: None)
    runtime = Runtime(strategy, 1)
    component = machine.create_component("target", ram_quota=4 << 20, parent=runtime)
    runtime.adopt_address_space(component)
    return _Target(machine, component, runtime)


@pytest.mark.parametrize("strategy", [Strategy.RO_ATTACH, Strategy.DETACH])
def test_write_through_the_targets_read_only_region_reaches_its_map_and_is_not_dirty(
        strategy: Strategy) -> None:
    t = _target(strategy)
    ds, record = t.ram(4)
    sub = t.runtime.rm_create(t.component, 4 * PAGE_SIZE)
    context = t.runtime.signal_context(t.component)
    t.runtime.fault_handler(t.component, sub, context)
    t.attach(sub, ds, at=0, writeable=False)
    window = t.attach(t.space, sub.dataspace())
    ticket = t.write_fault(window + PAGE_SIZE + 8)
    assert isinstance(ticket, FaultTicket)
    assert (ticket.region_map, ticket.fault) == (sub, Fault(FaultType.WRITE, PAGE_SIZE + 8))
    assert record.tracked.dirty == set()
    assert context.count == 1
    assert t.machine.core.fault_counts.get(FaultType.WRITE) == 1


def test_write_to_ram_sealed_before_the_attach_is_a_violation_in_the_targets_map() -> None:
    t = _target(Strategy.RO_ATTACH)
    ds, record = t.ram(2)
    before = t.attach(t.space, ds)
    t.runtime.ram_seal(t.component, ds, revoke=False)
    after = t.attach(t.space, ds)
    outcome = t.write_fault(after + 16)
    assert outcome == Unhandled(WalkFailure.WRITE_VIOLATION, Access.WRITE, after + 16, t.space)
    assert record.tracked.dirty == set()
    assert t.write_fault(before) is RESOLVED  # attached before the seal: tracked as usual
    assert record.tracked.dirty == {0}
    [region] = [r for r in t.runtime.region_map_records()[0].regions if r.start == after]
    assert not region.writeable  # the checkpoint records the effective right


def test_revoking_seal_under_the_runtime_forwards_writes_and_records_read_only_regions() -> None:
    t = _target(Strategy.RO_ATTACH)
    ds, record = t.ram(2)
    at = t.attach(t.space, ds)
    t.runtime.ram_seal(t.component, ds, revoke=True)
    assert t.write_fault(at) == Unhandled(WalkFailure.WRITE_VIOLATION, Access.WRITE, at,
                                          t.space)
    assert record.tracked.dirty == set()
    assert [r.writeable for r in t.runtime.region_map_records()[0].regions] == [False]


def test_swap_moves_the_targets_regions_onto_the_armed_map() -> None:
    t = _target(Strategy.RO_ATTACH)
    ds, record = t.ram(2)
    at = t.attach(t.space, ds)
    tracked = record.tracked
    assert t.write_fault(at) is RESOLVED
    assert tracked.swap() == {0}
    region = t.space.region_at(at)
    assert region is not None and region.dataspace is tracked.maps[1].dataspace()
    assert tracked.active is tracked.maps[1]
    assert t.write_fault(at) is RESOLVED  # tracked again after the swap
    assert tracked.dirty == {0}
    assert tracked.stale_parts == 1
    assert tracked.recycle(None) == 1


def test_a_new_objects_second_map_is_armed_by_recycling_not_at_allocation() -> None:
    t = _target(Strategy.RO_ATTACH)
    _, record = t.ram(3)
    tracked = record.tracked
    assert (len(tracked.maps[0].regions()), len(tracked.maps[1].regions())) == (3, 0)
    assert tracked.stale_parts == 3
    assert tracked.recycle(2) == 2
    assert [(r.start, r.writeable) for r in tracked.maps[1].regions()] == [
        (0, False), (PAGE_SIZE, False)]
    assert tracked.stale_parts == 1


def test_a_swap_arms_what_recycling_has_not_yet() -> None:
    t = _target(Strategy.RO_ATTACH)
    ds, record = t.ram(3)
    at = t.attach(t.space, ds)
    tracked = record.tracked
    assert tracked.recycle(1) == 1
    assert tracked.swap() == set()
    assert tracked.active is tracked.maps[1]
    assert [(r.start, r.writeable) for r in tracked.maps[1].regions()] == [
        (0, False), (PAGE_SIZE, False), (2 * PAGE_SIZE, False)]
    assert t.write_fault(at + 2 * PAGE_SIZE) is RESOLVED
    assert tracked.dirty == {2}


def _restored_ram(t: _Target, pages: int) -> tuple[int, RamRecord]:
    """A RAM object made as a restore makes it (armed on demand), attached in the target."""
    record = t.runtime.allocate_ram(t.component, pages * PAGE_SIZE, arming=Arming.ON_DEMAND)
    return t.attach(t.space, record.tracked.managed.dataspace()), record


def test_a_restored_object_arms_no_part_when_it_is_made() -> None:
    t = _target(Strategy.RO_ATTACH)
    _, record = _restored_ram(t, 3)
    assert [len(rm.regions()) for rm in record.tracked.maps] == [0, 0]
    assert record.tracked.stale_parts == 6


def test_a_read_arms_a_part_of_a_restored_object_read_only_and_not_dirty() -> None:
    t = _target(Strategy.RO_ATTACH)
    at, record = _restored_ram(t, 3)
    result = resolve(t.space, at + PAGE_SIZE, Access.READ)
    assert isinstance(result, Unresolved) and result.reason is WalkFailure.NO_REGION
    assert reflect(result, _Waiter()) is RESOLVED
    assert [(r.start, r.writeable) for r in record.tracked.active.regions()] == [
        (PAGE_SIZE, False)]
    assert record.tracked.dirty == set()
    assert t.write_fault(at + PAGE_SIZE) is RESOLVED  # tracked from there on
    assert record.tracked.dirty == {1}


def test_a_write_arms_a_part_of_a_restored_object_writable_and_dirty() -> None:
    t = _target(Strategy.RO_ATTACH)
    at, record = _restored_ram(t, 3)
    assert t.write_fault(at + 2 * PAGE_SIZE) is RESOLVED
    assert [(r.start, r.writeable) for r in record.tracked.active.regions()] == [
        (2 * PAGE_SIZE, True)]
    assert record.tracked.dirty == {2}


def test_recycling_arms_both_maps_of_a_restored_object() -> None:
    t = _target(Strategy.RO_ATTACH)
    at, record = _restored_ram(t, 3)
    assert t.write_fault(at) is RESOLVED
    assert record.tracked.recycle(None) == 5
    assert [[(r.start, r.writeable) for r in rm.regions()] for rm in record.tracked.maps] == [
        [(0, True), (PAGE_SIZE, False), (2 * PAGE_SIZE, False)],
        [(0, False), (PAGE_SIZE, False), (2 * PAGE_SIZE, False)]]
    assert record.tracked.stale_parts == 0


def test_swap_re_arms_in_place_when_a_fault_waits_in_the_targets_region() -> None:
    t = _target(Strategy.RO_ATTACH)
    ds, record = t.ram(2)
    sub = t.runtime.rm_create(t.component, 2 * PAGE_SIZE)
    t.runtime.fault_handler(t.component, sub, t.runtime.signal_context(t.component))
    t.attach(sub, ds, at=0, writeable=False)
    window = t.attach(t.space, sub.dataspace())
    rw = t.attach(t.space, ds)
    assert t.write_fault(rw + PAGE_SIZE) is RESOLVED
    ticket = t.write_fault(window)
    assert isinstance(ticket, FaultTicket)
    tracked = record.tracked
    assert tracked.swap() == {1}
    assert tracked.active is tracked.maps[0]
    assert not ticket.resolved
    assert t.write_fault(rw + PAGE_SIZE) is RESOLVED  # re-armed in place


def test_the_runtime_costs_one_nesting_level_of_five() -> None:
    """Genode's rm_nested depth -- address space, top, shim1, bottom, RAM -- still fits."""
    t = _target(Strategy.RO_ATTACH)
    ds, _ = t.ram(1)
    top, shim1, bottom = (t.runtime.rm_create(t.component, 16 * PAGE_SIZE) for _ in range(3))
    t.attach(bottom, ds, at=0)
    t.attach(shim1, bottom.dataspace(), at=0)
    t.attach(top, shim1.dataspace(), at=0)
    at = t.attach(t.space, top.dataspace())
    assert t.write_fault(at + 8) is RESOLVED
    assert isinstance(resolve(t.space, at + 8, Access.WRITE), Mapping)


def test_destroying_a_targets_map_is_recorded_and_leaves_the_window_reserved() -> None:
    t = _target(Strategy.RO_ATTACH)
    ds, _ = t.ram(1)
    sub = t.runtime.rm_create(t.component, PAGE_SIZE)
    t.attach(sub, ds, at=0)
    window = t.attach(t.space, sub.dataspace())
    t.runtime.rm_destroy(t.component, sub)
    record = t.runtime.record_of(sub)
    assert isinstance(record, RegionMapRecord)
    assert record.destroyed and record.regions == []
    assert t.write_fault(window) == Unhandled(WalkFailure.NO_REGION, Access.WRITE, window,
                                              t.space)
