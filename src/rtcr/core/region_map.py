"""Region maps: address spaces built from attached dataspaces.

A region map keeps its regions in a ``RegionIndex`` so that the pager
finds the region for an address in a grid cell (a map of equal parts) or
with two ``bisect`` calls, and attach and detach cost the same in a map of
ten regions or of a quarter million.
Region maps nest: a map's ``dataspace()`` can be attached in another map.
Nesting is bounded (``MAX_NESTING`` maps on any walk, Genode's recursion
limit) and acyclic, both checked at attach time.

A region map tells the outside world about one thing only: mappings that
died (``AddressSpace.flush``, as Genode's core calls
``Address_space::flush``). Faults are reflected to it by the pager.

Why one module of this size: attach, detach, protect, the fault queue and
the flush bookkeeping all change the same regions and must keep the same
invariants (the nesting limit, reserved regions, one ticket per fault), as
Genode's region_map_component does in one class.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Protocol

from rtcr.core.dataspace import Dataspace
from rtcr.core.fault import NO_FAULT, Fault, FaultCounts, Verdict, WalkFailure
from rtcr.core.ram import PhysicalRam
from rtcr.core.region_index import RegionIndex
from rtcr.core.signal import SignalContext
from rtcr.core.types import (
    PAGE_MASK,
    PAGE_SIZE,
    RWX_EXEC,
    RWX_READ,
    RWX_WRITE,
    Range,
    Rights,
    round_page,
)
from rtcr.errors import InvalidArgument, InvalidDataspace, NestingTooDeep, NoRegion, RegionConflict

if TYPE_CHECKING:
    from collections.abc import Callable

_new_tuple = tuple.__new__

MAX_NESTING = 5
"""Most region maps on one walk, the root included (Genode's ``Recursion_limit { 5 }``)."""

MAX_ALIGN = 2 << 20
"""Largest alignment ``attach(at=None)`` tries (a superpage)."""


class SynchronousHandler(abc.ABC):
    """A fault handler core calls inside the faulting access.

    ``rights`` are the rights the walk had when it entered ``region_map``
    (the AND of every region above it): they tell a handler whether the
    access would be allowed if its own map granted everything.
    """

    @abc.abstractmethod
    def handle_fault(self, region_map: RegionMap, fault: Fault, reason: WalkFailure,
                     rights: Rights) -> Verdict: ...


class Faulter(Protocol):
    """Something that waits on a ``FaultTicket`` (a guest thread)."""

    def fault_resolved(self, ticket: FaultTicket) -> None: ...


class FaultTicket:
    """One queued fault: who waits, for what, where; resolved at most once.

    ``resolved`` is what the waiter reads; ``fault_resolved`` is how it is
    told. A ticket leaves its map's queue when it is resolved or cancelled.
    """

    __slots__ = ("fault", "faulter", "region_map", "resolved")

    def __init__(self, faulter: Faulter, fault: Fault, region_map: RegionMap) -> None:
        self.faulter = faulter
        self.fault = fault
        self.region_map = region_map
        self.resolved = False

    def __repr__(self) -> str:
        return (f"<FaultTicket {self.fault.type.name} at {self.fault.addr:#x} "
                f"in {self.region_map!r}{' resolved' if self.resolved else ''}>")


FaultHandler = SignalContext | SynchronousHandler | None


class AddressSpace(Protocol):
    """What a region map used as a thread's address space flushes (a CPU's TLB)."""

    def flush(self, start: int, size: int) -> None: ...


class Region:
    """One attachment: ``size`` bytes of ``dataspace`` from ``offset`` at ``start``.

    Only its rights change once made (``RegionMap.protect``); regions compare
    by identity: two attachments with the same parameters are two regions.
    ``writeable`` is the right the region grants, after sealing took it
    away from a later attach.
    """

    __slots__ = ("dataspace", "delta", "end", "nested", "offset", "region_map", "rwx", "size",
                 "start")

    def __init__(self, region_map: RegionMap, start: int, size: int, dataspace: Dataspace,
                 offset: int, writeable: bool, executable: bool,
                 nested: RegionMap | None) -> None:
        self.region_map = region_map
        self.start = start
        self.size = size
        self.end = start + size
        self.dataspace = dataspace
        self.offset = offset
        # offset - start: an address in the region plus this is its dataspace offset (the
        # pager adds it on every level; 0 -- one shared object -- for the runtime's parts).
        self.delta = offset - start
        # The map a walk descends into here (a managed dataspace's, until it is
        # destroyed; None for memory): read by the pager on every level.
        self.nested = nested
        # The rights as RWX_* bits: the pager ANDs them along a walk in one operation.
        self.rwx = RWX_READ | (RWX_WRITE if writeable else 0) | (RWX_EXEC if executable else 0)

    def __repr__(self) -> str:
        rights = ("w" if self.writeable else "-") + ("x" if self.executable else "-")
        return (f"<Region [{self.start:#x}, {self.end:#x}) r{rights} of {self.dataspace!r} "
                f"+{self.offset:#x}>")

    @property
    def writeable(self) -> bool:
        """True when the region grants writes."""
        return bool(self.rwx & RWX_WRITE)

    @property
    def executable(self) -> bool:
        """True when the region grants instruction fetches."""
        return bool(self.rwx & RWX_EXEC)

    @property
    def range(self) -> Range:
        """The region's address range in its map."""
        return Range(self.start, self.size)

    @property
    def rights(self) -> Rights:
        """The rights this region grants (before the AND with the rest of the path)."""
        return Rights(self.writeable, self.executable)

    @property
    def reserved(self) -> bool:
        """True once its dataspace was freed or destroyed: accesses fault, attaches conflict."""
        return not self.dataspace.valid


class ManagedDataspace(Dataspace):
    """A region map viewed as a dataspace: attaching it nests the map.

    It has no frames of its own; read or write it through the pager
    (``rtcr.core.pager.host_read``/``host_write`` on ``region_map``), where
    rights and faults apply exactly as they would for a thread. It lives
    here, with its map, as Genode's ``Rm_dataspace_component`` does.
    """

    __slots__ = ("_region_map", "sub_rm")

    managed = True

    def __init__(self, badge: int, region_map: RegionMap, ram: PhysicalRam) -> None:
        super().__init__(badge, region_map.size, ram, None, True)
        self._region_map = region_map
        # The map behind it, None once destroyed (then its regions are reserved).
        self.sub_rm: RegionMap | None = region_map

    @property
    def valid(self) -> bool:
        return self.sub_rm is not None

    @property
    def region_map(self) -> RegionMap:
        """The region map behind this dataspace (also after it was destroyed)."""
        return self._region_map

    def holders(self) -> list[Region]:
        """The regions this map is nested in, as ``Region`` objects.

        Every region of a managed dataspace is a ``Region`` (only
        ``RegionMap.attach`` makes regions); the test says so to the type
        checker, which sees the dataspace's side only as ``Attachment``.
        """
        return [r for r in self.regions if isinstance(r, Region)]

    def invalidate(self) -> None:
        """The region map was destroyed: regions holding this dataspace become reserved."""
        self.sub_rm = None


class RegionMap:
    """A region map (Genode ``Region_map``), possibly nested via ``dataspace()``."""

    __slots__ = (
        "__weakref__",
        "_address_space",
        "_children",
        "_dataspace",
        "_low",
        "_tickets",
        "badge",
        "destroyed",
        "fault_counts",
        "generation",
        "handler",
        "index",
        "size",
    )

    def __init__(
        self,
        size: int,
        ram: PhysicalRam,
        badges: Callable[[], int],
        *,
        low_limit: int = 0,
        fault_counts: FaultCounts | None = None,
    ) -> None:
        if size <= 0:
            raise InvalidArgument(f"region map size {size:#x} must be positive")
        self.size = round_page(size)
        self.badge = badges()
        self._low = low_limit
        self.index: RegionIndex[Region] = RegionIndex(self.size)
        # Maps attached in this one (via their managed dataspace), with multiplicity.
        self._children: dict[RegionMap, int] = {}
        self._tickets: list[FaultTicket] = []
        # Who hears of faults here (set by fault_handler; the pager reads it on every
        # reflection, the checkpointer records it): a plain attribute, like `generation`.
        self.handler: FaultHandler = None
        self.fault_counts = fault_counts if fault_counts is not None else FaultCounts()
        self._address_space: AddressSpace | None = None
        self.destroyed = False
        # Counts the changes to what a walk through this map finds (attach, detach,
        # protect, a nested map destroyed): the pager resumes a walk only if unchanged.
        self.generation = 0
        self._dataspace = ManagedDataspace(badges(), self, ram)

    def __repr__(self) -> str:
        return f"<RegionMap badge={self.badge} size={self.size:#x} regions={len(self.index)}>"

    # ------------------------------------------------------------------ queries

    def dataspace(self) -> ManagedDataspace:
        """The managed dataspace of this map (the same object on every call)."""
        return self._dataspace

    def regions(self) -> list[Region]:
        """All regions, by ascending start address."""
        return list(self.index)

    def region_at(self, addr: int) -> Region | None:
        """The region containing ``addr``, if any."""
        return self.index.find(addr)

    @property
    def low_limit(self) -> int:
        """Addresses below this stay unattached (64 KiB in a PD's address space)."""
        return self._low

    # ----------------------------------------------------------------- nesting

    def _height(self) -> int:
        """Maps on the longest walk starting here (this one included)."""
        return 1 + max((child._height() for child in self._children), default=0)

    def _depth(self) -> int:
        """Maps on the longest path from any root down to this one (included)."""
        return 1 + max((r.region_map._depth() for r in self._dataspace.holders()), default=0)

    def _reaches(self, other: RegionMap) -> bool:
        """True if ``other`` is this map or nested (at any depth) inside it."""
        if other is self:
            return True
        return any(child._reaches(other) for child in self._children)

    def _forget_child(self, sub: RegionMap) -> None:
        left = self._children[sub] - 1
        if left:
            self._children[sub] = left
        else:
            del self._children[sub]

    # ------------------------------------------------------------ attach/detach

    def attach(
        self,
        ds: Dataspace,
        size: int = 0,
        offset: int = 0,
        at: int | None = None,
        executable: bool = False,
        writeable: bool = True,
    ) -> Range:
        """Attach ``size`` bytes of ``ds`` from ``offset`` at ``at`` (or anywhere).

        ``writeable=False`` attaches read-only whatever the dataspace allows,
        and so does attaching a sealed dataspace: writes through the region
        fault as WRITE. Every queued fault whose address the new region
        covers is resolved (its faulter retries; the attach need not grant
        enough rights).
        """
        if self.destroyed:
            raise InvalidArgument(f"{self!r} was destroyed")
        if not isinstance(ds, Dataspace) or (ds.frames is None and not ds.valid):
            raise InvalidDataspace(f"{ds!r} is not a valid dataspace")
        # (Alignment tested inline: a runtime arming a large object attaches
        # hundreds of thousands of parts.)
        if offset < 0 or offset & PAGE_MASK:
            raise InvalidArgument(f"offset {offset:#x} is not page-aligned")
        if size < 0 or size & PAGE_MASK:
            raise InvalidArgument(f"size {size:#x} is not page-aligned")
        if at is not None and (at < 0 or at & PAGE_MASK):
            raise InvalidArgument(f"address {at:#x} is not page-aligned")
        ds_size = ds.size
        if offset >= ds_size:
            raise RegionConflict(f"offset {offset:#x} outside {ds!r}")
        if size == 0:
            size = ds_size - offset
        if offset + size > ds_size:
            raise RegionConflict(f"[{offset:#x}, +{size:#x}) reaches past {ds!r}")
        if size > self.size - self._low:
            raise RegionConflict(f"{size:#x} bytes do not fit {self!r}")

        sub = ds.sub_rm if isinstance(ds, ManagedDataspace) else None
        if sub is not None:
            if sub._reaches(self):
                raise NestingTooDeep(f"attaching {sub!r} into {self!r} would form a cycle")
            if self._depth() + sub._height() > MAX_NESTING:
                raise NestingTooDeep(
                    f"attaching {sub!r} into {self!r} nests deeper than {MAX_NESTING} maps"
                )

        if at is None:
            at = self._find_free(size)
        elif at < self._low or at + size > self.size:
            raise RegionConflict(f"[{at:#x}, +{size:#x}) outside [{self._low:#x}, {self.size:#x})")
        region = Region(self, at, size, ds, offset, writeable and not ds.sealed, executable, sub)
        other = self.index.insert(region)
        if other is not None:
            raise RegionConflict(f"[{at:#x}, +{size:#x}) overlaps {other}")
        self.generation += 1
        ds.attached_to(region)
        if sub is not None:
            self._children[sub] = self._children.get(sub, 0) + 1
        if self._tickets:
            self._resolve_range(at, at + size)
        return _new_tuple(Range, (at, size))  # (the named tuple's __new__ is a Python call)

    def _find_free(self, size: int) -> int:
        """First free address for ``size`` bytes, as naturally aligned as possible."""
        align = min(1 << (size.bit_length() - 1), MAX_ALIGN)
        while align >= PAGE_SIZE:
            at = self._first_fit(size, align)
            if at is not None:
                return at
            align >>= 1
        raise RegionConflict(f"no free range of {size:#x} bytes in {self!r}")

    def _first_fit(self, size: int, align: int) -> int | None:
        mask = align - 1
        cursor = self._low
        for region in self.index:
            candidate = (cursor + mask) & ~mask
            if candidate + size <= region.start:
                return candidate
            if region.end > cursor:
                cursor = region.end
        candidate = (cursor + mask) & ~mask
        if candidate + size <= self.size:
            return candidate
        return None

    def detach(self, at: int) -> Region:
        """Remove the region containing ``at`` and flush what was derived from it.

        Never resolves a queued fault. Returns the removed region.
        """
        region = self.index.find(at)
        if region is None:
            raise NoRegion(f"no region at {at:#x} in {self!r}")
        self.index.remove(region)
        self.generation += 1
        region.dataspace.detached_from(region)
        if region.nested is not None:
            self._forget_child(region.nested)
        self.unmap_region(region.start, region.size)
        return region

    def protect(self, at: int, *, writeable: bool, executable: bool) -> Region:
        """Give the region containing ``at`` these rights, in place: a detach and re-attach fused.

        The same dataspace, offset and place, as a detach and an attach with
        the new rights would leave them, without the region ever missing: a
        right taken away flushes the region (as a detach does), a right
        added needs no flush and resolves the queued faults the region
        covers (as an attach does). A sealed dataspace stays read-only.
        Returns the region.
        """
        region = self.index.find(at)
        if region is None:
            raise NoRegion(f"no region at {at:#x} in {self!r}")
        ds = region.dataspace
        if ds.frames is None and not ds.valid:  # (a RAM's frames: no property call)
            raise InvalidDataspace(f"{region!r} is reserved: its dataspace is gone")
        rwx = (RWX_READ | (RWX_WRITE if writeable and not ds.sealed else 0)
               | (RWX_EXEC if executable else 0))
        old = region.rwx
        region.rwx = rwx
        self.generation += 1
        if old & ~rwx:
            self.unmap_region(region.start, region.size)
        if rwx & ~old and self._tickets:
            self._resolve_range(region.start, region.end)
        return region

    def destroy(self) -> None:
        """Genode's ``Rm_session::destroy``: reserve every region holding this map, detach all.

        Regions elsewhere that hold this map's dataspace stay, reserved:
        accesses through them fault there (no region), until they are
        detached. Faults queued here stay queued; nothing can resolve them.
        """
        if self.destroyed:
            return
        ds = self._dataspace
        ds.invalidate()
        for region in ds.holders():
            region.nested = None
            region.region_map.generation += 1
            region.region_map._forget_child(self)
            region.region_map.unmap_region(region.start, region.size)
        for region in list(self.index):
            self.detach(region.start)
        self.destroyed = True

    # ---------------------------------------------------------------- flushing

    def bind_address_space(self, space: AddressSpace | None) -> None:
        """Flush ``space`` whenever mappings of this map die (Genode ``address_space()``)."""
        self._address_space = space

    def unmap_region(self, start: int, size: int) -> None:
        """Invalidate ``[start, start+size)`` here and wherever this map is visible."""
        if self._address_space is not None:
            self._address_space.flush(start, size)
        end = start + size
        for region in self._dataspace.regions:
            lo = max(start, region.offset)
            hi = min(end, region.offset + region.size)
            if lo < hi:
                region.region_map.unmap_region(region.start + lo - region.offset, hi - lo)

    # ------------------------------------------------------------------ faults

    def fault_handler(self, handler: FaultHandler) -> None:
        """Install who hears of faults: a ``SignalContext``, a ``SynchronousHandler``, or None."""
        self.handler = handler

    def fault(self) -> Fault:
        """The fault of the oldest queued ticket, or ``Fault(NONE, 0)``."""
        if self._tickets:
            return self._tickets[0].fault
        return NO_FAULT

    def faulters(self) -> list[tuple[Faulter, Fault]]:
        """Queued faulters and their faults, oldest first."""
        return [(ticket.faulter, ticket.fault) for ticket in self._tickets]

    def has_faults_in(self, start: int, size: int) -> bool:
        """True if a queued fault lies in ``[start, start+size)`` (an attach there resolves it)."""
        return any(start <= t.fault.addr < start + size for t in self._tickets)

    def enqueue(self, faulter: Faulter, fault: Fault) -> FaultTicket:
        """Queue ``faulter`` on ``fault`` here, telling nobody (the pager tells the handler).

        A restore uses it directly: the handler heard of the fault before the
        checkpoint was taken, and telling it again would make the restored
        run diverge.
        """
        ticket = FaultTicket(faulter, fault, self)
        self._tickets.append(ticket)
        return ticket

    def cancel_fault(self, faulter: Faulter) -> None:
        """Dequeue ``faulter`` without resolving its ticket (thread killed); no-op if absent."""
        self._tickets = [ticket for ticket in self._tickets if ticket.faulter is not faulter]

    def _resolve_range(self, start: int, end: int) -> None:
        resolved = [t for t in self._tickets if start <= t.fault.addr < end]
        if not resolved:
            return
        self._tickets = [t for t in self._tickets if not start <= t.fault.addr < end]
        for ticket in resolved:
            ticket.resolved = True
            ticket.faulter.fault_resolved(ticket)
