"""Changing a region's rights in place: a detach and re-attach fused (``RegionMap.protect``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtcr.core import (
    PAGE_SIZE,
    Access,
    Core,
    Fault,
    FaultType,
    Mapping,
    ProtectionDomain,
    RegionMap,
    SignalReceiver,
    Unresolved,
    WalkFailure,
    resolve,
)
from rtcr.errors import InvalidDataspace, NoRegion


class Recorder:
    """An address space that records its flushes."""

    def __init__(self) -> None:
        self.flushes: list[tuple[int, int]] = []

    def flush(self, start: int, size: int) -> None:
        self.flushes.append((start, size))


class Waiter:
    """A faulter that records the tickets resolved for it."""

    def __init__(self) -> None:
        self.resolved = 0

    def fault_resolved(self, ticket: object) -> None:
        self.resolved += 1


def flushes_of(rm: RegionMap) -> list[tuple[int, int]]:
    recorder = Recorder()
    rm.bind_address_space(recorder)
    return recorder.flushes


def test_adding_write_makes_writes_translate_to_the_same_frame(
        core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=0x4000, writeable=False)
    before = resolve(rm, 0x4000, Access.READ)
    rm.protect(0x4000, writeable=True, executable=False)
    after = resolve(rm, 0x4000, Access.WRITE)
    assert isinstance(before, Mapping) and isinstance(after, Mapping)
    assert (after.phys, after.writeable) == (before.phys, True)


def test_taking_write_makes_writes_violations(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=0x4000)
    rm.protect(0x4000, writeable=False, executable=False)
    result = resolve(rm, 0x4000, Access.WRITE)
    assert isinstance(result, Unresolved) and result.reason is WalkFailure.WRITE_VIOLATION


def test_adding_a_right_flushes_nothing(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.attach(pd.alloc_ram(2 * PAGE_SIZE), at=0x4000, writeable=False)
    flushes = flushes_of(rm)
    rm.protect(0x5000, writeable=True, executable=True)
    assert flushes == []


def test_taking_a_right_flushes_the_region_where_it_is_visible(
        core: Core, pd: ProtectionDomain) -> None:
    inner = core.create_region_map(0x10000)
    inner.attach(pd.alloc_ram(2 * PAGE_SIZE), at=0x2000)
    pd.address_space.attach(inner.dataspace(), at=0x100000)
    flushes = flushes_of(pd.address_space)
    inner.protect(0x3000, writeable=False, executable=False)
    assert flushes == [(0x102000, 2 * PAGE_SIZE)]


def test_a_sealed_dataspace_stays_read_only(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(PAGE_SIZE)
    pd.seal_ram(ds)
    rm.attach(ds, at=0x4000)
    region = rm.protect(0x4000, writeable=True, executable=False)
    assert not region.writeable


def test_no_region_at_the_address_is_refused(core: Core) -> None:
    rm = core.create_region_map(1 << 20)
    with pytest.raises(NoRegion):
        rm.protect(0x4000, writeable=True, executable=False)


def test_a_reserved_region_is_refused(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(PAGE_SIZE)
    rm.attach(ds, at=0x4000, writeable=False)
    pd.free_ram(ds)
    with pytest.raises(InvalidDataspace):
        rm.protect(0x4000, writeable=True, executable=False)


def test_adding_a_right_resolves_the_queued_faults_the_region_covers(
        core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=0x4000, writeable=False)
    rm.fault_handler(SignalReceiver(core.next_badge).create_context())
    inside, outside = Waiter(), Waiter()
    rm.enqueue(inside, Fault(FaultType.WRITE, 0x4010))
    rm.enqueue(outside, Fault(FaultType.WRITE, 0x9000))
    rm.protect(0x4000, writeable=True, executable=False)
    assert (inside.resolved, outside.resolved) == (1, 0)
    assert rm.fault() == Fault(FaultType.WRITE, 0x9000)


rights = st.tuples(st.booleans(), st.booleans())


@given(first=rights, then=rights, access=st.sampled_from(list(Access)))
def test_protect_translates_as_detach_and_attach_would(
        first: tuple[bool, bool], then: tuple[bool, bool], access: Access) -> None:
    outcomes = []
    for fused in (True, False):
        core = Core(ram_size=1 << 20)
        pd = core.create_pd("app", ram_quota=1 << 16, cap_quota=10)
        ds = pd.alloc_ram(PAGE_SIZE)
        rm = core.create_region_map(1 << 20)
        rm.attach(ds, at=0x4000, writeable=first[0], executable=first[1])
        if fused:
            rm.protect(0x4000, writeable=then[0], executable=then[1])
        else:
            rm.detach(0x4000)
            rm.attach(ds, at=0x4000, writeable=then[0], executable=then[1])
        result = resolve(rm, 0x4000, access)
        outcomes.append(result if isinstance(result, Mapping) else result.reason)
    assert outcomes[0] == outcomes[1]
