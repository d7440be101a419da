"""Capability spaces: selectors, kinds and cap-quota accounting."""

from __future__ import annotations

import pytest

from rtcr.abi import ADDRESS_SPACE_SELECTOR, FIRST_DYNAMIC_SELECTOR
from rtcr.core import Core, Dataspace, ProtectionDomain, RegionMap, SignalContext
from rtcr.errors import InvalidArgument, InvalidCapability, OutOfCaps


def test_address_space_is_preinstalled_uncharged(pd: ProtectionDomain) -> None:
    assert pd.cap_space.lookup(ADDRESS_SPACE_SELECTOR, RegionMap) is pd.address_space
    assert pd.avail_caps() == 100


def test_insert_hands_out_increasing_selectors(core: Core, pd: ProtectionDomain) -> None:
    a = pd.cap_space.insert(core.create_region_map(4096))
    b = pd.cap_space.insert(pd.signal_receiver.create_context())
    assert (a, b) == (FIRST_DYNAMIC_SELECTOR, FIRST_DYNAMIC_SELECTOR + 1)
    assert pd.avail_caps() == 98


def test_selectors_are_not_reused_after_remove(core: Core, pd: ProtectionDomain) -> None:
    a = pd.cap_space.insert(object())
    pd.cap_space.remove(a)
    assert pd.cap_space.insert(object()) == a + 1
    assert pd.avail_caps() == 99


def test_lookup_checks_kind(core: Core, pd: ProtectionDomain) -> None:
    sel = pd.cap_space.insert(pd.signal_receiver.create_context())
    assert isinstance(pd.cap_space.lookup(sel, SignalContext), SignalContext)
    assert isinstance(pd.cap_space.lookup(sel, object), SignalContext)
    with pytest.raises(InvalidCapability):
        pd.cap_space.lookup(sel, Dataspace)


def test_unknown_and_stale_selectors_are_invalid(pd: ProtectionDomain) -> None:
    with pytest.raises(InvalidCapability):
        pd.cap_space.lookup(77, object)
    sel = pd.cap_space.insert(object())
    pd.cap_space.remove(sel)
    with pytest.raises(InvalidCapability):
        pd.cap_space.lookup(sel, object)
    with pytest.raises(InvalidCapability):
        pd.cap_space.remove(sel)


def test_selector_means_nothing_in_another_pd(core: Core, pd: ProtectionDomain) -> None:
    other = core.create_pd("other", ram_quota=1 << 20, cap_quota=10)
    ds = pd.alloc_ram(4096)
    sel = pd.cap_space.selector(ds)
    assert sel is not None
    with pytest.raises(InvalidCapability):
        other.cap_space.lookup(sel, Dataspace)


def test_insert_at_restores_selector_and_advances_counter(pd: ProtectionDomain) -> None:
    obj = object()
    assert pd.cap_space.insert_at(10, obj) == 10
    assert pd.cap_space.lookup(10, object) is obj
    assert pd.cap_space.next_selector == 11
    assert pd.avail_caps() == 99
    with pytest.raises(InvalidArgument):
        pd.cap_space.insert_at(10, object())
    with pytest.raises(InvalidArgument):
        pd.cap_space.insert_at(ADDRESS_SPACE_SELECTOR, object())


def test_insert_beyond_cap_quota_raises(core: Core) -> None:
    pd = core.create_pd("p", ram_quota=0, cap_quota=1)
    pd.cap_space.insert(object())
    with pytest.raises(OutOfCaps):
        pd.cap_space.insert(object())
    with pytest.raises(OutOfCaps):
        pd.cap_space.insert_at(50, object())
    assert pd.cap_space.next_selector == FIRST_DYNAMIC_SELECTOR + 1
    assert len(pd.cap_space.items()) == 2


def test_items_are_sorted_by_selector(pd: ProtectionDomain) -> None:
    pd.cap_space.insert_at(9, "nine")
    pd.cap_space.insert_at(4, "four")
    assert [sel for sel, _ in pd.cap_space.items()] == [1, 4, 9]
