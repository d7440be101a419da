"""Restore equivalence, the defining test of the runtime.

An uninterrupted run (output lines, exit code, final memory digest,
instruction count) is the reference. A run with checkpoints must equal it,
and every checkpoint, restored in a fresh machine and run to its end, must
print exactly the reference's remaining lines and end with the same exit
code, memory and instruction count -- for every example and for test
workloads that block on faults, signals, sleeps and joins, share memory
between threads, and allocate, seal and free RAM over time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cr_helpers import (
    COMPONENT_NAMES,
    EXAMPLE_NAMES,
    Lines,
    assert_all_restore,
    assert_continues,
    blocker_kinds,
    checkpointed_run,
    every_for,
    finish,
    odd_every,
    reference,
    restored_run,
)

from rtcr.checkpoint import Session, Strategy
from rtcr.machine import FaultWait, JoinWait, SignalWait, SleepUntil, Status
from rtcr.store import Store

Workload = Callable[[str], Path]

RO, DETACH, FULL = Strategy.RO_ATTACH, Strategy.DETACH, Strategy.FULL

# What the test workloads must show in at least one checkpoint, so that the
# equivalence tests cannot pass without exercising those states.
EXPECTED_BLOCKERS = {
    "shared_threads": {"sleep", "join"},
    "pager": {"fault"},
    "sig_sleep": {"signal", "sleep"},
    "ram_churn": set(),
    "x87": set(),
    "jit": set(),
    "remap": set(),
    "clock": set(),
    "pd_ref": set(),
}

# Faults each workload reflects to its own handler (one pause right after each).
FAULTS_RESOLVED_BY_THE_COMPONENT = {"pager": 24, "self_pager": 16, "seal": 1, "ro_fault": 8,
                                    "exec_fault": 1}

# Representative (strategy, granularity) pairs run on every push; the rest are slow.
QUICK = {(RO, 1), (DETACH, 4), (FULL, 1)}


def _combos(names: tuple[str, ...], quick: set[tuple[Strategy, int]]) -> list[Any]:
    params = []
    for name, strategy, granularity in itertools.product(names, Strategy, (1, 4)):
        marks = () if (strategy, granularity) in quick else (pytest.mark.slow,)
        params.append(pytest.param(name, strategy, granularity, marks=marks,
                                   id=f"{name}-{strategy.value}-g{granularity}"))
    return params


def _check_run_and_restores(elf: Path, tmp_path: Path, *, every: int, strategy: Strategy,
                            granularity: int) -> list[dict[str, Any]]:
    ref = reference(elf)
    store = Store.create(tmp_path / "store")
    run, result = checkpointed_run(elf, store, every=every, strategy=strategy,
                                   granularity=granularity)
    assert run == ref, "checkpointing changed the run itself"
    assert [c.id for c in result.checkpoints] == store.ids()
    assert store.ids(), "no checkpoint was taken: the test would be vacuous"
    return assert_all_restore(store, ref)


@pytest.mark.parametrize("name, strategy, granularity",
                         _combos(EXAMPLE_NAMES, {(RO, 1)}))
def test_every_checkpoint_of_an_example_restores_to_the_same_end(
        workload: Workload, tmp_path: Path, name: str, strategy: Strategy,
        granularity: int) -> None:
    elf = workload(name)
    manifests = _check_run_and_restores(elf, tmp_path, every=every_for(reference(elf).instructions),
                                        strategy=strategy, granularity=granularity)
    assert 5 <= len(manifests) <= 15


@pytest.mark.parametrize("name, strategy, granularity", _combos(COMPONENT_NAMES, QUICK))
def test_every_checkpoint_of_a_test_workload_restores_to_the_same_end(
        workload: Workload, tmp_path: Path, name: str, strategy: Strategy,
        granularity: int) -> None:
    elf = workload(name)
    manifests = _check_run_and_restores(elf, tmp_path,
                                        every=every_for(reference(elf).instructions, 12),
                                        strategy=strategy, granularity=granularity)
    assert 5 <= len(manifests) <= 15
    kinds = set().union(*map(blocker_kinds, manifests))
    assert EXPECTED_BLOCKERS[name] <= kinds, f"no checkpoint saw threads blocked on {kinds}"


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=() if n in ("counter", "kvstore", "pager", "shared_threads")
                 else (pytest.mark.slow,))
    for n in EXAMPLE_NAMES + COMPONENT_NAMES])
def test_checkpoints_at_an_odd_interval_restore_to_the_same_end(
        workload: Workload, tmp_path: Path, name: str) -> None:
    elf = workload(name)
    every = odd_every(reference(elf).instructions)
    assert every % 2 == 1
    manifests = _check_run_and_restores(elf, tmp_path, every=every, strategy=RO, granularity=1)
    assert 5 <= len(manifests) <= 16


def test_ram_churn_checkpoints_see_ram_sealed_and_freed(workload: Workload,
                                                       tmp_path: Path) -> None:
    """Guards the RAM workload against passing vacuously: objects are sealed and freed."""
    elf = workload("ram_churn")
    store = Store.create(tmp_path / "store")
    checkpointed_run(elf, store, every=every_for(reference(elf).instructions, 12))
    rams = [o for cid in store.ids() for o in store.load(cid).manifest["objects"]
            if o["kind"] == "ram"]
    assert any(o["sealed"] and not o["freed"] for o in rams)
    assert any(o["freed"] for o in rams)
    counts = [sum(o["kind"] == "ram" for o in store.load(cid).manifest["objects"])
              for cid in store.ids()]
    assert counts == sorted(counts) and counts[0] < counts[-1], "RAM objects appear over time"


BLOCKERS: dict[str, type] = {"fault": FaultWait, "signal": SignalWait, "sleep": SleepUntil,
                             "join": JoinWait}


def _checkpoint_whenever_a_thread_blocks(session: Session, kind: str) -> int:
    """Run to the end, pausing right after any thread newly blocks on `kind`: the slice that
    blocked it has just ended, no other thread ran since. Checkpoint there."""
    cls = BLOCKERS[kind]
    last: dict[int, object] = {}

    def newly_blocked() -> bool:
        due = False
        for thread in session.component.threads.values():
            blocker = thread.blocker
            if isinstance(blocker, cls) and last.get(thread.tid) is not blocker:
                due = True
            last[thread.tid] = blocker
        return due

    pauses = 0
    while session.machine.run(should_pause=newly_blocked).status is Status.PAUSED:
        before = session.machine.instructions
        session.checkpoint()
        assert session.machine.instructions == before
        pauses += 1
    assert session.component.exited
    return pauses


@pytest.mark.parametrize("name, kind, strategy", [
    ("pager", "fault", RO), ("self_pager", "fault", RO), ("seal", "fault", RO),
    ("ro_fault", "fault", RO), ("exec_fault", "fault", RO),
    ("shared_threads", "sleep", RO), ("shared_threads", "join", RO),
    ("sig_sleep", "signal", RO), ("sig_sleep", "sleep", RO), ("signals", "signal", RO),
    ("pager", "signal", RO),
    pytest.param("pager", "fault", DETACH, marks=pytest.mark.slow),
    pytest.param("self_pager", "fault", FULL, marks=pytest.mark.slow),
    pytest.param("seal", "fault", DETACH, marks=pytest.mark.slow),
    pytest.param("ro_fault", "fault", FULL, marks=pytest.mark.slow),
    pytest.param("sig_sleep", "signal", DETACH, marks=pytest.mark.slow),
    pytest.param("shared_threads", "join", FULL, marks=pytest.mark.slow)],
    ids=lambda v: v.value if isinstance(v, Strategy) else str(v))
def test_checkpoint_right_after_a_thread_blocks_restores_to_the_same_end(
        workload: Workload, tmp_path: Path, name: str, kind: str, strategy: Strategy) -> None:
    """Faults: paused after the fault was reflected, before the pager thread ran at all."""
    elf = workload(name)
    ref = reference(elf)
    store = Store.create(tmp_path / "store")
    sink = Lines()
    session = Session.start(elf, strategy=strategy, store=store, log_sink=sink)
    pauses = _checkpoint_whenever_a_thread_blocks(session, kind)
    if kind == "fault":
        assert pauses == FAULTS_RESOLVED_BY_THE_COMPONENT[name]
    assert pauses >= 1
    # The run ended inside machine.run; finish() only collects the result.
    assert finish(session, sink)[0] == ref
    ids = store.ids()
    for cid in ids:
        manifest = store.load(cid).manifest
        assert kind in blocker_kinds(manifest), "every checkpoint holds such a blocked thread"
        if kind == "fault":
            assert manifest["faulters"]
    step = max(1, len(ids) // 8)  # restore at most about 8 of them
    assert_all_restore(store, ref, sorted(set(ids[::step]) | {ids[-1]}))


@pytest.mark.parametrize("name", [
    "pager", "shared_threads", "kvstore",
    *(pytest.param(n, marks=pytest.mark.slow)
      for n in ("sig_sleep", "ram_churn", "self_pager", "signals", "life"))])
def test_restored_runs_checkpoint_into_the_same_chain_and_restore_again(
        workload: Workload, tmp_path: Path, name: str) -> None:
    elf = workload(name)
    ref = reference(elf)
    every = every_for(ref.instructions, 8)
    store = Store.create(tmp_path / "store")
    checkpointed_run(elf, store, every=every)
    origin = store.ids()[len(store.ids()) // 3]
    for generation in range(3):
        known = set(store.ids())
        got, result, log_lines = restored_run(store, origin, checkpoint=True, every=every)
        assert_continues(ref, got, log_lines, f"generation {generation}: checkpoint {origin}")
        new = [c.id for c in result.checkpoints]
        assert new, "the restored run took no checkpoints"
        assert set(new).isdisjoint(known)
        assert sorted(store.ids()) == sorted(known | set(new))
        parents = [store.info(cid).parent for cid in new]
        assert parents == [origin, *new[:-1]], "new checkpoints link back to the restored one"
        assert origin in store.load(new[-1]).chain
        origin = new[0]
    # The newest generation restores without checkpointing too.
    assert_all_restore(store, ref, [origin])


@pytest.mark.parametrize("original, restored", [
    pytest.param(a, b, marks=() if (a, b) in ((RO, DETACH), (FULL, RO)) else (pytest.mark.slow,),
                 id=f"{a.value}-to-{b.value}")
    for a, b in itertools.permutations(Strategy, 2)])
@pytest.mark.parametrize("name", ["ram_churn", pytest.param("sig_sleep", marks=pytest.mark.slow)])
def test_restore_with_a_different_strategy_reaches_the_same_end(
        workload: Workload, tmp_path: Path, name: str, original: Strategy,
        restored: Strategy) -> None:
    elf = workload(name)
    ref = reference(elf)
    every = every_for(ref.instructions, 6)
    store = Store.create(tmp_path / "store")
    checkpointed_run(elf, store, every=every, strategy=original)
    first = store.ids()
    for cid in first[1::2]:
        got, result, log_lines = restored_run(store, cid, strategy=restored, granularity=3,
                                              checkpoint=True, every=every)
        assert_continues(ref, got, log_lines, f"checkpoint {cid} under {restored.value}")
        for stats in result.checkpoints:
            assert store.info(stats.id).strategy == restored.value
    later = [cid for cid in store.ids() if cid not in first]
    assert later
    # A checkpoint written under the new strategy restores with the strategy it recorded.
    manifests = assert_all_restore(store, ref, later[::3])
    assert all(m["runtime"]["strategy"] == restored.value for m in manifests)
    assert all(m["runtime"]["granularity"] == 3 for m in manifests)


@pytest.mark.parametrize("name", ["shared_threads", "self_pager"])
def test_checkpoint_before_the_first_instruction_restores_the_whole_run(
        workload: Workload, tmp_path: Path, name: str) -> None:
    elf = workload(name)
    ref = reference(elf)
    store = Store.create(tmp_path / "store")
    sink = Lines()
    session = Session.start(elf, store=store, log_sink=sink)
    stats = session.checkpoint()
    assert stats.instructions == 0
    assert finish(session, sink)[0] == ref
    got, _, log_lines = restored_run(store, stats.id)
    assert log_lines == 0
    assert_continues(ref, got, 0, "checkpoint at instruction 0")


def test_back_to_back_checkpoints_store_nothing_new_and_both_restore(
        workload: Workload, tmp_path: Path) -> None:
    elf = workload("sig_sleep")
    ref = reference(elf)
    store = Store.create(tmp_path / "store")
    sink = Lines()
    session = Session.start(elf, store=store, log_sink=sink)
    session.run(max_instructions=ref.instructions // 3)
    first = session.checkpoint()
    second = session.checkpoint()
    assert second.instructions == first.instructions
    assert second.dirty_pages == 0
    assert store.info(second.id).parent == first.id
    assert session.run().exit_code == ref.exit_code
    assert_all_restore(store, ref, [first.id, second.id])


def test_a_checkpoint_taken_right_after_a_restore_restores_too(
        workload: Workload, tmp_path: Path) -> None:
    """A restored session's first checkpoint, before it ran anything, is a valid child."""
    elf = workload("ram_churn")
    ref = reference(elf)
    store = Store.create(tmp_path / "store")
    checkpointed_run(elf, store, every=every_for(ref.instructions, 5))
    origin = store.ids()[2]
    session = Session.resume(store, origin, log_sink=Lines())
    child = session.checkpoint()
    assert store.info(child.id).parent == origin
    assert child.dirty_pages == 0
    assert store.load(child.id).manifest["threads"] == store.load(origin).manifest["threads"]
    assert_all_restore(store, ref, [child.id])


def test_the_reference_account_of_the_components_own_pd_survives_a_restore(
        workload: Workload, tmp_path: Path) -> None:
    """Once set, a PD's reference account is set for good (Genode): a later call naming
    another PD changes nothing; restored without it, that call is refused."""
    elf = workload("pd_ref")
    ref = reference(elf)
    assert all(line.split(": ")[-1].startswith("0") for line in ref.lines), ref.lines
    store = Store.create(tmp_path / "store")
    run, _ = checkpointed_run(elf, store, every=every_for(ref.instructions, 8))
    assert run == ref and len(store.ids()) >= 4
    assert_all_restore(store, ref)

