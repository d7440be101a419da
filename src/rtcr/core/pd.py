"""Protection domains: an address space, a capability space and quotas.

A PD pays for the RAM dataspaces it allocates (bytes from its RAM quota,
one cap for the selector) and is the only one that may free or seal them;
anybody holding the capability may attach them.

Quota moves between PDs as in Genode's core: a PD created as a *PD
session* is paid with session quota from its creator, which it may spend
but never hand on; everything else it gets by ``transfer_quota`` from or to
its *reference account*, set once with ``ref_account``. A transfer moves
only what is available and transferable, or raises and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from rtcr.abi import ADDRESS_SPACE_SELECTOR, STACK_AREA_BASE, STACK_AREA_SIZE
from rtcr.core.capability import CapabilitySpace
from rtcr.core.dataspace import Dataspace, DataspaceOwner, RamDataspace
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


class ProtectionDomain(DataspaceOwner):
    """A PD session: the component's address space, selectors and resource accounts."""

    __slots__ = (
        "_accounted",
        "_badges",
        "_caps",
        "_physical",
        "_ram",
        "_ram_dataspaces",
        "_ref",
        "_session_quota",
        "address_space",
        "cap_space",
        "name",
        "signal_receiver",
        "stack_area",
    )

    def __init__(self, name: str, ram_quota: int, cap_quota: int, *, ram: PhysicalRam,
                 badges: Callable[[], int], fault_counts: FaultCounts,
                 session_quota: tuple[int, int] | None = None) -> None:
        """A PD with the given quota limits.

        ``session_quota`` (RAM bytes, caps) makes it a PD session that got
        that much of its limits as session quota (see ``ref_account``).
        """
        if ram_quota < 0 or cap_quota < 0:
            raise InvalidArgument("quotas must not be negative")
        self._physical = ram
        self._badges = badges
        self.name = name
        self._ram = Quota(ram_quota, OutOfRam, "RAM")
        self._caps = Quota(cap_quota, OutOfCaps, "capability")
        # A PD session can transfer quota only once it has a reference account;
        # its session quota (RAM bytes, caps) is its own to spend, never to hand on.
        self._accounted = session_quota is None
        self._ref: ProtectionDomain | None = None
        self._session_quota = session_quota or (0, 0)
        self.address_space = RegionMap(
            ADDRESS_SPACE_SIZE, ram, badges, low_limit=NULL_GUARD, fault_counts=fault_counts
        )
        self.cap_space = CapabilitySpace(self._caps)
        self.cap_space.install_uncharged(ADDRESS_SPACE_SELECTOR, self.address_space)
        # A PD session, where a child may run, has Genode's stack area: a map of
        # its own in the address space that holds every thread stack, so a
        # fault on a stack reaches the stack area's handler.
        self.stack_area: RegionMap | None = None
        if session_quota is not None:
            self.stack_area = RegionMap(STACK_AREA_SIZE, ram, badges, fault_counts=fault_counts)
            self.address_space.attach(self.stack_area.dataspace(), size=0, offset=0,
                                      at=STACK_AREA_BASE, executable=True, writeable=True)
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

    # ------------------------------------------------------- quota transfer

    @property
    def reference_account(self) -> ProtectionDomain | None:
        """The PD set by ``ref_account`` (None: not set, or a PD of core's own)."""
        return self._ref

    @property
    def session_quota(self) -> tuple[int, int]:
        """RAM bytes and caps it got as session quota: spendable, never transferable."""
        return self._session_quota

    def ref_account(self, ref: ProtectionDomain) -> None:
        """Genode's ``Pd_session::ref_account``: the PD quota may move to and from.

        It can be set only once; later calls (and naming the PD itself)
        change nothing, as in Genode. ``Denied`` if ``ref`` has no account
        itself (a PD session whose reference account is not set).
        """
        if self._ref is not None or ref is self:
            return
        if not ref._accounted:
            raise Denied(f"{ref.name} has no reference account itself (ref_account first)")
        self._ref = ref
        self._accounted = True

    def transfer_ram(self, to: ProtectionDomain, amount: int) -> None:
        """Move ``amount`` bytes of RAM quota to ``to`` (see ``_check_transfer``)."""
        self._check_transfer(to, amount, self._ram, self._session_quota[0], OutOfRam)
        if to is not self:
            self._ram.transfer(to._ram, amount)

    def transfer_caps(self, to: ProtectionDomain, amount: int) -> None:
        """Move ``amount`` capabilities of quota to ``to`` (see ``_check_transfer``)."""
        self._check_transfer(to, amount, self._caps, self._session_quota[1], OutOfCaps)
        if to is not self:
            self._caps.transfer(to._caps, amount)

    def _check_transfer(self, to: ProtectionDomain, amount: int, quota: Quota, fixed: int,
                        exceeded: type[OutOfRam | OutOfCaps]) -> None:
        """Genode's rule: only between a PD and its reference account, only what is free.

        ``Denied`` unless one PD is the other's reference account and both
        have accounts; ``exceeded`` if ``amount`` is more than is available
        or transferable (the limit beyond the session quota). A transfer to
        the PD itself is allowed and moves nothing, as in Genode.
        """
        if amount < 0:
            raise InvalidArgument(f"negative quota transfer {amount}")
        if to is self:
            return
        if not (self._accounted and to._accounted) or (to._ref is not self
                                                        and self._ref is not to):
            raise Denied(f"{self.name} may not transfer quota to {to.name}: "
                         "neither is the other's reference account")
        transferable = min(quota.avail, quota.limit - fixed)
        if amount > transferable:
            raise exceeded(f"{self.name}: {quota.what} transfer of {amount} exceeds the "
                           f"{transferable} it may transfer")

    def open_session(self, name: str, ram_quota: int, cap_quota: int) -> ProtectionDomain:
        """A new PD session paid with ``ram_quota`` bytes and ``cap_quota`` caps of this PD.

        The new PD goes into this PD's capability space (one more cap). The
        quota's error if this PD cannot pay all of it; then nothing changed.
        """
        transferable_ram = self._ram.limit - self._session_quota[0]
        transferable_caps = self._caps.limit - self._session_quota[1]
        if ram_quota > min(self._ram.avail, transferable_ram):
            raise OutOfRam(f"{self.name}: a PD session needs {format_bytes(ram_quota)} of "
                           f"session quota, {format_bytes(self._ram.avail)} left")
        if cap_quota + 1 > min(self._caps.avail, transferable_caps):
            raise OutOfCaps(f"{self.name}: a PD session needs {cap_quota + 1} capabilities, "
                            f"{self._caps.avail} left")
        pd = ProtectionDomain(name, 0, 0, ram=self._physical, badges=self._badges,
                              fault_counts=self.address_space.fault_counts,
                              session_quota=(ram_quota, cap_quota))
        self._ram.transfer(pd._ram, ram_quota)
        self._caps.transfer(pd._caps, cap_quota)
        self.cap_space.insert(pd)
        return pd

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

    def check_owner(self, ds: Dataspace, what: str) -> RamDataspace:
        """``ds`` as this PD's live RAM dataspace: ``Denied`` if it is not its owner.

        Genode's rule for ``free_ram`` and ``seal_ram``: only the PD that
        allocated a dataspace may free or seal it; a holder may only use it.
        """
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
        ram_ds = self.check_owner(ds, "free")
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
        ram_ds = self.check_owner(ds, "seal")
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
