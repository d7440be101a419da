"""Genode's rm_fault scenario: a parent resolves its child's faults by attaching."""

from __future__ import annotations

import pytest

from rtcr.core import PAGE_SIZE, Core, Fault, FaultType, ProtectionDomain, RegionMap
from rtcr.errors import PageFault

MANAGED_ADDR = 0x18000000


@pytest.fixture
def child(core: Core) -> ProtectionDomain:
    return core.create_pd("child", ram_quota=1 << 20, cap_quota=20)


def test_read_fault_is_resolved_by_attach(
    core: Core, pd: ProtectionDomain, child: ProtectionDomain
) -> None:
    shared = pd.alloc_ram(PAGE_SIZE)
    shared.write(0, (0x12345).to_bytes(8, "little"))
    seen: list[Fault] = []

    def handler(rm: RegionMap) -> None:
        seen.append(rm.fault())
        rm.attach(shared, at=rm.fault().addr & ~(PAGE_SIZE - 1))

    child.address_space.fault_handler(handler)
    value = int.from_bytes(child.address_space.read(MANAGED_ADDR, 8), "little")
    assert value == 0x12345
    assert seen == [Fault(FaultType.READ, MANAGED_ADDR)]
    assert child.address_space.fault() == Fault(FaultType.NONE, 0)


def test_write_fault_on_rom(core: Core, child: ProtectionDomain) -> None:
    rom = core.create_rom("binary", b"\x7fELF")
    aspace = child.address_space
    aspace.attach(rom, at=MANAGED_ADDR, writeable=True)
    seen: list[Fault] = []
    aspace.fault_handler(lambda rm: seen.append(rm.fault()))
    with pytest.raises(PageFault):
        aspace.write(MANAGED_ADDR, b"x")
    assert seen == [Fault(FaultType.WRITE, MANAGED_ADDR)]
    assert rom.read(0, 4) == b"\x7fELF"


def test_write_fault_on_read_only_attached_ram(
    core: Core, pd: ProtectionDomain, child: ProtectionDomain
) -> None:
    shared = pd.alloc_ram(PAGE_SIZE)
    aspace = child.address_space
    aspace.attach(shared, size=PAGE_SIZE, at=MANAGED_ADDR, writeable=False)
    seen: list[Fault] = []
    aspace.fault_handler(lambda rm: seen.append(rm.fault()))
    assert aspace.read(MANAGED_ADDR, 4) == bytes(4)
    with pytest.raises(PageFault) as info:
        aspace.write(MANAGED_ADDR + 16, b"x")
    assert info.value.fault == Fault(FaultType.WRITE, MANAGED_ADDR + 16)
    assert seen == [Fault(FaultType.WRITE, MANAGED_ADDR + 16)]


def test_writable_reattach_resolves_write_fault(
    core: Core, pd: ProtectionDomain, child: ProtectionDomain
) -> None:
    shared = pd.alloc_ram(PAGE_SIZE)
    aspace = child.address_space
    aspace.attach(shared, at=MANAGED_ADDR, writeable=False)
    faults: list[Fault] = []

    def handler(rm: RegionMap) -> None:
        fault = rm.fault()
        faults.append(fault)
        page = fault.addr & ~(PAGE_SIZE - 1)
        rm.detach(page)
        rm.attach(shared, at=page, writeable=True)

    aspace.fault_handler(handler)
    aspace.write(MANAGED_ADDR + 8, b"dirty")
    assert shared.read(8, 5) == b"dirty"
    assert faults == [Fault(FaultType.WRITE, MANAGED_ADDR + 8)]
    aspace.write(MANAGED_ADDR, b"again")  # no second fault
    assert len(faults) == 1


def test_exec_fault_on_non_executable_region(
    core: Core, pd: ProtectionDomain, child: ProtectionDomain
) -> None:
    from rtcr.core import Access, Unresolved

    aspace = child.address_space
    aspace.attach(pd.alloc_ram(PAGE_SIZE), at=MANAGED_ADDR)
    result = core.pager.resolve(aspace, MANAGED_ADDR, Access.EXEC)
    assert isinstance(result, Unresolved)
    assert result.fault == Fault(FaultType.EXEC, MANAGED_ADDR)
    assert result.region_map is aspace
