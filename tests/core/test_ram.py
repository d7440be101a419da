"""RAM dataspaces, physical frames and quota accounting."""

from __future__ import annotations

import pytest

from rtcr.abi import FIRST_DYNAMIC_SELECTOR
from rtcr.core import PAGE_SIZE, Core, ProtectionDomain
from rtcr.errors import Denied, InvalidArgument, InvalidDataspace, OutOfCaps, OutOfRam


def test_alloc_rounds_size_up_to_pages(pd: ProtectionDomain) -> None:
    assert pd.alloc_ram(1).size == PAGE_SIZE
    assert pd.alloc_ram(PAGE_SIZE + 1).size == 2 * PAGE_SIZE


def test_alloc_of_zero_bytes_is_denied(pd: ProtectionDomain) -> None:
    with pytest.raises(Denied):
        pd.alloc_ram(0)
    assert pd.used_ram() == 0


def test_fresh_ram_reads_zero(core: Core, pd: ProtectionDomain) -> None:
    ds = pd.alloc_ram(3 * PAGE_SIZE)
    assert ds.read(0, ds.size) == bytes(ds.size)


def test_alloc_charges_ram_and_one_cap(pd: ProtectionDomain) -> None:
    caps = pd.avail_caps()
    ds = pd.alloc_ram(5000)
    assert pd.used_ram() == 2 * PAGE_SIZE
    assert pd.avail_ram() == (8 << 20) - 2 * PAGE_SIZE
    assert pd.avail_caps() == caps - 1
    assert pd.cap_space.selector(ds) == FIRST_DYNAMIC_SELECTOR


def test_free_refunds_ram_and_cap(pd: ProtectionDomain) -> None:
    caps = pd.avail_caps()
    ds = pd.alloc_ram(PAGE_SIZE)
    pd.free_ram(ds)
    assert pd.used_ram() == 0
    assert pd.avail_caps() == caps
    assert not ds.valid
    assert pd.cap_space.selector(ds) is None


def test_exhausting_ram_quota_raises_and_changes_nothing(core: Core) -> None:
    pd = core.create_pd("small", ram_quota=2 * PAGE_SIZE, cap_quota=10)
    pd.alloc_ram(PAGE_SIZE)
    free_frames = core.ram.free_frames
    with pytest.raises(OutOfRam):
        pd.alloc_ram(2 * PAGE_SIZE)
    assert pd.used_ram() == PAGE_SIZE
    assert pd.avail_caps() == 9
    assert core.ram.free_frames == free_frames


def test_exhausting_cap_quota_raises_and_changes_nothing(core: Core) -> None:
    pd = core.create_pd("few-caps", ram_quota=1 << 20, cap_quota=1)
    pd.alloc_ram(PAGE_SIZE)
    free_frames = core.ram.free_frames
    with pytest.raises(OutOfCaps):
        pd.alloc_ram(PAGE_SIZE)
    assert pd.used_ram() == PAGE_SIZE
    assert pd.avail_caps() == 0
    assert core.ram.free_frames == free_frames


def test_exhausting_physical_ram_raises_out_of_ram(core: Core) -> None:
    greedy = core.create_pd("greedy", ram_quota=1 << 30, cap_quota=10)
    with pytest.raises(OutOfRam):
        greedy.alloc_ram(core.ram.size + PAGE_SIZE)
    assert greedy.used_ram() == 0
    assert greedy.avail_caps() == 10


def test_freed_frames_are_zeroed_before_reuse(pd: ProtectionDomain) -> None:
    ds = pd.alloc_ram(PAGE_SIZE)
    ds.write(0, b"\xff" * PAGE_SIZE)
    phys = ds.frame(0)
    pd.free_ram(ds)
    again = pd.alloc_ram(PAGE_SIZE)
    assert again.frame(0) == phys
    assert again.read(0, PAGE_SIZE) == bytes(PAGE_SIZE)


def test_frame_is_offset_into_physical_buffer(core: Core, pd: ProtectionDomain) -> None:
    ds = pd.alloc_ram(2 * PAGE_SIZE)
    ds.write(PAGE_SIZE + 7, b"xyz")
    phys = ds.frame(1)
    assert core.ram.buffer[phys + 7 : phys + 10] == b"xyz"
    assert len(core.ram.buffer) == core.ram.size


def test_write_across_page_boundary_round_trips(pd: ProtectionDomain) -> None:
    ds = pd.alloc_ram(3 * PAGE_SIZE)
    data = bytes(range(256)) * 20
    ds.write(PAGE_SIZE - 100, data)
    assert ds.read(PAGE_SIZE - 100, len(data)) == data


def test_access_past_dataspace_end_is_invalid(pd: ProtectionDomain) -> None:
    ds = pd.alloc_ram(PAGE_SIZE)
    with pytest.raises(InvalidArgument):
        ds.read(PAGE_SIZE - 1, 2)
    with pytest.raises(InvalidArgument):
        ds.write(PAGE_SIZE, b"x")


def test_access_to_freed_dataspace_is_invalid(pd: ProtectionDomain) -> None:
    ds = pd.alloc_ram(PAGE_SIZE)
    pd.free_ram(ds)
    with pytest.raises(InvalidDataspace):
        ds.read(0, 1)
    with pytest.raises(InvalidDataspace):
        ds.write(0, b"x")
    with pytest.raises(InvalidDataspace):
        ds.frame(0)


def test_double_free_is_invalid(pd: ProtectionDomain) -> None:
    ds = pd.alloc_ram(PAGE_SIZE)
    pd.free_ram(ds)
    with pytest.raises(InvalidDataspace):
        pd.free_ram(ds)
    assert pd.used_ram() == 0


def test_rom_holds_content_and_is_not_charged(core: Core, pd: ProtectionDomain) -> None:
    rom = core.create_rom("binary", b"\x7fELF" + bytes(5000))
    assert rom.size == 2 * PAGE_SIZE
    assert rom.read(0, 4) == b"\x7fELF"
    assert not rom.writeable
    assert rom.owner is None
    assert pd.used_ram() == 0


def test_rom_write_is_denied(core: Core) -> None:
    rom = core.create_rom("ro", b"abc")
    with pytest.raises(Denied):
        rom.write(0, b"x")
    assert rom.read(0, 3) == b"abc"


def test_badges_are_unique_and_increasing(core: Core, pd: ProtectionDomain) -> None:
    a = pd.alloc_ram(PAGE_SIZE)
    rm = core.create_region_map(PAGE_SIZE)
    b = pd.alloc_ram(PAGE_SIZE)
    ctx = pd.signal_receiver.create_context()
    badges = [a.badge, rm.badge, rm.dataspace().badge, b.badge, ctx.badge]
    assert badges == sorted(badges)
    assert len(set(badges)) == len(badges)


def test_alloc_with_explicit_selector_for_restore(pd: ProtectionDomain) -> None:
    ds = pd.alloc_ram(PAGE_SIZE, selector=42)
    assert pd.cap_space.selector(ds) == 42
    assert pd.cap_space.next_selector == 43
