"""The pager: translations, effective rights and the leaf map of a fault."""

from __future__ import annotations

from rtcr.core import (
    PAGE_SIZE,
    Access,
    Core,
    Fault,
    FaultType,
    Mapping,
    ProtectionDomain,
    Unresolved,
    resolve,
)


def test_resolve_returns_frame_of_page(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(4 * PAGE_SIZE)
    rm.attach(ds, size=2 * PAGE_SIZE, offset=PAGE_SIZE, at=0x10000)
    assert resolve(rm, 0x11234, Access.READ) == Mapping(ds.frame(2), True, False)


def test_pager_object_resolve_is_module_resolve(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=0)
    assert core.pager.resolve(rm, 0, Access.WRITE) == resolve(rm, 0, Access.WRITE)


def test_read_of_read_only_region_resolves_with_read_only_rights(
    core: Core, pd: ProtectionDomain
) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(PAGE_SIZE)
    rm.attach(ds, at=0, writeable=False, executable=True)
    assert resolve(rm, 0, Access.READ) == Mapping(ds.frame(0), False, True)
    assert resolve(rm, 0, Access.EXEC) == Mapping(ds.frame(0), False, True)


def test_rom_attached_writeable_is_read_only(core: Core) -> None:
    rm = core.create_region_map(1 << 20)
    rom = core.create_rom("r", b"x")
    rm.attach(rom, at=0, writeable=True)
    mapping = resolve(rm, 0, Access.READ)
    assert isinstance(mapping, Mapping) and not mapping.writeable
    assert resolve(rm, 0, Access.WRITE) == Unresolved(rm, Fault(FaultType.WRITE, 0))


def test_unattached_address_faults_at_deepest_map_reached(core: Core, pd: ProtectionDomain) -> None:
    outer = core.create_region_map(1 << 20)
    inner = core.create_region_map(1 << 16)
    outer.attach(inner.dataspace(), at=0x20000)
    assert resolve(outer, 0x23000, Access.READ) == Unresolved(inner, Fault(FaultType.READ, 0x3000))
    assert resolve(outer, 0x1000, Access.WRITE) == Unresolved(outer, Fault(FaultType.WRITE, 0x1000))


def test_denied_write_faults_at_outermost_read_only_region(
    core: Core, pd: ProtectionDomain
) -> None:
    outer = core.create_region_map(1 << 20)
    inner = core.create_region_map(1 << 16)
    outer.attach(inner.dataspace(), at=0, writeable=False)
    inner.attach(pd.alloc_ram(PAGE_SIZE), at=0x2000, writeable=False)
    assert resolve(outer, 0x2010, Access.WRITE) == Unresolved(outer, Fault(FaultType.WRITE, 0x2010))


def test_denied_write_inside_writable_window_faults_at_inner_map(
    core: Core, pd: ProtectionDomain
) -> None:
    outer = core.create_region_map(1 << 20)
    inner = core.create_region_map(1 << 16)
    outer.attach(inner.dataspace(), at=0x10000, writeable=True)
    inner.attach(pd.alloc_ram(PAGE_SIZE), at=0x2000, writeable=False)
    assert resolve(outer, 0x12010, Access.WRITE) == Unresolved(
        inner, Fault(FaultType.WRITE, 0x2010)
    )


def test_write_to_sealed_ram_faults_at_map_holding_its_region(
    core: Core, pd: ProtectionDomain
) -> None:
    outer = core.create_region_map(1 << 20)
    inner = core.create_region_map(1 << 16)
    ds = pd.alloc_ram(PAGE_SIZE)
    outer.attach(inner.dataspace(), at=0, writeable=True)
    inner.attach(ds, at=0x2000, writeable=True)
    pd.seal_ram(ds)
    assert resolve(outer, 0x2010, Access.WRITE) == Unresolved(inner, Fault(FaultType.WRITE, 0x2010))


def test_managed_window_offset_translates_addresses(core: Core, pd: ProtectionDomain) -> None:
    outer = core.create_region_map(1 << 20)
    inner = core.create_region_map(1 << 16)
    ds = pd.alloc_ram(PAGE_SIZE)
    inner.attach(ds, at=0x5000)
    outer.attach(inner.dataspace(), size=0x8000, offset=0x4000, at=0x40000)
    assert resolve(outer, 0x41000, Access.READ) == Mapping(ds.frame(0), True, False)


def test_address_outside_map_is_unresolved(core: Core) -> None:
    rm = core.create_region_map(PAGE_SIZE)
    assert isinstance(resolve(rm, 1 << 40, Access.READ), Unresolved)
    assert isinstance(resolve(rm, -1, Access.READ), Unresolved)


def test_exec_needs_executable_at_every_level(core: Core, pd: ProtectionDomain) -> None:
    outer = core.create_region_map(1 << 20)
    inner = core.create_region_map(1 << 16)
    outer.attach(inner.dataspace(), at=0, executable=False)
    ds = pd.alloc_ram(PAGE_SIZE)
    inner.attach(ds, at=0, executable=True)
    assert resolve(outer, 0, Access.EXEC) == Unresolved(outer, Fault(FaultType.EXEC, 0))
    assert resolve(inner, 0, Access.EXEC) == Mapping(ds.frame(0), True, True)
