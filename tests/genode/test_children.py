"""Children: a component starts another from a ROM in a PD session and pages it.

The component (components/pd_child.cc) starts itself as the child; the
parent handles the child's faults and the child signals back through a
delegated signal context.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from genode_support import Build, Capture

from rtcr.abi import STACK_AREA_BASE, STACK_AREA_SIZE
from rtcr.checkpoint import Outcome, Session, SessionResult
from rtcr.store import Store


def _start(elf: Path, capture: Capture, store: Store | None = None) -> Session:
    return Session.start(elf, ram_quota=8 << 20, roms={"pd_child": elf.read_bytes()},
                         log_sink=capture, store=store)


@pytest.fixture(scope="module")
def tree(genode_component: Build) -> tuple[Session, Capture, SessionResult]:
    capture = Capture()
    session = _start(genode_component("pd_child"), capture)
    return session, capture, session.run()


def test_a_child_runs_its_binary_in_the_pd_session_it_was_started_in(
        tree: tuple[Session, Capture, SessionResult]) -> None:
    session, capture, _ = tree
    parent, child = session.machine.components
    assert child.name == "pager-child"
    assert child.pd is not parent.pd and parent.pd.cap_space.selector(child.pd) is not None
    assert "[pager-child] child: reading 0x18000000" in capture.labelled


def test_the_childs_stacks_live_in_its_stack_area_and_the_parents_do_not(
        tree: tuple[Session, Capture, SessionResult]) -> None:
    session, _, _ = tree
    parent, child = session.machine.components
    area = range(STACK_AREA_BASE, STACK_AREA_BASE + STACK_AREA_SIZE)
    stacks = [t.stack for t in child.threads.values() if t.stack]
    assert stacks and all(start in area and start + size - 1 in area for start, size in stacks)
    assert parent.pd.stack_area is None
    assert parent.threads[1].stack is not None and parent.threads[1].stack[0] not in area


def test_a_fault_of_the_child_reaches_the_parents_handler_and_its_attach_resolves_it(
        tree: tuple[Session, Capture, SessionResult]) -> None:
    _, capture, _ = tree
    at = capture.labelled.index("[pd_child] parent: child faults: READ at 0x18000000")
    assert capture.labelled[at + 1:at + 3] == ["[pd_child] parent: attached shared RAM there",
                                               "[pager-child] child: read 0x1234"]


def test_a_child_may_not_free_ram_its_parent_shared_with_it(
        tree: tuple[Session, Capture, SessionResult]) -> None:
    _, capture, _ = tree
    assert "[pager-child] child: freeing its parent's RAM: denied" in capture.labelled


def test_a_delegated_signal_context_lets_the_child_signal_its_parent(
        tree: tuple[Session, Capture, SessionResult]) -> None:
    _, capture, _ = tree
    assert capture.labelled[-1] == "[pd_child] parent: child answered 0x1235"


def test_the_parent_may_not_destroy_the_childs_address_space(
        tree: tuple[Session, Capture, SessionResult]) -> None:
    _, capture, _ = tree
    assert "[pd_child] parent: the child's address space cannot be destroyed: 1" in (
        capture.labelled)


def test_when_the_parent_exits_its_child_ends_with_it(
        tree: tuple[Session, Capture, SessionResult]) -> None:
    session, _, result = tree
    assert (result.outcome, result.exit_code) == (Outcome.EXITED, 0)
    assert all(c.exited for c in session.machine.components)
