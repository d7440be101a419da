"""Region maps: address spaces built from attached dataspaces.

A region map keeps its regions sorted by start address so that the pager
finds the region for an address with one ``bisect``. Region maps nest: a
map's ``dataspace()`` can be attached in another map. Nesting is bounded
(``MAX_NESTING`` maps on any resolve path) and acyclic, both checked at
attach time so that the pager never needs to.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

from rtcr.core.dataspace import Dataspace, ManagedDataspace
from rtcr.core.fault import NO_FAULT, Fault, FaultCounts, Faulter
from rtcr.core.pager import Mapping, resolve
from rtcr.core.ram import PAGE_MASK, PAGE_SIZE, PhysicalRam, page_aligned, round_page
from rtcr.core.range import Range
from rtcr.core.rights import Access, Rights
from rtcr.core.signal import SignalContext
from rtcr.errors import (
    InvalidArgument,
    InvalidDataspace,
    NestingTooDeep,
    NoRegion,
    PageFault,
    RegionConflict,
)

log = logging.getLogger("rtcr.core")

MAX_NESTING = 5
"""Most region maps on one resolve path, the root included (as in Genode)."""

MAX_ALIGN = 2 << 20
"""Largest alignment ``attach(at=None)`` tries (a superpage)."""

HOST_FAULT_RETRIES = 64
"""How often a host access retries after its fault handler woke it before giving up."""

FaultHandler = Callable[["RegionMap"], object] | SignalContext | None
FlushListener = Callable[[int, int], object]


@dataclass(frozen=True, slots=True, eq=False)
class Region:
    """One attachment: ``size`` bytes of ``dataspace`` from ``offset`` at ``start``.

    Regions compare by identity: two attachments with the same parameters
    are still two regions.
    """

    region_map: RegionMap
    start: int
    size: int
    dataspace: Dataspace
    offset: int
    writeable: bool
    executable: bool
    end: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "end", self.start + self.size)

    @property
    def range(self) -> Range:
        """The region's address range in its map."""
        return Range(self.start, self.size)

    @property
    def rights(self) -> Rights:
        """The rights this region grants (before the AND with the rest of the path)."""
        return Rights(self.writeable, self.executable)


class _HostFaulter:
    """Stands for a host-side access blocked on a fault while the handler runs."""

    __slots__ = ("woken",)

    def __init__(self) -> None:
        self.woken = False

    def wake(self) -> None:
        self.woken = True


class RegionMap:
    """A region map (Genode ``Region_map``), possibly nested via ``dataspace()``."""

    __slots__ = (
        "__weakref__",
        "_children",
        "_dataspace",
        "_fault_counts",
        "_faulters",
        "_flush_listeners",
        "_handler",
        "_low",
        "_ram",
        "_regions",
        "_starts",
        "badge",
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
        self._ram = ram
        self._low = low_limit
        self._starts: list[int] = []
        self._regions: list[Region] = []
        # Maps attached in this one (via their managed dataspace), with multiplicity.
        self._children: dict[RegionMap, int] = {}
        self._faulters: list[tuple[Faulter, Fault]] = []
        self._handler: FaultHandler = None
        self._fault_counts = fault_counts if fault_counts is not None else FaultCounts()
        self._flush_listeners: list[FlushListener] = []
        self._dataspace = ManagedDataspace(badges(), self, ram)

    def __repr__(self) -> str:
        return f"<RegionMap badge={self.badge} size={self.size:#x} regions={len(self._regions)}>"

    # ------------------------------------------------------------------ queries

    def dataspace(self) -> ManagedDataspace:
        """The managed dataspace of this map (the same object on every call)."""
        return self._dataspace

    def regions(self) -> list[Region]:
        """All regions, by ascending start address."""
        return list(self._regions)

    def region_at(self, addr: int) -> Region | None:
        """The region containing ``addr``, if any."""
        i = bisect_right(self._starts, addr) - 1
        if i >= 0:
            region = self._regions[i]
            if addr < region.end:
                return region
        return None

    @property
    def low_limit(self) -> int:
        """Addresses below this stay unattached (64 KiB in a PD's address space)."""
        return self._low

    # ----------------------------------------------------------------- nesting

    def _height(self) -> int:
        """Maps on the longest resolve path starting here (this one included)."""
        return 1 + max((child._height() for child in self._children), default=0)

    def _depth(self) -> int:
        """Maps on the longest path from any root down to this one (included)."""
        return 1 + max((r.region_map._depth() for r in self._dataspace._regions), default=0)

    def _reaches(self, other: RegionMap) -> bool:
        """True if ``other`` is this map or nested (at any depth) inside it."""
        if other is self:
            return True
        return any(child._reaches(other) for child in self._children)

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

        ``writeable=False`` attaches read-only whatever the dataspace allows:
        writes through this region fault as WRITE. Any queued faulter whose
        address the new region covers is woken (it retries its access).
        """
        if not isinstance(ds, Dataspace) or not ds.valid:
            raise InvalidDataspace(f"{ds!r} is not a valid dataspace")
        if offset < 0 or not page_aligned(offset):
            raise InvalidArgument(f"offset {offset:#x} is not page-aligned")
        if size < 0 or not page_aligned(size):
            raise InvalidArgument(f"size {size:#x} is not page-aligned")
        if at is not None and (at < 0 or not page_aligned(at)):
            raise InvalidArgument(f"address {at:#x} is not page-aligned")
        if offset >= ds.size:
            raise RegionConflict(f"offset {offset:#x} outside {ds!r}")
        if size == 0:
            size = ds.size - offset
        if offset + size > ds.size:
            raise RegionConflict(f"[{offset:#x}, +{size:#x}) reaches past {ds!r}")
        if size > self.size - self._low:
            raise RegionConflict(f"{size:#x} bytes do not fit {self!r}")

        sub = ds._managed
        if sub is not None:
            if sub._reaches(self):
                raise NestingTooDeep(f"attaching {sub!r} into {self!r} would form a cycle")
            if self._depth() + sub._height() > MAX_NESTING:
                raise NestingTooDeep(
                    f"attaching {sub!r} into {self!r} nests deeper than {MAX_NESTING} maps"
                )

        if at is None:
            at = self._find_free(size)
            i = bisect_right(self._starts, at)
        else:
            if at < self._low or at + size > self.size:
                raise RegionConflict(
                    f"[{at:#x}, +{size:#x}) outside [{self._low:#x}, {self.size:#x})"
                )
            i = bisect_right(self._starts, at)
            if i > 0 and self._regions[i - 1].end > at:
                raise RegionConflict(f"[{at:#x}, +{size:#x}) overlaps {self._regions[i - 1]}")
            if i < len(self._starts) and self._starts[i] < at + size:
                raise RegionConflict(f"[{at:#x}, +{size:#x}) overlaps {self._regions[i]}")

        region = Region(self, at, size, ds, offset, writeable, executable)
        self._starts.insert(i, at)
        self._regions.insert(i, region)
        ds._regions[region] = None
        if sub is not None:
            self._children[sub] = self._children.get(sub, 0) + 1
        if self._faulters:
            self._wake_range(at, at + size)
        return Range(at, size)

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
        for region in self._regions:
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

        Never wakes a faulter. Returns the removed region (for bookkeeping).
        """
        i = bisect_right(self._starts, at) - 1
        if i < 0 or at >= self._regions[i].end:
            raise NoRegion(f"no region at {at:#x} in {self!r}")
        region = self._regions.pop(i)
        del self._starts[i]
        ds = region.dataspace
        del ds._regions[region]
        sub = ds._managed
        if sub is not None:
            left = self._children[sub] - 1
            if left:
                self._children[sub] = left
            else:
                del self._children[sub]
        self._flush(region.start, region.size)
        return region

    # ---------------------------------------------------------------- flushing

    def add_flush_listener(self, callback: FlushListener) -> None:
        """Call ``callback(start, size)`` (this map's coordinates) whenever mappings die."""
        self._flush_listeners.append(callback)

    def remove_flush_listener(self, callback: FlushListener) -> None:
        """Stop calling ``callback``; no-op if it is not registered."""
        for i, cb in enumerate(self._flush_listeners):
            if cb == callback:
                del self._flush_listeners[i]
                return

    def _flush(self, start: int, size: int) -> None:
        """Invalidate ``[start, start+size)`` here and wherever this map is visible."""
        for callback in tuple(self._flush_listeners):
            callback(start, size)
        end = start + size
        for region in self._dataspace._regions:
            lo = max(start, region.offset)
            hi = min(end, region.offset + region.size)
            if lo < hi:
                region.region_map._flush(region.start + lo - region.offset, hi - lo)

    def _flush_region(self, region: Region) -> None:
        self._flush(region.start, region.size)

    # ------------------------------------------------------------------ faults

    def fault_handler(self, handler: FaultHandler) -> None:
        """Install who hears of faults: a callable(rm), a ``SignalContext``, or None."""
        self._handler = handler

    @property
    def handler(self) -> FaultHandler:
        """The installed fault handler (the checkpointer records it)."""
        return self._handler

    def fault(self) -> Fault:
        """The fault of the oldest blocked faulter, or ``Fault(NONE, 0)``."""
        if self._faulters:
            return self._faulters[0][1]
        return NO_FAULT

    def faulters(self) -> list[tuple[Faulter, Fault]]:
        """Blocked faulters and their faults, oldest first."""
        return list(self._faulters)

    def enqueue_fault(self, faulter: Faulter, fault: Fault) -> None:
        """Block ``faulter`` on ``fault`` here and tell the fault handler.

        A callable handler runs right now (it may attach and so wake the
        faulter before this returns); a signal context is submitted; with no
        handler the fault is logged and the faulter stays blocked.
        """
        self._faulters.append((faulter, fault))
        self._fault_counts.count(fault)
        handler = self._handler
        if handler is None:
            log.warning("illegal %s at address %#x", fault.type.name, fault.addr)
        elif isinstance(handler, SignalContext):
            handler.submit()
        else:
            handler(self)

    def requeue_fault(self, faulter: Faulter, fault: Fault) -> None:
        """Put ``faulter`` back in the queue without telling the handler (restore).

        The handler heard of this fault before the checkpoint was taken;
        telling it again would make the restored run diverge.
        """
        self._faulters.append((faulter, fault))

    def cancel_fault(self, faulter: Faulter) -> None:
        """Unblock ``faulter`` without waking it (thread killed); no-op if absent."""
        self._faulters = [entry for entry in self._faulters if entry[0] is not faulter]

    def _wake_range(self, start: int, end: int) -> None:
        woken = [entry for entry in self._faulters if start <= entry[1].addr < end]
        if not woken:
            return
        self._faulters = [entry for entry in self._faulters if not start <= entry[1].addr < end]
        for faulter, _ in woken:
            faulter.wake()

    # ------------------------------------------------------------ host access

    def _host_resolve(self, addr: int, access: Access) -> Mapping:
        """Resolve like a thread would: on a fault, ask the handler, retry if woken."""
        last = NO_FAULT
        for _ in range(HOST_FAULT_RETRIES):
            result = resolve(self, addr, access)
            if isinstance(result, Mapping):
                return result
            last = result.fault
            faulter = _HostFaulter()
            leaf = result.region_map
            try:
                leaf.enqueue_fault(faulter, result.fault)
            finally:
                if not faulter.woken:
                    leaf.cancel_fault(faulter)
            if not faulter.woken:
                raise PageFault(last)
        raise PageFault(last)  # woken every time, yet never resolved: give up

    def read(self, addr: int, n: int) -> bytes:
        """Read ``n`` bytes at ``addr`` through the pager, faulting like a thread."""
        if addr < 0 or n < 0:
            raise InvalidArgument(f"bad access [{addr:#x}, +{n:#x})")
        buf = self._ram.buffer
        out = bytearray()
        end = addr + n
        while addr < end:
            in_page = addr & PAGE_MASK
            chunk = min(end - addr, PAGE_SIZE - in_page)
            phys = self._host_resolve(addr, Access.READ).phys + in_page
            out += buf[phys : phys + chunk]
            addr += chunk
        return bytes(out)

    def write(self, addr: int, data: bytes | bytearray | memoryview) -> None:
        """Write ``data`` at ``addr`` through the pager, faulting like a thread."""
        view = memoryview(data).cast("B")
        if addr < 0:
            raise InvalidArgument(f"bad address {addr:#x}")
        buf = self._ram.buffer
        pos = 0
        end = addr + len(view)
        while addr < end:
            in_page = addr & PAGE_MASK
            chunk = min(end - addr, PAGE_SIZE - in_page)
            phys = self._host_resolve(addr, Access.WRITE).phys + in_page
            buf[phys : phys + chunk] = view[pos : pos + chunk]
            addr += chunk
            pos += chunk
