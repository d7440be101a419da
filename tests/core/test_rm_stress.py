"""Genode's rm_stress scenario: many attach/detach cycles at reused addresses.

A flush listener acts as a software TLB, as the machine's would: after every
cycle, what the TLB holds must be what a fresh resolve says.
"""

from __future__ import annotations

from rtcr.core import PAGE_SIZE, Access, Core, Mapping, ProtectionDomain, RegionMap, resolve


class SoftTlb:
    """Translations cached from the pager and dropped on flush."""

    def __init__(self, rm: RegionMap) -> None:
        self.rm = rm
        self.entries: dict[int, Mapping] = {}
        rm.bind_address_space(self)

    def flush(self, start: int, size: int) -> None:
        for page in [p for p in self.entries if start <= p < start + size]:
            del self.entries[page]

    def translate(self, addr: int) -> Mapping | None:
        page = addr & ~(PAGE_SIZE - 1)
        hit = self.entries.get(page)
        if hit is None:
            result = resolve(self.rm, page, Access.READ)
            if not isinstance(result, Mapping):
                return None
            self.entries[page] = hit = result
        return hit


def test_ten_thousand_attach_detach_cycles_leave_no_stale_mapping(
    core: Core, pd: ProtectionDomain
) -> None:
    rm = pd.address_space
    tlb = SoftTlb(rm)
    buf = core.ram.buffer
    dataspaces = []
    for marker in range(4):
        ds = pd.alloc_ram(2 * PAGE_SIZE)
        ds.write(0, bytes([marker + 1]))
        ds.write(PAGE_SIZE, bytes([marker + 0x11]))
        dataspaces.append(ds)
    addresses = [0x100000, 0x102000, 0x104000]
    for cycle in range(10_000):
        marker = cycle % len(dataspaces)
        at = addresses[cycle % len(addresses)]
        rm.attach(dataspaces[marker], at=at)
        first = tlb.translate(at)
        second = tlb.translate(at + PAGE_SIZE)
        assert first is not None and second is not None
        assert buf[first.phys] == marker + 1
        assert buf[second.phys] == marker + 0x11
        rm.detach(at + PAGE_SIZE)
        assert tlb.translate(at) is None
        assert tlb.entries == {}
