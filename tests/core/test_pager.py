"""The pager: translations, effective rights, and where and why a walk fails.

Routing follows Genode's ``_with_region_at_fault``: rights are ANDed down
the path, a denied write or execute is a violation at the *leaf* (the map
whose region holds the regular dataspace), and a missing region fails in
the map where the lookup found nothing. Each test names the map, the
address there and the reason.
"""

from __future__ import annotations

from rtcr.core import (
    PAGE_SIZE,
    Access,
    Core,
    Fault,
    FaultType,
    Mapping,
    ProtectionDomain,
    RegionMap,
    Rights,
    Unresolved,
    WalkFailure,
    resolve,
)


def _failure(result: Mapping | Unresolved) -> tuple[RegionMap, Fault, WalkFailure]:
    assert isinstance(result, Unresolved), result
    return result.region_map, result.fault, result.reason


def test_resolve_returns_frame_of_page(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(4 * PAGE_SIZE)
    rm.attach(ds, size=2 * PAGE_SIZE, offset=PAGE_SIZE, at=0x10000)
    assert resolve(rm, 0x11234, Access.READ) == Mapping(ds.frame(2), True, False)


def test_read_of_read_only_region_resolves_with_read_only_rights(
    core: Core, pd: ProtectionDomain
) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(PAGE_SIZE)
    rm.attach(ds, at=0, writeable=False, executable=True)
    assert resolve(rm, 0, Access.READ) == Mapping(ds.frame(0), False, True)
    assert resolve(rm, 0, Access.EXEC) == Mapping(ds.frame(0), False, True)


def test_write_to_rom_attached_writeable_is_a_write_violation_there(core: Core) -> None:
    rm = core.create_region_map(1 << 20)
    rom = core.create_rom("r", b"x")
    rm.attach(rom, at=0, writeable=True)
    mapping = resolve(rm, 0, Access.READ)
    assert isinstance(mapping, Mapping) and not mapping.writeable
    assert _failure(resolve(rm, 0x10, Access.WRITE)) == (
        rm, Fault(FaultType.WRITE, 0x10), WalkFailure.WRITE_VIOLATION)


def test_unattached_address_fails_in_the_map_where_the_lookup_found_nothing(
    core: Core, pd: ProtectionDomain
) -> None:
    outer = core.create_region_map(1 << 20)
    inner = core.create_region_map(1 << 16)
    outer.attach(inner.dataspace(), at=0x20000)
    assert _failure(resolve(outer, 0x23000, Access.READ)) == (
        inner, Fault(FaultType.READ, 0x3000), WalkFailure.NO_REGION)
    assert _failure(resolve(outer, 0x1000, Access.WRITE)) == (
        outer, Fault(FaultType.WRITE, 0x1000), WalkFailure.NO_REGION)


def test_write_through_read_only_outer_region_is_a_violation_at_the_leaf(
    core: Core, pd: ProtectionDomain
) -> None:
    """The outer map denies; Genode still reflects to the map holding the RAM."""
    outer = core.create_region_map(1 << 20)
    inner = core.create_region_map(1 << 16)
    outer.attach(inner.dataspace(), at=0x10000, writeable=False)
    inner.attach(pd.alloc_ram(PAGE_SIZE), at=0x2000, writeable=True)
    assert _failure(resolve(outer, 0x12010, Access.WRITE)) == (
        inner, Fault(FaultType.WRITE, 0x2010), WalkFailure.WRITE_VIOLATION)


def test_walk_records_the_rights_it_had_on_entering_each_map(
    core: Core, pd: ProtectionDomain
) -> None:
    outer = core.create_region_map(1 << 20)
    inner = core.create_region_map(1 << 16)
    outer.attach(inner.dataspace(), at=0x10000, writeable=False, executable=True)
    inner.attach(pd.alloc_ram(PAGE_SIZE), at=0x2000, writeable=True)
    result = resolve(outer, 0x12010, Access.WRITE)
    assert isinstance(result, Unresolved)
    assert [(s.region_map, s.addr, s.rights) for s in result.steps] == [
        (outer, 0x12010, Rights(True, True)),
        (inner, 0x2010, Rights(False, True)),
    ]


def test_denied_write_inside_writable_window_is_a_violation_at_the_inner_map(
    core: Core, pd: ProtectionDomain
) -> None:
    outer = core.create_region_map(1 << 20)
    inner = core.create_region_map(1 << 16)
    outer.attach(inner.dataspace(), at=0x10000, writeable=True)
    inner.attach(pd.alloc_ram(PAGE_SIZE), at=0x2000, writeable=False)
    assert _failure(resolve(outer, 0x12010, Access.WRITE)) == (
        inner, Fault(FaultType.WRITE, 0x2010), WalkFailure.WRITE_VIOLATION)


def test_write_to_ram_sealed_with_revoke_is_a_violation_at_the_map_holding_it(
    core: Core, pd: ProtectionDomain
) -> None:
    outer = core.create_region_map(1 << 20)
    inner = core.create_region_map(1 << 16)
    ds = pd.alloc_ram(PAGE_SIZE)
    outer.attach(inner.dataspace(), at=0, writeable=True)
    inner.attach(ds, at=0x2000, writeable=True)
    pd.seal_ram(ds, revoke=True)
    assert _failure(resolve(outer, 0x2010, Access.WRITE)) == (
        inner, Fault(FaultType.WRITE, 0x2010), WalkFailure.WRITE_VIOLATION)


def test_managed_window_offset_translates_addresses(core: Core, pd: ProtectionDomain) -> None:
    outer = core.create_region_map(1 << 20)
    inner = core.create_region_map(1 << 16)
    ds = pd.alloc_ram(PAGE_SIZE)
    inner.attach(ds, at=0x5000)
    outer.attach(inner.dataspace(), size=0x8000, offset=0x4000, at=0x40000)
    assert resolve(outer, 0x41000, Access.READ) == Mapping(ds.frame(0), True, False)


def test_address_outside_map_has_no_region(core: Core) -> None:
    rm = core.create_region_map(PAGE_SIZE)
    assert _failure(resolve(rm, 1 << 40, Access.READ))[2] is WalkFailure.NO_REGION
    assert _failure(resolve(rm, -1, Access.READ))[2] is WalkFailure.NO_REGION


def test_exec_through_non_executable_outer_region_is_a_violation_at_the_leaf(
    core: Core, pd: ProtectionDomain
) -> None:
    outer = core.create_region_map(1 << 20)
    inner = core.create_region_map(1 << 16)
    outer.attach(inner.dataspace(), at=0, executable=False)
    ds = pd.alloc_ram(PAGE_SIZE)
    inner.attach(ds, at=0, executable=True)
    assert _failure(resolve(outer, 0x40, Access.EXEC)) == (
        inner, Fault(FaultType.EXEC, 0x40), WalkFailure.EXEC_VIOLATION)
    assert resolve(inner, 0, Access.EXEC) == Mapping(ds.frame(0), True, True)


def test_freed_dataspace_leaves_a_reserved_region_that_has_no_region_semantics(
    core: Core, pd: ProtectionDomain
) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(PAGE_SIZE)
    rm.attach(ds, at=0x3000)
    pd.free_ram(ds)
    assert _failure(resolve(rm, 0x3008, Access.READ)) == (
        rm, Fault(FaultType.READ, 0x3008), WalkFailure.NO_REGION)
