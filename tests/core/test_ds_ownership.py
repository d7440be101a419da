"""Only the owner may free or seal a dataspace; any holder may attach it."""

from __future__ import annotations

import pytest

from rtcr.core import PAGE_SIZE, Core, host_read
from rtcr.errors import Denied


def test_other_pd_cannot_free_dataspace(core: Core) -> None:
    owner = core.create_pd("owner", ram_quota=1 << 20, cap_quota=10)
    other = core.create_pd("other", ram_quota=1 << 20, cap_quota=10)
    ds = owner.alloc_ram(PAGE_SIZE)
    ds.write(0, b"keep")
    with pytest.raises(Denied):
        other.free_ram(ds)
    assert ds.valid
    assert ds.read(0, 4) == b"keep"
    assert owner.used_ram() == PAGE_SIZE
    assert other.used_ram() == 0


def test_other_pd_cannot_seal_dataspace(core: Core) -> None:
    owner = core.create_pd("owner", ram_quota=1 << 20, cap_quota=10)
    other = core.create_pd("other", ram_quota=1 << 20, cap_quota=10)
    ds = owner.alloc_ram(PAGE_SIZE)
    with pytest.raises(Denied):
        other.seal_ram(ds)
    assert not ds.sealed
    assert ds.writeable


def test_rom_and_managed_dataspaces_cannot_be_freed(core: Core) -> None:
    pd = core.create_pd("pd", ram_quota=1 << 20, cap_quota=10)
    with pytest.raises(Denied):
        pd.free_ram(core.create_rom("r", b"x"))
    with pytest.raises(Denied):
        pd.free_ram(core.create_region_map(PAGE_SIZE).dataspace())


def test_other_pd_may_attach_dataspace(core: Core) -> None:
    owner = core.create_pd("owner", ram_quota=1 << 20, cap_quota=10)
    other = core.create_pd("other", ram_quota=1 << 20, cap_quota=10)
    ds = owner.alloc_ram(PAGE_SIZE)
    ds.write(0, b"shared")
    rng = other.address_space.attach(ds)
    assert host_read(other.address_space, rng.start, 6) == b"shared"


def test_owner_free_reserves_regions_in_other_pd(core: Core) -> None:
    owner = core.create_pd("owner", ram_quota=1 << 20, cap_quota=10)
    other = core.create_pd("other", ram_quota=1 << 20, cap_quota=10)
    ds = owner.alloc_ram(PAGE_SIZE)
    rng = other.address_space.attach(ds)
    owner.free_ram(ds)
    assert other.address_space.region_at(rng.start) is not None
