"""Capability delegation to PD sessions, and revocation that reaches every holder.

The component (components/pd_delegation.cc) prints one LOG line per behaviour.
"""

from __future__ import annotations

import pytest
from genode_support import Build, Run, run

from rtcr.checkpoint import Outcome


@pytest.fixture(scope="module")
def delegation(genode_component: Build) -> Run:
    return run(genode_component("pd_delegation"))


@pytest.mark.parametrize(("prefix", "expected"), [
    ("a delegated dataspace", "a delegated dataspace gets a selector there: 1 "
                              "charged to that PD: 1"),
    ("delegating it again", "delegating it again gives the same selector: 1 and costs nothing: 1"),
    ("a delegated signal context", "a delegated signal context gets a selector there: 1 "
                                   "charged: 1"),
    ("its managed dataspace", "its managed dataspace can: 1 charged: 1"),
    ("a region map cannot", "a region map cannot be delegated: 1"),
    ("delegation stops", "delegation stops at the holder's cap quota: 1 after 21 of 21 caps"),
])
def test_a_delegated_capability_gets_a_selector_of_its_own_paid_by_the_holder(
        delegation: Run, prefix: str, expected: str) -> None:
    assert [line for line in delegation.lines if line.startswith(prefix)] == [expected]


@pytest.mark.parametrize(("prefix", "expected"), [
    ("the owner's free", "the owner's free revokes it there: 0"),
    ("dissolving the handler", "dissolving the handler revokes its context there: 0"),
    ("destroying the map", "destroying the map revokes its dataspace there: 0"),
])
def test_revocation_at_the_owner_reaches_every_holder(delegation: Run, prefix: str,
                                                      expected: str) -> None:
    assert [line for line in delegation.lines if line.startswith(prefix)] == [expected]
    assert (delegation.result.outcome, delegation.result.exit_code) == (Outcome.EXITED, 0)
