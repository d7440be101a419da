"""Genode's rm_nested scenario: faults in and stacking of nested region maps."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from rtcr.core import PAGE_SIZE, Core, FaultType, ProtectionDomain, RegionMap
from rtcr.errors import PageFault

MANAGED_SIZE = 0x10000


def test_handler_populates_unattached_sub_map_page_by_page(
    core: Core, pd: ProtectionDomain
) -> None:
    sub = core.create_region_map(MANAGED_SIZE)
    faults: list[int] = []

    def handler(rm: RegionMap) -> None:
        fault = rm.fault()
        faults.append(fault.addr)
        rm.attach(pd.alloc_ram(PAGE_SIZE), at=fault.addr & ~(PAGE_SIZE - 1))

    sub.fault_handler(handler)
    base = pd.address_space.attach(sub.dataspace()).start
    for off in range(0, MANAGED_SIZE, PAGE_SIZE // 16):
        pd.address_space.write(base + off, b"\x0d")
    assert faults == list(range(0, MANAGED_SIZE, PAGE_SIZE))
    assert pd.address_space.read(base + 0x1100, 1) == b"\x0d"


@dataclass
class Stack:
    top: RegionMap
    shim1: RegionMap
    shim2: RegionMap
    bottom: RegionMap
    read_shim2: int  # address-space address of shim2's read-only RAM
    write_bottom: int  # address-space address of bottom's RAM


@pytest.fixture
def stack(core: Core, pd: ProtectionDomain) -> Stack:
    aspace = pd.address_space
    top = core.create_region_map(40 << 10)
    shim1 = core.create_region_map(24 << 10)
    shim2 = core.create_region_map(16 << 10)
    bottom = core.create_region_map(40 << 10)
    addr_top = aspace.attach(top.dataspace()).start
    addr_shim1 = top.attach(shim1.dataspace()).start
    addr_shim2 = top.attach(shim2.dataspace()).start
    shim2.attach(pd.alloc_ram(2 * PAGE_SIZE), at=0x1000, writeable=False)
    size_bottom = (40 << 10) - (16 << 10)
    addr_bottom = shim1.attach(bottom.dataspace(), size=size_bottom, writeable=False).start
    bottom_ram = pd.alloc_ram(40 << 10)
    bottom_ram.write(0, b"\xff" * (40 << 10))
    bottom.attach(bottom_ram, at=0)
    return Stack(
        top,
        shim1,
        shim2,
        bottom,
        addr_top + addr_shim2 + 0x1000,
        addr_top + addr_shim1 + addr_bottom,
    )


def test_fresh_ram_in_stacked_map_reads_zero(stack: Stack, pd: ProtectionDomain) -> None:
    aspace = pd.address_space
    assert aspace.read(stack.read_shim2, 4) == bytes(4)
    assert aspace.read(stack.read_shim2 + PAGE_SIZE, 4) == bytes(4)


def test_three_level_stack_reads_bottom_content(stack: Stack, pd: ProtectionDomain) -> None:
    assert pd.address_space.read(stack.write_bottom, 4) == b"\xff" * 4


def test_write_through_read_only_middle_level_faults_at_leaf(
    stack: Stack, pd: ProtectionDomain
) -> None:
    with pytest.raises(PageFault) as info:
        pd.address_space.write(stack.write_bottom + 8, b"x")
    assert info.value.fault.type is FaultType.WRITE
    assert info.value.fault.addr == 8  # in bottom's coordinates


def test_write_to_read_only_ram_in_shim_faults(stack: Stack, pd: ProtectionDomain) -> None:
    seen: list[RegionMap] = []
    stack.shim2.fault_handler(seen.append)
    with pytest.raises(PageFault) as info:
        pd.address_space.write(stack.read_shim2, b"x")
    assert seen == [stack.shim2]
    assert info.value.fault.addr == 0x1000


def test_unattached_sub_map_fault_reflected_to_leaf_exactly_once(
    stack: Stack, pd: ProtectionDomain
) -> None:
    counts = {"shim2": 0, "top": 0, "aspace": 0}
    faults = []

    def on_shim2(rm: RegionMap) -> None:
        counts["shim2"] += 1
        faults.append(rm.fault())

    stack.shim2.fault_handler(on_shim2)
    stack.top.fault_handler(lambda rm: counts.__setitem__("top", counts["top"] + 1))
    pd.address_space.fault_handler(lambda rm: counts.__setitem__("aspace", counts["aspace"] + 1))
    with pytest.raises(PageFault):
        pd.address_space.read(stack.read_shim2 - PAGE_SIZE, 4)
    assert counts == {"shim2": 1, "top": 0, "aspace": 0}
    assert faults[0].type is FaultType.READ
    assert faults[0].addr == 0
    assert stack.shim2.faulters() == []  # the host access gave up and left the queue
