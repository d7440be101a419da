"""PD sessions in core: session quota, reference accounts, transfers, foreign RAM."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtcr.abi import (
    PD_SESSION_CAP_QUOTA,
    PD_SESSION_RAM_QUOTA,
    STACK_AREA_BASE,
    STACK_AREA_SIZE,
)
from rtcr.core import Core, ProtectionDomain
from rtcr.errors import Denied, OutOfCaps, OutOfRam


def _session(core: Core, pd: ProtectionDomain) -> ProtectionDomain:
    child = core.create_pd_session(pd, "child")
    child.ref_account(pd)
    return child


def test_a_pd_session_is_paid_with_session_quota_of_its_creator(core: Core,
                                                                pd: ProtectionDomain) -> None:
    ram, caps = pd.avail_ram(), pd.avail_caps()
    child = core.create_pd_session(pd, "child")
    assert (ram - pd.avail_ram(), caps - pd.avail_caps()) == (PD_SESSION_RAM_QUOTA,
                                                              PD_SESSION_CAP_QUOTA + 1)
    assert (child.ram_quota(), child.cap_quota()) == (PD_SESSION_RAM_QUOTA, PD_SESSION_CAP_QUOTA)
    assert pd.cap_space.selector(child) is not None


def test_a_creator_that_cannot_pay_gets_nothing(core: Core) -> None:
    poor = core.create_pd("poor", ram_quota=PD_SESSION_RAM_QUOTA - 4096, cap_quota=100)
    with pytest.raises(OutOfRam):
        core.create_pd_session(poor, "child")
    assert (poor.avail_ram(), poor.avail_caps(), len(core.pds())) == (
        PD_SESSION_RAM_QUOTA - 4096, 100, 1)
    few = core.create_pd("few", ram_quota=1 << 20, cap_quota=PD_SESSION_CAP_QUOTA)
    with pytest.raises(OutOfCaps):
        core.create_pd_session(few, "child")


def test_without_reference_account_no_quota_moves(core: Core, pd: ProtectionDomain) -> None:
    child = core.create_pd_session(pd, "child")
    with pytest.raises(Denied):
        pd.transfer_ram(child, 4096)
    assert child.ram_quota() == PD_SESSION_RAM_QUOTA


def test_the_reference_account_is_set_only_once(core: Core, pd: ProtectionDomain) -> None:
    child = _session(core, pd)
    sibling = _session(core, pd)
    child.ref_account(sibling)
    assert child.reference_account is pd
    with pytest.raises(Denied):
        child.transfer_ram(sibling, 4096)


def test_session_quota_cannot_be_transferred_back(core: Core, pd: ProtectionDomain) -> None:
    child = _session(core, pd)
    with pytest.raises(OutOfRam):
        child.transfer_ram(pd, 4096)
    with pytest.raises(OutOfCaps):
        child.transfer_caps(pd, 1)


@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.integers(0, 3 << 20)), max_size=20))
def test_transfers_conserve_quota(moves: list[tuple[bool, bool, int]]) -> None:
    core = Core(ram_size=16 << 20)
    pd = core.create_pd("app", ram_quota=8 << 20, cap_quota=100)
    child = _session(core, pd)
    total_ram = pd.ram_quota() + child.ram_quota()
    total_caps = pd.cap_quota() + child.cap_quota()
    for down, ram, amount in moves:
        source, target = (pd, child) if down else (child, pd)
        before = (source.ram_quota(), source.cap_quota())
        try:
            if ram:
                source.transfer_ram(target, amount)
            else:
                source.transfer_caps(target, amount)
        except (OutOfRam, OutOfCaps):
            assert (source.ram_quota(), source.cap_quota()) == before
        assert child.ram_quota() >= PD_SESSION_RAM_QUOTA
        assert child.cap_quota() >= PD_SESSION_CAP_QUOTA
    assert pd.ram_quota() + child.ram_quota() == total_ram
    assert pd.cap_quota() + child.cap_quota() == total_caps


def test_ram_on_a_pd_session_is_charged_to_it_and_freed_only_by_it(
        core: Core, pd: ProtectionDomain) -> None:
    child = _session(core, pd)
    used = pd.used_ram()
    ds = child.alloc_ram(8192)
    assert (child.used_ram(), pd.used_ram()) == (8192, used)
    with pytest.raises(Denied):
        pd.free_ram(ds)
    with pytest.raises(Denied):
        pd.seal_ram(ds)
    assert ds.valid and not ds.sealed
    child.free_ram(ds)
    assert child.used_ram() == 0


def test_revoke_removes_the_capability_from_every_space(core: Core,
                                                         pd: ProtectionDomain) -> None:
    child = _session(core, pd)
    ds = child.alloc_ram(4096)
    pd.cap_space.insert(ds)
    caps = pd.used_caps()
    child.free_ram(ds)
    core.revoke(ds)
    assert pd.cap_space.selectors(ds) == [] and child.cap_space.selectors(ds) == []
    assert pd.used_caps() == caps - 1


def test_a_dissolved_signal_context_drops_its_submissions_and_ignores_later_ones(
        pd: ProtectionDomain) -> None:
    receiver = pd.signal_receiver
    kept, dissolved = receiver.create_context(), receiver.create_context()
    dissolved.submit()
    kept.submit()
    receiver.dissolve(dissolved)
    dissolved.submit()
    assert receiver.pending_queue() == [kept]
    assert dissolved.freed and dissolved not in receiver.contexts()


def test_a_pd_session_has_a_stack_area_in_its_address_space(core: Core,
                                                            pd: ProtectionDomain) -> None:
    child = core.create_pd_session(pd, "child")
    assert child.stack_area is not None and pd.stack_area is None
    region = child.address_space.region_at(STACK_AREA_BASE)
    assert region is not None and region.dataspace is child.stack_area.dataspace()
    assert (region.start, region.size) == (STACK_AREA_BASE, STACK_AREA_SIZE)
