"""Genode's sub_rm scenario: populating a managed dataspace by hand."""

from __future__ import annotations

import pytest

from rtcr.core import PAGE_SIZE, Core, ProtectionDomain, RamDataspace, RegionMap, host_read
from rtcr.errors import RegionConflict

SUB_SIZE = 1 << 20
PATTERN_1 = b"first pattern in page zero\0"
PATTERN_2 = b"second pattern in page one\0"

Setup = tuple[RegionMap, RamDataspace]


@pytest.fixture
def setup(core: Core, pd: ProtectionDomain) -> Setup:
    sub = core.create_region_map(SUB_SIZE)
    ds = pd.alloc_ram(4 * PAGE_SIZE)
    ds.write(0, PATTERN_1)
    ds.write(PAGE_SIZE, PATTERN_2)
    return sub, ds


def test_read_only_attach_in_sub_map_is_visible_through_parent(
    setup: Setup, pd: ProtectionDomain
) -> None:
    sub, ds = setup
    sub.attach(ds, at=0x1000, writeable=False)
    base = pd.address_space.attach(sub.dataspace()).start
    assert host_read(pd.address_space, base + 0x1000, len(PATTERN_1)) == PATTERN_1


def test_attach_into_already_attached_sub_map_is_visible(
    setup: Setup, pd: ProtectionDomain
) -> None:
    sub, ds = setup
    base = pd.address_space.attach(sub.dataspace()).start
    sub.attach(ds, at=0x40000, writeable=False)
    assert host_read(pd.address_space, base + 0x40000, len(PATTERN_1)) == PATTERN_1


def test_attach_past_sub_map_boundary_conflicts(setup: Setup) -> None:
    sub, ds = setup
    with pytest.raises(RegionConflict):
        sub.attach(ds, at=SUB_SIZE - PAGE_SIZE)


def test_overlapping_attach_in_sub_map_conflicts(setup: Setup) -> None:
    sub, ds = setup
    sub.attach(ds, at=0x1000)
    with pytest.raises(RegionConflict):
        sub.attach(ds, at=0x2000)


def test_attach_with_offset_shrinks_region(setup: Setup, pd: ProtectionDomain) -> None:
    sub, ds = setup
    rng = sub.attach(ds, offset=PAGE_SIZE, at=0x80000)
    assert rng.size == 3 * PAGE_SIZE
    base = pd.address_space.attach(sub.dataspace()).start
    assert host_read(pd.address_space, base + 0x80000, len(PATTERN_2)) == PATTERN_2


def test_attach_with_offset_and_size_maps_window(setup: Setup, pd: ProtectionDomain) -> None:
    sub, ds = setup
    rng = sub.attach(ds, size=2 * PAGE_SIZE, offset=PAGE_SIZE, at=0xC0000)
    assert rng.size == 2 * PAGE_SIZE
    assert host_read(sub, 0xC0000, len(PATTERN_2)) == PATTERN_2
    assert sub.region_at(0xC0000 + 2 * PAGE_SIZE) is None


def test_sub_map_accepts_attach_anywhere(setup: Setup) -> None:
    sub, ds = setup
    rng = sub.attach(ds)
    assert rng.start % (4 * PAGE_SIZE) == 0
