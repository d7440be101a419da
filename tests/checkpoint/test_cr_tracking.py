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
from rtcr.machine import Status
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
