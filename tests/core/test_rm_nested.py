"""Genode's rm_nested scenario: faults in and stacking of nested region maps."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from core_support import Recording

from rtcr.core import (
    PAGE_SIZE,
    Core,
    Fault,
    FaultType,
    ProtectionDomain,
    RegionMap,
    Verdict,
    WalkFailure,
    host_read,
    host_write,
)
from rtcr.errors import PageFault

MANAGED_SIZE = 0x10000


def test_handler_populates_unattached_sub_map_page_by_page(
    core: Core, pd: ProtectionDomain
) -> None:
    sub = core.create_region_map(MANAGED_SIZE)

    def populate(rm: RegionMap, fault: Fault) -> None:
        rm.attach(pd.alloc_ram(PAGE_SIZE), at=fault.addr & ~(PAGE_SIZE - 1))

    handler = Recording(Verdict.RESOLVED, populate)
    sub.fault_handler(handler)
    base = pd.address_space.attach(sub.dataspace()).start
    for off in range(0, MANAGED_SIZE, PAGE_SIZE // 16):
        host_write(pd.address_space, base + off, b"\x0d")
    assert [f.addr for f in handler.faults] == list(range(0, MANAGED_SIZE, PAGE_SIZE))
    assert host_read(pd.address_space, base + 0x1100, 1) == b"\x0d"


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
    assert host_read(aspace, stack.read_shim2, 4) == bytes(4)
    assert host_read(aspace, stack.read_shim2 + PAGE_SIZE, 4) == bytes(4)


def test_three_level_stack_reads_bottom_content(stack: Stack, pd: ProtectionDomain) -> None:
    assert host_read(pd.address_space, stack.write_bottom, 4) == b"\xff" * 4


def test_write_through_read_only_middle_level_faults_at_leaf(
    stack: Stack, pd: ProtectionDomain
) -> None:
    with pytest.raises(PageFault) as info:
        host_write(pd.address_space, stack.write_bottom + 8, b"x")
    assert info.value.fault.type is FaultType.WRITE
    assert info.value.fault.addr == 8  # in bottom's coordinates


def test_write_through_read_only_middle_level_is_a_violation_at_bottom(
    stack: Stack, pd: ProtectionDomain
) -> None:
    """shim1's read-only window onto bottom denies; Genode reflects to bottom, the leaf."""
    bottom, shim1 = Recording(Verdict.DECLINED), Recording(Verdict.DECLINED)
    stack.bottom.fault_handler(bottom)
    stack.shim1.fault_handler(shim1)
    with pytest.raises(PageFault):
        host_write(pd.address_space, stack.write_bottom + 8, b"x")
    assert [(rm, f, reason) for rm, f, reason, _ in bottom.calls] == [
        (stack.bottom, Fault(FaultType.WRITE, 8), WalkFailure.WRITE_VIOLATION)]
    assert shim1.calls == []


def test_write_to_read_only_ram_in_shim_faults(stack: Stack, pd: ProtectionDomain) -> None:
    handler = Recording(Verdict.DECLINED)
    stack.shim2.fault_handler(handler)
    with pytest.raises(PageFault) as info:
        host_write(pd.address_space, stack.read_shim2, b"x")
    assert [(rm, f) for rm, f, _, _ in handler.calls] == [
        (stack.shim2, Fault(FaultType.WRITE, 0x1000))]
    assert info.value.fault.addr == 0x1000


def test_unattached_sub_map_fault_reflected_to_leaf_exactly_once(
    stack: Stack, pd: ProtectionDomain
) -> None:
    shim2, top, aspace = (Recording(Verdict.DECLINED) for _ in range(3))
    stack.shim2.fault_handler(shim2)
    stack.top.fault_handler(top)
    pd.address_space.fault_handler(aspace)
    with pytest.raises(PageFault):
        host_read(pd.address_space, stack.read_shim2 - PAGE_SIZE, 4)
    assert [(rm, f) for rm, f, _, _ in shim2.calls] == [(stack.shim2, Fault(FaultType.READ, 0))]
    assert (top.calls, aspace.calls) == ([], [])
    assert stack.shim2.faulters() == []
