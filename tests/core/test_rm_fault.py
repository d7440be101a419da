"""Genode's rm_fault scenario: a parent resolves its child's faults by attaching.

Here the parent's handler is synchronous (a host access cannot wait for a
guest thread); the guest-thread version runs in tests/machine.
"""

from __future__ import annotations

import pytest
from core_support import Recording

from rtcr.core import (
    PAGE_SIZE,
    Access,
    Core,
    Fault,
    FaultType,
    ProtectionDomain,
    RegionMap,
    Unresolved,
    Verdict,
    WalkFailure,
    host_read,
    host_write,
    resolve,
)
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

    def attach(rm: RegionMap, fault: Fault) -> None:
        rm.attach(shared, at=fault.addr & ~(PAGE_SIZE - 1))

    handler = Recording(Verdict.RESOLVED, attach)
    child.address_space.fault_handler(handler)
    value = int.from_bytes(host_read(child.address_space, MANAGED_ADDR, 8), "little")
    assert value == 0x12345
    assert handler.faults == [Fault(FaultType.READ, MANAGED_ADDR)]
    assert child.address_space.fault() == Fault(FaultType.NONE, 0)


def test_write_fault_on_rom_is_a_write_violation_in_the_address_space(
        core: Core, child: ProtectionDomain) -> None:
    rom = core.create_rom("binary", b"\x7fELF")
    aspace = child.address_space
    aspace.attach(rom, at=MANAGED_ADDR, writeable=True)
    handler = Recording(Verdict.DECLINED)
    aspace.fault_handler(handler)
    with pytest.raises(PageFault):
        host_write(aspace, MANAGED_ADDR, b"x")
    assert [(rm, f, r) for rm, f, r, _ in handler.calls] == [
        (aspace, Fault(FaultType.WRITE, MANAGED_ADDR), WalkFailure.WRITE_VIOLATION)]
    assert rom.read(0, 4) == b"\x7fELF"


def test_write_fault_on_read_only_attached_ram(
    core: Core, pd: ProtectionDomain, child: ProtectionDomain
) -> None:
    shared = pd.alloc_ram(PAGE_SIZE)
    aspace = child.address_space
    aspace.attach(shared, size=PAGE_SIZE, at=MANAGED_ADDR, writeable=False)
    handler = Recording(Verdict.DECLINED)
    aspace.fault_handler(handler)
    assert host_read(aspace, MANAGED_ADDR, 4) == bytes(4)
    with pytest.raises(PageFault) as info:
        host_write(aspace, MANAGED_ADDR + 16, b"x")
    assert info.value.fault == Fault(FaultType.WRITE, MANAGED_ADDR + 16)
    assert handler.faults == [Fault(FaultType.WRITE, MANAGED_ADDR + 16)]


def test_writable_reattach_resolves_write_fault(
    core: Core, pd: ProtectionDomain, child: ProtectionDomain
) -> None:
    shared = pd.alloc_ram(PAGE_SIZE)
    aspace = child.address_space
    aspace.attach(shared, at=MANAGED_ADDR, writeable=False)

    def upgrade(rm: RegionMap, fault: Fault) -> None:
        page = fault.addr & ~(PAGE_SIZE - 1)
        rm.detach(page)
        rm.attach(shared, at=page, writeable=True)

    handler = Recording(Verdict.RESOLVED, upgrade)
    aspace.fault_handler(handler)
    host_write(aspace, MANAGED_ADDR + 8, b"dirty")
    assert shared.read(8, 5) == b"dirty"
    assert handler.faults == [Fault(FaultType.WRITE, MANAGED_ADDR + 8)]
    host_write(aspace, MANAGED_ADDR, b"again")  # no second fault
    assert len(handler.faults) == 1


def test_exec_fault_on_non_executable_region(
    core: Core, pd: ProtectionDomain, child: ProtectionDomain
) -> None:
    aspace = child.address_space
    aspace.attach(pd.alloc_ram(PAGE_SIZE), at=MANAGED_ADDR)
    result = resolve(aspace, MANAGED_ADDR, Access.EXEC)
    assert isinstance(result, Unresolved)
    assert (result.region_map, result.fault, result.reason) == (
        aspace, Fault(FaultType.EXEC, MANAGED_ADDR), WalkFailure.EXEC_VIOLATION)
