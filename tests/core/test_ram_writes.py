"""Host writes of physical RAM are reported: a CPU may hold code translated from those frames."""

from __future__ import annotations

from rtcr.core import PAGE_SIZE, Core, ProtectionDomain, host_write
from rtcr.core.ram import PhysicalRam


def _listen(ram: PhysicalRam) -> list[tuple[int, int]]:
    seen: list[tuple[int, int]] = []
    ram.write_listeners.append(lambda phys, size: seen.append((phys, size)))
    return seen


def _frames_in(ranges: list[tuple[int, int]]) -> list[int]:
    return sorted(page // PAGE_SIZE for phys, size in ranges
                  for page in range(phys, phys + size, PAGE_SIZE))


def test_releasing_frames_reports_every_zeroed_frame_once() -> None:
    ram = PhysicalRam(16 * PAGE_SIZE)
    frames = ram.alloc(3) + ram.alloc(2)[1:]  # one gap: two runs
    seen = _listen(ram)
    ram.release(frames)
    assert _frames_in(seen) == sorted(frames)
    assert len(seen) == 2


def test_a_host_write_through_a_region_map_reports_the_bytes_it_wrote(
        core: Core, pd: ProtectionDomain) -> None:
    ds = pd.alloc_ram(2 * PAGE_SIZE)
    at = pd.address_space.attach(ds).start
    seen = _listen(core.ram)
    host_write(pd.address_space, at + PAGE_SIZE - 8, bytes(24))
    assert seen == [(ds.frame(0) + PAGE_SIZE - 8, 8), (ds.frame(1), 16)]


def test_a_dataspace_write_reports_the_bytes_it_wrote(core: Core, pd: ProtectionDomain) -> None:
    ds = pd.alloc_ram(PAGE_SIZE)
    seen = _listen(core.ram)
    ds.write(100, b"code")
    assert seen == [(ds.frame(0) + 100, 4)]
