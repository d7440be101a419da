"""Sealing: a RAM dataspace becomes read-only for good."""

from __future__ import annotations

import pytest

from rtcr.core import PAGE_SIZE, Access, Core, Fault, FaultType, Mapping, ProtectionDomain, resolve
from rtcr.errors import Denied, InvalidDataspace, PageFault


def test_sealed_dataspace_is_read_only(pd: ProtectionDomain) -> None:
    ds = pd.alloc_ram(PAGE_SIZE)
    ds.write(0, b"code")
    pd.seal_ram(ds)
    assert ds.sealed
    assert not ds.writeable
    with pytest.raises(Denied):
        ds.write(0, b"x")
    assert ds.read(0, 4) == b"code"


def test_write_through_sealed_mapping_faults(core: Core, pd: ProtectionDomain) -> None:
    rm = pd.address_space
    ds = pd.alloc_ram(PAGE_SIZE)
    start = rm.attach(ds, writeable=True).start
    rm.write(start, b"before")
    pd.seal_ram(ds)
    with pytest.raises(PageFault) as info:
        rm.write(start, b"after")
    assert info.value.fault == Fault(FaultType.WRITE, start)
    assert rm.read(start, 6) == b"before"
    assert resolve(rm, start, Access.READ) == Mapping(ds.frame(0), False, False)


def test_seal_is_idempotent(pd: ProtectionDomain) -> None:
    ds = pd.alloc_ram(PAGE_SIZE)
    pd.seal_ram(ds)
    pd.seal_ram(ds)
    assert ds.sealed


def test_sealed_dataspace_can_still_be_freed(pd: ProtectionDomain) -> None:
    ds = pd.alloc_ram(PAGE_SIZE)
    pd.seal_ram(ds)
    pd.free_ram(ds)
    assert pd.used_ram() == 0


def test_sealing_freed_dataspace_is_invalid(pd: ProtectionDomain) -> None:
    ds = pd.alloc_ram(PAGE_SIZE)
    pd.free_ram(ds)
    with pytest.raises(InvalidDataspace):
        pd.seal_ram(ds)
