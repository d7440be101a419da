"""Sealing, as Genode's ``Pd_session::seal_ram``: every later attach is read-only.

Existing attachments keep their rights. ``revoke=True`` is the stronger
variant of the original design: the dataspace itself becomes read-only, so
existing writable mappings are flushed and come back read-only.
"""

from __future__ import annotations

import pytest

from rtcr.core import (
    PAGE_SIZE,
    Access,
    Core,
    Fault,
    FaultType,
    Mapping,
    ProtectionDomain,
    host_read,
    host_write,
    resolve,
)
from rtcr.errors import Denied, InvalidDataspace, PageFault


def test_attach_after_seal_is_read_only_even_when_asked_writable(pd: ProtectionDomain) -> None:
    ds = pd.alloc_ram(PAGE_SIZE)
    pd.seal_ram(ds)
    rm = pd.address_space
    start = rm.attach(ds, writeable=True).start
    assert rm.region_at(start) is not None
    assert not rm.region_at(start).writeable  # type: ignore[union-attr]
    with pytest.raises(PageFault) as info:
        host_write(rm, start + 8, b"x")
    assert info.value.fault == Fault(FaultType.WRITE, start + 8)


def test_attachment_made_before_seal_keeps_write_access(pd: ProtectionDomain) -> None:
    rm = pd.address_space
    ds = pd.alloc_ram(PAGE_SIZE)
    start = rm.attach(ds, writeable=True).start
    pd.seal_ram(ds)
    host_write(rm, start, b"after")
    assert host_read(rm, start, 5) == b"after"
    assert resolve(rm, start, Access.WRITE) == Mapping(ds.frame(0), True, False)


def test_sealed_dataspace_itself_stays_writable_without_revoke(pd: ProtectionDomain) -> None:
    ds = pd.alloc_ram(PAGE_SIZE)
    pd.seal_ram(ds)
    assert ds.sealed
    assert ds.writeable


def test_revoking_seal_makes_existing_writable_mapping_read_only(pd: ProtectionDomain) -> None:
    rm = pd.address_space
    ds = pd.alloc_ram(PAGE_SIZE)
    start = rm.attach(ds, writeable=True).start
    host_write(rm, start, b"before")
    pd.seal_ram(ds, revoke=True)
    with pytest.raises(PageFault) as info:
        host_write(rm, start, b"after")
    assert info.value.fault == Fault(FaultType.WRITE, start)
    assert host_read(rm, start, 6) == b"before"
    assert resolve(rm, start, Access.READ) == Mapping(ds.frame(0), False, False)


def test_revoked_dataspace_refuses_host_writes(pd: ProtectionDomain) -> None:
    ds = pd.alloc_ram(PAGE_SIZE)
    ds.write(0, b"code")
    pd.seal_ram(ds, revoke=True)
    assert not ds.writeable
    with pytest.raises(Denied):
        ds.write(0, b"x")
    assert ds.read(0, 4) == b"code"


def test_revoke_after_a_plain_seal_still_revokes(pd: ProtectionDomain) -> None:
    rm = pd.address_space
    ds = pd.alloc_ram(PAGE_SIZE)
    start = rm.attach(ds, writeable=True).start
    pd.seal_ram(ds)
    pd.seal_ram(ds, revoke=True)
    with pytest.raises(PageFault):
        host_write(rm, start, b"x")


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


def test_sealing_a_foreign_dataspace_is_denied_and_changes_nothing(core: Core) -> None:
    owner = core.create_pd("owner", ram_quota=1 << 20, cap_quota=10)
    other = core.create_pd("other", ram_quota=1 << 20, cap_quota=10)
    ds = owner.alloc_ram(PAGE_SIZE)
    with pytest.raises(Denied):
        other.seal_ram(ds)
    assert not ds.sealed
    assert owner.address_space.attach(ds) is not None
    assert all(r.writeable for r in ds.regions)
