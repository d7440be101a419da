"""Flushing: every mapping derived from a dying region is invalidated in each address space."""

from __future__ import annotations

from rtcr.core import PAGE_SIZE, Core, ProtectionDomain, RegionMap


class Recorder:
    """An address space (the machine's CPU in real use) that records its flushes."""

    def __init__(self) -> None:
        self.flushes: list[tuple[int, int]] = []

    def flush(self, start: int, size: int) -> None:
        self.flushes.append((start, size))


def record(rm: RegionMap) -> list[tuple[int, int]]:
    recorder = Recorder()
    rm.bind_address_space(recorder)
    return recorder.flushes


def test_detach_flushes_region(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.attach(pd.alloc_ram(2 * PAGE_SIZE), at=0x4000)
    flushes = record(rm)
    rm.detach(0x4000)
    assert flushes == [(0x4000, 2 * PAGE_SIZE)]


def test_attach_does_not_flush(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    flushes = record(rm)
    rm.attach(pd.alloc_ram(PAGE_SIZE))
    assert flushes == []


def test_detach_in_nested_map_flushes_parent_coordinates(core: Core, pd: ProtectionDomain) -> None:
    inner = core.create_region_map(0x10000)
    inner.attach(pd.alloc_ram(PAGE_SIZE), at=0x3000)
    pd.address_space.attach(inner.dataspace(), at=0x100000)
    outer_flushes = record(pd.address_space)
    inner_flushes = record(inner)
    inner.detach(0x3000)
    assert inner_flushes == [(0x3000, PAGE_SIZE)]
    assert outer_flushes == [(0x103000, PAGE_SIZE)]


def test_flush_is_clipped_to_attached_window(core: Core, pd: ProtectionDomain) -> None:
    inner = core.create_region_map(0x10000)
    inner.attach(pd.alloc_ram(4 * PAGE_SIZE), at=0x2000)  # [0x2000, 0x6000)
    outer = core.create_region_map(1 << 20)
    outer.attach(inner.dataspace(), size=0x2000, offset=0x4000, at=0x20000)  # window [4000,6000)
    outer.attach(inner.dataspace(), size=0x1000, offset=0x8000, at=0x30000)  # unrelated window
    flushes = record(outer)
    inner.detach(0x2000)
    assert flushes == [(0x20000, 0x2000)]


def test_flush_reaches_every_map_through_multiple_levels(core: Core, pd: ProtectionDomain) -> None:
    a = core.create_region_map(1 << 20)
    b = core.create_region_map(1 << 16)
    c = core.create_region_map(1 << 14)
    c.attach(pd.alloc_ram(PAGE_SIZE), at=0x1000)
    b.attach(c.dataspace(), at=0x8000)
    a.attach(b.dataspace(), at=0x40000)
    a.attach(c.dataspace(), at=0x80000)
    flushes = record(a)
    c.detach(0x1000)
    assert sorted(flushes) == [(0x49000, PAGE_SIZE), (0x81000, PAGE_SIZE)]


def test_free_flushes_every_region_of_dataspace(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(PAGE_SIZE)
    rm.attach(ds, at=0x1000)
    rm.attach(ds, at=0x9000)
    other = core.create_pd("other", ram_quota=1 << 20, cap_quota=10)
    other.address_space.attach(ds, at=0x200000)
    flushes = record(rm)
    other_flushes = record(other.address_space)
    pd.free_ram(ds)
    assert sorted(flushes) == [(0x1000, PAGE_SIZE), (0x9000, PAGE_SIZE)]
    assert other_flushes == [(0x200000, PAGE_SIZE)]


def test_seal_flushes_nothing_existing_attachments_keep_their_rights(
        core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(PAGE_SIZE)
    rm.attach(ds, at=0x1000)
    flushes = record(rm)
    pd.seal_ram(ds)
    assert flushes == []


def test_revoking_seal_flushes_writable_regions_only(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(PAGE_SIZE)
    rm.attach(ds, at=0x1000)
    rm.attach(ds, at=0x5000, writeable=False)
    flushes = record(rm)
    pd.seal_ram(ds, revoke=True)
    assert flushes == [(0x1000, PAGE_SIZE)]


def test_unbound_address_space_is_not_flushed(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=0)
    flushes = record(rm)
    rm.bind_address_space(None)
    rm.detach(0)
    assert flushes == []


def test_destroying_a_map_flushes_every_window_onto_it(core: Core, pd: ProtectionDomain) -> None:
    inner = core.create_region_map(0x10000)
    inner.attach(pd.alloc_ram(PAGE_SIZE), at=0x3000)
    outer = core.create_region_map(1 << 20)
    outer.attach(inner.dataspace(), at=0x40000)
    flushes = record(outer)
    core.destroy_region_map(inner)
    assert (0x40000, 0x10000) in flushes
