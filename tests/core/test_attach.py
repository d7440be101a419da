"""Region-map attach/detach rules."""

from __future__ import annotations

import pytest

from rtcr.core import NULL_GUARD, PAGE_SIZE, Core, ProtectionDomain, Range, host_read, host_write
from rtcr.errors import (
    InvalidArgument,
    InvalidDataspace,
    NoRegion,
    PageFault,
    RegionConflict,
    RtcrError,
)


def test_region_map_size_is_page_rounded(core: Core) -> None:
    assert core.create_region_map(5000).size == 2 * PAGE_SIZE


def test_attach_at_returns_range(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(2 * PAGE_SIZE)
    assert rm.attach(ds, at=0x4000) == Range(0x4000, 2 * PAGE_SIZE)


def test_size_zero_means_rest_of_dataspace(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(4 * PAGE_SIZE)
    assert rm.attach(ds, offset=PAGE_SIZE, at=0).size == 3 * PAGE_SIZE


def test_misaligned_offset_is_invalid(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    with pytest.raises(InvalidArgument):
        rm.attach(pd.alloc_ram(2 * PAGE_SIZE), offset=100)


def test_misaligned_at_or_size_is_invalid(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(2 * PAGE_SIZE)
    with pytest.raises(InvalidArgument):
        rm.attach(ds, at=0x1001)
    with pytest.raises(InvalidArgument):
        rm.attach(ds, size=100)


def test_offset_outside_dataspace_conflicts(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    with pytest.raises(RegionConflict):
        rm.attach(pd.alloc_ram(PAGE_SIZE), offset=PAGE_SIZE)


def test_range_past_dataspace_conflicts(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    with pytest.raises(RegionConflict):
        rm.attach(pd.alloc_ram(2 * PAGE_SIZE), size=2 * PAGE_SIZE, offset=PAGE_SIZE)


def test_range_past_region_map_conflicts(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(4 * PAGE_SIZE)
    with pytest.raises(RegionConflict):
        rm.attach(pd.alloc_ram(2 * PAGE_SIZE), at=3 * PAGE_SIZE)
    with pytest.raises(RegionConflict):
        rm.attach(pd.alloc_ram(8 * PAGE_SIZE))


def test_overlap_conflicts(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.attach(pd.alloc_ram(2 * PAGE_SIZE), at=0x2000)
    with pytest.raises(RegionConflict):
        rm.attach(pd.alloc_ram(PAGE_SIZE), at=0x3000)
    with pytest.raises(RegionConflict):
        rm.attach(pd.alloc_ram(2 * PAGE_SIZE), at=0x1000)
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=0x1000)
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=0x4000)


def test_freed_dataspace_cannot_be_attached(core: Core, pd: ProtectionDomain) -> None:
    ds = pd.alloc_ram(PAGE_SIZE)
    pd.free_ram(ds)
    with pytest.raises(InvalidDataspace):
        core.create_region_map(1 << 20).attach(ds)


def test_attach_anywhere_is_naturally_aligned(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 24)
    rm.attach(pd.alloc_ram(PAGE_SIZE))
    rng = rm.attach(pd.alloc_ram(64 << 10))
    assert rng.start % (64 << 10) == 0
    rng = rm.attach(pd.alloc_ram(3 * PAGE_SIZE))
    assert rng.start % (2 * PAGE_SIZE) == 0


def test_attach_anywhere_falls_back_to_smaller_alignment(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(4 * PAGE_SIZE)
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=0)
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=3 * PAGE_SIZE)
    assert rm.attach(pd.alloc_ram(2 * PAGE_SIZE)) == Range(PAGE_SIZE, 2 * PAGE_SIZE)


def test_attach_anywhere_without_room_conflicts(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(2 * PAGE_SIZE)
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=0)
    with pytest.raises(RegionConflict):
        rm.attach(pd.alloc_ram(2 * PAGE_SIZE))


def test_address_space_never_attaches_below_null_guard(pd: ProtectionDomain) -> None:
    rng = pd.address_space.attach(pd.alloc_ram(PAGE_SIZE))
    assert rng.start >= NULL_GUARD
    with pytest.raises(RegionConflict):
        pd.address_space.attach(pd.alloc_ram(PAGE_SIZE), at=0)
    with pytest.raises(RegionConflict):
        pd.address_space.attach(pd.alloc_ram(2 * PAGE_SIZE), at=NULL_GUARD - PAGE_SIZE)


def test_null_pointer_access_faults(pd: ProtectionDomain) -> None:
    with pytest.raises(PageFault):
        host_read(pd.address_space, 0, 8)


def test_address_space_spans_user_half(pd: ProtectionDomain) -> None:
    assert pd.address_space.size == 1 << 47


def test_detach_removes_containing_region(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(2 * PAGE_SIZE)
    rm.attach(ds, at=0x4000)
    rm.detach(0x5000)
    assert rm.regions() == []
    assert ds.regions == []


def test_detach_without_region_raises(core: Core) -> None:
    rm = core.create_region_map(1 << 20)
    with pytest.raises(NoRegion):
        rm.detach(0x1000)
    assert issubclass(NoRegion, RtcrError)


def test_freed_dataspace_region_stays_reserved(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(PAGE_SIZE)
    rm.attach(ds, at=0)
    pd.free_ram(ds)
    with pytest.raises(RegionConflict):
        rm.attach(pd.alloc_ram(PAGE_SIZE), at=0)
    with pytest.raises(PageFault):
        host_read(rm, 0, 1)
    rm.detach(0)
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=0)


def test_same_dataspace_attached_twice_aliases(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(PAGE_SIZE)
    rm.attach(ds, at=0)
    rm.attach(ds, at=0x10000)
    host_write(rm, 0, b"alias")
    assert host_read(rm, 0x10000, 5) == b"alias"
    assert len(ds.regions) == 2
