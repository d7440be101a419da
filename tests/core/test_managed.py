"""Managed dataspaces: a region map used as a dataspace."""

from __future__ import annotations

import pytest

from rtcr.core import PAGE_SIZE, Core, ProtectionDomain, host_read, host_write
from rtcr.errors import InvalidArgument, PageFault


def test_dataspace_is_same_object_every_call(core: Core) -> None:
    rm = core.create_region_map(1 << 20)
    assert rm.dataspace() is rm.dataspace()
    assert rm.dataspace().size == rm.size
    assert rm.dataspace().region_map is rm


def test_managed_dataspace_properties(core: Core) -> None:
    ds = core.create_region_map(PAGE_SIZE).dataspace()
    assert ds.writeable
    assert ds.valid
    assert ds.owner is None
    assert not ds.sealed
    with pytest.raises(InvalidArgument):
        ds.frame(0)


def test_managed_dataspace_host_access_goes_through_pager(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ram = pd.alloc_ram(PAGE_SIZE)
    rm.attach(ram, at=0x2000, writeable=False)
    ram.write(0, b"visible")
    managed = rm.dataspace()
    assert host_read(managed.region_map, 0x2000, 7) == b"visible"
    with pytest.raises(PageFault):
        host_write(managed.region_map, 0x2000, b"x")
    with pytest.raises(PageFault):
        host_read(managed.region_map, 0, 1)
    with pytest.raises(InvalidArgument):
        managed.read(0x2000, 1)  # no frames of its own


def test_region_records_attach_parameters(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(4 * PAGE_SIZE)
    rm.attach(ds, size=2 * PAGE_SIZE, offset=PAGE_SIZE, at=0x8000, executable=True, writeable=False)
    (region,) = rm.regions()
    assert (region.start, region.size, region.offset) == (0x8000, 2 * PAGE_SIZE, PAGE_SIZE)
    assert (region.writeable, region.executable) == (False, True)
    assert region.dataspace is ds and region.region_map is rm
    assert ds.regions == [region]
