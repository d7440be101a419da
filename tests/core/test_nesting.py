"""Nesting bounds and cycles are refused at attach time."""

from __future__ import annotations

import itertools

import pytest

from rtcr.core import (
    MAX_NESTING,
    PAGE_SIZE,
    Access,
    Core,
    Mapping,
    ProtectionDomain,
    RegionMap,
    resolve,
)
from rtcr.errors import NestingTooDeep


def chain(core: Core, length: int) -> list[RegionMap]:
    """``length`` maps, each attached at 0 in the previous one."""
    maps = [core.create_region_map(1 << 20) for _ in range(length)]
    for parent, child in itertools.pairwise(maps):
        parent.attach(child.dataspace(), size=0x40000, at=0)
    return maps


def test_max_nesting_is_five() -> None:
    assert MAX_NESTING == 5


def test_chain_of_five_maps_resolves(core: Core, pd: ProtectionDomain) -> None:
    maps = chain(core, 5)
    ds = pd.alloc_ram(PAGE_SIZE)
    maps[-1].attach(ds, at=0x3000)
    assert resolve(maps[0], 0x3000, Access.WRITE) == Mapping(ds.frame(0), True, False)


def test_sixth_level_is_refused(core: Core) -> None:
    maps = chain(core, 5)
    with pytest.raises(NestingTooDeep):
        maps[-1].attach(core.create_region_map(PAGE_SIZE).dataspace())


def test_attaching_deep_subtree_under_parent_is_refused(core: Core) -> None:
    deep = chain(core, 3)
    shallow = chain(core, 3)
    with pytest.raises(NestingTooDeep):
        shallow[-1].attach(deep[0].dataspace(), size=PAGE_SIZE, at=0x80000)
    shallow[-2].attach(deep[0].dataspace(), size=PAGE_SIZE, at=0x80000)  # 2 + 3 = 5 maps: fine


def test_attaching_map_into_itself_is_a_cycle(core: Core) -> None:
    rm = core.create_region_map(1 << 20)
    with pytest.raises(NestingTooDeep):
        rm.attach(rm.dataspace(), size=PAGE_SIZE)


def test_attaching_ancestor_into_descendant_is_a_cycle(core: Core) -> None:
    maps = chain(core, 3)
    with pytest.raises(NestingTooDeep):
        maps[2].attach(maps[0].dataspace(), size=PAGE_SIZE, at=0x80000)
    assert maps[2].regions() == []


def test_detach_lowers_nesting_again(core: Core) -> None:
    maps = chain(core, 5)
    maps[3].detach(0)
    maps[3].attach(core.create_region_map(PAGE_SIZE).dataspace(), at=0)
