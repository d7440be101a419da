"""Protection domains: an address space, a capability space and quotas.

A PD pays for the RAM dataspaces it allocates (bytes from its RAM quota,
one cap for the selector) and is the only one that may free or seal them;
anybody holding the capability may attach them.
"""

from __future__ import annotations

from collections.abc import Callable

from rtcr.abi import ADDRESS_SPACE_SELECTOR
from rtcr.core.capability import CapabilitySpace
from rtcr.core.dataspace import Dataspace, RamDataspace
from rtcr.core.fault import FaultCounts
from rtcr.core.quota import Quota, format_bytes
from rtcr.core.ram import PhysicalRam
from rtcr.core.region_map import RegionMap
from rtcr.core.signal import SignalReceiver
from rtcr.core.types import PAGE_SHIFT, round_page
from rtcr.errors import Denied, InvalidArgument, InvalidDataspace, OutOfCaps, OutOfRam

ADDRESS_SPACE_SIZE = 1 << 47
"""The x86-64 user half."""

NULL_GUARD = 0x10000
"""The lowest 64 KiB of an address space are never attached, so NULL pointers fault."""


class ProtectionDomain:
    """A PD session: the component's address space, selectors and resource accounts."""

    __slots__ = (
        "_badges",
        "_caps",
        "_physical",
        "_ram",
        "_ram_dataspaces",
        "address_space",
        "cap_space",
        "name",
        "signal_receiver",
    )

    def __init__(self, name: str, ram_quota: int, cap_quota: int, *, ram: PhysicalRam,
                 badges: Callable[[], int], fault_counts: FaultCounts) -> None:
        if ram_quota < 0 or cap_quota < 0:
            raise InvalidArgument("quotas must not be negative")
        self._physical = ram
        self._badges = badges
        self.name = name
        self._ram = Quota(ram_quota, OutOfRam, "RAM")
        self._caps = Quota(cap_quota, OutOfCaps, "capability")
        self.address_space = RegionMap(
            ADDRESS_SPACE_SIZE, ram, badges, low_limit=NULL_GUARD, fault_counts=fault_counts
        )
        self.cap_space = CapabilitySpace(self._caps)
        self.cap_space.install_uncharged(ADDRESS_SPACE_SELECTOR, self.address_space)
        self.signal_receiver = SignalReceiver(badges)
        self._ram_dataspaces: dict[int, RamDataspace] = {}

    def __repr__(self) -> str:
        return f"<ProtectionDomain {self.name!r}>"

    # ---------------------------------------------------------------- quotas

    def avail_ram(self) -> int:
        """Bytes of RAM quota left."""
        return self._ram.avail

    def used_ram(self) -> int:
        """Bytes of RAM quota spent on live dataspaces."""
        return self._ram.used

    def ram_quota(self) -> int:
        """The RAM quota (used + available)."""
        return self._ram.limit

    def avail_caps(self) -> int:
        """Capabilities left."""
        return self._caps.avail

    def used_caps(self) -> int:
        """Capabilities spent (charged selectors)."""
        return self._caps.used

    def cap_quota(self) -> int:
        """The capability quota (used + available)."""
        return self._caps.limit

    # ------------------------------------------------------------------- RAM

    def alloc_ram(self, size: int, *, selector: int | None = None) -> RamDataspace:
        """Allocate a zero-filled RAM dataspace of ``size`` bytes (page-rounded).

        Charges the size to the RAM quota and one cap for its selector
        (``selector`` picks it, for restore). Raises ``Denied`` for size 0,
        ``OutOfRam``/``OutOfCaps`` when a quota or physical RAM runs out; on
        any error nothing has changed.
        """
        if size == 0:
            raise Denied("cannot allocate an empty dataspace")
        if size < 0:
            raise InvalidArgument(f"negative size {size}")
        size = round_page(size)
        if size > self._ram.avail:
            message = (f"{self.name}: RAM quota exceeded: {format_bytes(size)} asked, "
                       f"{format_bytes(self._ram.avail)} left of {format_bytes(self._ram.limit)} "
                       "(--ram raises the quota)")
            raise OutOfRam(message)
        if self._caps.avail < 1:
            raise OutOfCaps(f"{self.name}: capability quota exhausted")
        ram = self._physical
        frames = ram.alloc(size >> PAGE_SHIFT)
        ds = RamDataspace(self._badges(), size, ram, frames, self)
        try:
            if selector is None:
                self.cap_space.insert(ds)
            else:
                self.cap_space.insert_at(selector, ds)
        except BaseException:
            ram.release(frames)
            raise
        self._ram.charge(size)
        self._ram_dataspaces[ds.badge] = ds
        return ds

    def _check_owner(self, ds: Dataspace, what: str) -> RamDataspace:
        if not isinstance(ds, RamDataspace) or ds.owner is not self:
            raise Denied(f"{self.name} may not {what} {ds!r}: not its owner")
        if not ds.valid:
            raise InvalidDataspace(f"{ds!r} was already freed")
        return ds

    def free_ram(self, ds: Dataspace) -> None:
        """Free an own RAM dataspace: flush its mappings, refund its RAM and caps.

        Its regions stay reserved (accesses fault, attaching over them
        conflicts) until they are detached.
        """
        ram_ds = self._check_owner(ds, "free")
        frames = ram_ds.invalidate()
        for region in ram_ds.regions:
            region.region_map.unmap_region(region.start, region.size)
        for sel in self.cap_space.selectors(ram_ds):
            self.cap_space.remove(sel)
        self._ram.refund(ram_ds.size)
        del self._ram_dataspaces[ram_ds.badge]
        self._physical.release(frames)

    def seal_ram(self, ds: Dataspace, *, revoke: bool = False) -> None:
        """Seal an own RAM dataspace: every *later* attach of it is read-only.

        As Genode's ``Pd_session::seal_ram``, existing attachments keep their
        rights. ``revoke=True`` is the stronger variant: the dataspace itself
        becomes read-only for good, so every existing writable mapping is
        flushed and comes back read-only. Unlike Genode, which silently
        ignores a dataspace the PD does not own, this raises ``Denied`` (the
        guest gets an error code) -- nothing changes either way.
        """
        ram_ds = self._check_owner(ds, "seal")
        if ram_ds.sealed and (not revoke or not ram_ds.writeable):
            return
        ram_ds.seal(revoke=revoke)
        if revoke:
            for region in ram_ds.regions:
                if region.writeable:  # a read-only region never yielded a writable mapping
                    region.region_map.unmap_region(region.start, region.size)

    def ram_dataspaces(self) -> list[RamDataspace]:
        """Live RAM dataspaces this PD owns, in allocation order."""
        return list(self._ram_dataspaces.values())
