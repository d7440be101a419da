"""Resuming a walk where it stopped, once a handler resolved the fault there (``resume``)."""

from __future__ import annotations

from rtcr.core import (
    PAGE_SIZE,
    Access,
    Core,
    ProtectionDomain,
    RegionMap,
    Unresolved,
    resume,
    translate,
)


def nested(core: Core, pd: ProtectionDomain) -> tuple[RegionMap, RegionMap]:
    """An address space holding a managed map at 0x100000 with one read-only page at 0x2000."""
    inner = core.create_region_map(0x10000)
    inner.attach(pd.alloc_ram(PAGE_SIZE), at=0x2000, writeable=False)
    pd.address_space.attach(inner.dataspace(), at=0x100000)
    return pd.address_space, inner


def failed_write(space: RegionMap) -> Unresolved:
    result = translate(space, 0x102000, Access.WRITE)
    assert isinstance(result, Unresolved)
    return result


def test_resuming_after_the_leaf_changed_finds_what_a_walk_from_the_root_finds(
        core: Core, pd: ProtectionDomain) -> None:
    space, inner = nested(core, pd)
    failure = failed_write(space)
    inner.protect(0x2000, writeable=True, executable=False)
    assert resume(failure) == translate(space, 0x102000, Access.WRITE)


def test_resuming_a_walk_that_still_fails_gives_the_failure_there(
        core: Core, pd: ProtectionDomain) -> None:
    space, _ = nested(core, pd)
    failure = failed_write(space)
    again = resume(failure)
    assert isinstance(again, Unresolved) and again.trail == failure.trail


def test_a_change_above_the_map_where_the_walk_stopped_asks_for_a_walk_from_the_root(
        core: Core, pd: ProtectionDomain) -> None:
    space, _ = nested(core, pd)
    failure = failed_write(space)
    space.detach(0x100000)
    assert resume(failure) is None
