"""The pager: translate an address of a region map, and reflect what cannot be translated.

``translate`` runs on every TLB fill the software TLB cannot serve, so it
is written for speed: a grid cell or two ``bisect`` calls per nesting
level, no allocation on success. It follows Genode's
``Region_map_component::_with_region_at_fault``: rights are ANDed along the
nested path; a write or execute the ANDed rights do not allow is a
*violation at the leaf* -- the map whose region holds the regular
dataspace -- and an address without a region (or with a reserved one)
fails in the map where the lookup found nothing.

``reflect`` is the one place a failed translation goes: it counts the
fault once and dispatches on the kind of handler of the map the fault
belongs to (see ``rtcr.core.fault``). Host accesses "as a thread would"
(``host_read``/``host_write``: the kernel copying system-call arguments,
the loader) go through the same two functions, but may only be resolved
by a synchronous handler: nothing on the host side can wait for a guest
thread to handle a fault.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from rtcr.core.fault import Fault, FaultType, Verdict, WalkFailure
from rtcr.core.region_map import MAX_NESTING, Faulter, FaultTicket, RegionMap
from rtcr.core.signal import SignalContext
from rtcr.core.types import (
    PAGE_MASK,
    PAGE_SHIFT,
    PAGE_SIZE,
    RWX_EXEC,
    RWX_READ,
    RWX_WRITE,
    Access,
    Rights,
)
from rtcr.errors import InvalidArgument, PageFault

_WRITE = Access.WRITE
_EXEC = Access.EXEC
_FAULT_TYPE = {
    Access.READ: FaultType.READ,
    Access.WRITE: FaultType.WRITE,
    Access.EXEC: FaultType.EXEC,
}
_WRITE_FAULT = FaultType.WRITE
_new_tuple = tuple.__new__
RWX_ALL = RWX_READ | RWX_WRITE | RWX_EXEC


@dataclass(frozen=True, slots=True)
class Mapping:
    """A resolved translation: the 4 KiB frame and the effective rights."""

    phys: int
    writeable: bool
    executable: bool


@dataclass(frozen=True, slots=True)
class Step:
    """One map a walk passed: the address there and the rights it had on entering it."""

    region_map: RegionMap
    addr: int
    rights: Rights


Trail = tuple[tuple[RegionMap, int, int, int], ...]
"""The maps a walk passed, root first: (map, address there, the ``RWX_*`` rights the walk
had on entering it, the map's ``generation`` then)."""


class Unresolved(NamedTuple):
    """A failed translation: why, and the maps the walk passed, root first.

    The fault belongs to the last map of ``trail`` (where the walk
    stopped); ``access`` is the access that failed. ``steps`` is the trail
    as values. (A named tuple: one is made on every tracking fault.)
    """

    reason: WalkFailure
    access: Access
    trail: Trail

    @property
    def steps(self) -> tuple[Step, ...]:
        """The maps the walk passed, root first."""
        return tuple(Step(rm, addr, _RIGHTS_OF_BITS[rwx]) for rm, addr, rwx, _ in self.trail)

    @property
    def region_map(self) -> RegionMap:
        """The map the fault is reflected to."""
        return self.trail[-1][0]

    @property
    def fault(self) -> Fault:
        """The fault in that map's coordinates."""
        return Fault(_FAULT_TYPE[self.access], self.trail[-1][1])


@dataclass(frozen=True, slots=True)
class Unhandled:
    """A fault nobody may resolve (Genode's pager stops the thread and logs it).

    ``region_map`` is where reflection ended (a map without a handler, or
    whose synchronous handler declined); ``reason`` is the walk's reason as
    seen from there; ``addr`` is the address in the root map (the thread's
    virtual address).
    """

    reason: WalkFailure
    access: Access
    addr: int
    region_map: RegionMap

    def describe(self) -> str:
        """Genode's wording: ``illegal READ at address 0x0`` or ``WRITE violation at ...``."""
        if self.reason is WalkFailure.NO_REGION:
            return f"illegal {self.access.name} at address {self.addr:#x}"
        if self.reason is WalkFailure.RECURSION_LIMIT:
            return (f"giving up on unexpectedly deep memory-mapping structure: "
                    f"{self.access.name} at address {self.addr:#x}")
        return f"{self.access.name} violation at address {self.addr:#x}"


RESOLVED = Verdict.RESOLVED
"""What ``reflect`` returns when a synchronous handler resolved the fault: retry now."""

Reflection = Verdict | FaultTicket | Unhandled

_mappings: dict[int, Mapping] = {}
"""Interned mappings, keyed by their PTE."""

_RIGHTS_OF_BITS = [Rights(bool(bits & RWX_WRITE), bool(bits & RWX_EXEC)) for bits in range(8)]


def translate(rm: RegionMap, addr: int, access: Access, *, _rwx: int = RWX_ALL,
              _path: list[tuple[RegionMap, int, int, int]] | None = None) -> int | Unresolved:
    """Translate ``addr`` of ``rm`` for ``access`` into a PTE, or say why and where it failed.

    The PTE is one int: the frame's physical address ORed with the
    translation's ``RWX_*`` rights (the fill path of the CPU enters it into
    its TLBs as it is). ``resolve`` is the same walk with a ``Mapping``.
    (``_rwx`` and ``_path`` are the state of a walk ``resume`` continues.)
    """
    rwx = _rwx
    cur = rm
    path = _path
    for _ in range(MAX_NESTING - len(path) if path else MAX_NESTING):
        index = cur.index
        grid = index.grid
        if grid is not None:  # equal parts at fixed offsets: the cell holds the region
            # A region in cell k starts at k * stride: the address's distance from there
            # is addr % stride, compared with the size (the parts share one int object;
            # each region's own start and end would be two more objects to fetch).
            stride = index.stride
            k = addr // stride if stride else -1
            region = grid[k] if 0 <= k < len(grid) else None
            if region is None or addr % stride >= region.size:
                return _failed(WalkFailure.NO_REGION, access, path, cur, addr, rwx)
        else:
            i = bisect_right(index.firsts, addr) - 1
            if i < 0:
                return _failed(WalkFailure.NO_REGION, access, path, cur, addr, rwx)
            j = bisect_right(index.starts[i], addr) - 1
            region = index.chunks[i][j]
            if addr >= region.end:
                return _failed(WalkFailure.NO_REGION, access, path, cur, addr, rwx)
        sub = region.nested
        if sub is not None:
            # Plain tuples: a successful walk builds no value object.
            if path is None:
                path = [(cur, addr, rwx, cur.generation)]
            else:
                path.append((cur, addr, rwx, cur.generation))
            rwx &= region.rwx
            addr += region.delta
            cur = sub
            continue
        ds = region.dataspace
        frames = ds.frames
        if frames is None:  # freed or destroyed: the region stays reserved and faults
            return _failed(WalkFailure.NO_REGION, access, path, cur, addr, rwx)
        granted = rwx & region.rwx if ds.writeable else rwx & region.rwx & ~RWX_WRITE
        if access is _WRITE:
            if not granted & RWX_WRITE:
                return _failed(WalkFailure.WRITE_VIOLATION, access, path, cur, addr, rwx)
        elif access is _EXEC and not granted & RWX_EXEC:
            return _failed(WalkFailure.EXEC_VIOLATION, access, path, cur, addr, rwx)
        return (frames[(addr + region.delta) >> PAGE_SHIFT] << PAGE_SHIFT) | granted
    return _failed(WalkFailure.RECURSION_LIMIT, access, path, cur, addr, rwx)


def resume(failure: Unresolved) -> int | Unresolved | None:
    """The walk of ``failure`` again, after a handler resolved the fault: a PTE or a failure.

    If no map above the one where the walk stopped changed since (their
    ``generation``), the walk continues there, with the rights it had --
    what a walk from the root would find, without walking the levels above
    again. Otherwise None: walk from the root (``translate``).
    """
    trail = failure.trail
    last = len(trail) - 1
    for level in range(last):
        entry = trail[level]
        if entry[0].generation != entry[3]:
            return None
    rm, addr, rwx, _ = trail[last]
    return translate(rm, addr, failure.access, _rwx=rwx,
                     _path=list(trail[:last]) if last else None)


def resolve(rm: RegionMap, addr: int, access: Access) -> Mapping | Unresolved:
    """Translate ``addr`` of ``rm`` for ``access``, or say why and where it failed."""
    pte = translate(rm, addr, access)
    if not isinstance(pte, int):
        return pte
    # Mappings are immutable values: share one per PTE.
    mapping = _mappings.get(pte)
    if mapping is None:
        mapping = _mappings[pte] = Mapping(pte & ~PAGE_MASK, bool(pte & RWX_WRITE),
                                           bool(pte & RWX_EXEC))
    return mapping


def _failed(reason: WalkFailure, access: Access,
            path: list[tuple[RegionMap, int, int, int]] | None, rm: RegionMap, addr: int,
            rwx: int) -> Unresolved:
    last = (rm, addr, rwx, rm.generation)
    # tuple.__new__ directly: the named tuple's own __new__ is one Python call more.
    return _new_tuple(Unresolved, (reason, access, (*path, last) if path else (last,)))


def reflect(failure: Unresolved, faulter: Faulter | None, *,
            byte_offset: Callable[[], int] | None = None) -> Reflection:
    """Deliver a failed translation to the handler it belongs to; count it once.

    Starting at the map where the walk stopped: a synchronous handler
    answers at once (``RESOLVED`` is returned; ``FORWARD`` moves the fault
    one map up the walk, where an access the rights above deny becomes a
    violation there; ``DECLINED`` leaves it unhandled). A signal handler
    gets ``faulter`` queued on a ticket, which is returned. With no handler
    -- or no faulter able to wait (``faulter`` None: a host access) -- the
    fault is ``Unhandled`` and nobody is told.

    ``byte_offset`` says how far the faulting byte lies past the address the
    walk started from, when the caller can tell only at some cost (the CPU
    decodes the instruction): it is asked only for a fault that leaves the
    synchronous handlers, so write tracking never pays for it.
    """
    trail = failure.trail
    access = failure.access
    reason = failure.reason
    level = len(trail) - 1
    counts = trail[0][0].fault_counts
    # (Enum members as dict keys hash in Python: the common case is compared.)
    if access is _WRITE:
        kind, need = _WRITE_FAULT, RWX_WRITE
    else:
        kind, need = _FAULT_TYPE[access], RWX_EXEC if access is _EXEC else RWX_READ
    while True:
        rm, addr, rwx, _ = trail[level]
        handler = rm.handler
        # Not an isinstance on the abstract class: that check costs more than the rest here.
        if handler is not None and not isinstance(handler, SignalContext):
            verdict = handler.handle_fault(rm, _new_tuple(Fault, (kind, addr)), reason,
                                           _RIGHTS_OF_BITS[rwx])
            if verdict is Verdict.RESOLVED:
                counts.count(kind)
                return RESOLVED
            if verdict is Verdict.FORWARD and level > 0:
                level -= 1
                if not trail[level + 1][2] & need:
                    reason = (WalkFailure.WRITE_VIOLATION if access is _WRITE
                              else WalkFailure.EXEC_VIOLATION)
                continue
            break
        offset = 0 if byte_offset is None else byte_offset()
        if isinstance(handler, SignalContext) and faulter is not None:
            counts.count(kind)
            ticket = rm.enqueue(faulter, Fault(kind, addr + offset))
            handler.submit()
            return ticket
        return Unhandled(reason, access, trail[0][1] + offset, rm)
    offset = 0 if byte_offset is None else byte_offset()
    return Unhandled(reason, access, trail[0][1] + offset, trail[level][0])


# ---------------------------------------------------------------- host access

HOST_FAULT_RETRIES = 64
"""How often a host access retries after a synchronous handler resolved its fault."""


def _host_translate(rm: RegionMap, addr: int, access: Access) -> int:
    """Translate like a thread would (a PTE), but only a synchronous handler may help."""
    result = translate(rm, addr, access)
    for _ in range(HOST_FAULT_RETRIES):
        if isinstance(result, int):
            return result
        if reflect(result, None) is not RESOLVED:
            raise PageFault(result.fault)
        resumed = resume(result)
        result = translate(rm, addr, access) if resumed is None else resumed
    if isinstance(result, int):
        return result
    raise PageFault(result.fault)  # resolved every time, yet never mapped: give up


def host_read(rm: RegionMap, addr: int, n: int) -> bytes:
    """Read ``n`` bytes at ``addr`` of ``rm`` as a thread would (``PageFault`` if it cannot)."""
    if addr < 0 or n < 0:
        raise InvalidArgument(f"bad access [{addr:#x}, +{n:#x})")
    buf = rm.dataspace().ram.buffer
    out = bytearray()
    end = addr + n
    while addr < end:
        in_page = addr & PAGE_MASK
        chunk = min(end - addr, PAGE_SIZE - in_page)
        phys = (_host_translate(rm, addr, Access.READ) & ~PAGE_MASK) + in_page
        out += buf[phys : phys + chunk]
        addr += chunk
    return bytes(out)


def host_write(rm: RegionMap, addr: int, data: bytes | bytearray | memoryview) -> None:
    """Write ``data`` at ``addr`` of ``rm`` as a thread would (``PageFault`` if it cannot).

    Every page is translated before the first byte is written, so a write
    that faults changes nothing. This is the one host write path through a
    region map: the kernel's copy-outs and the loader's segment writes both
    end here.
    """
    view = memoryview(data).cast("B")
    if addr < 0:
        raise InvalidArgument(f"bad address {addr:#x}")
    end = addr + len(view)
    if end == addr:
        return
    pages = [_host_translate(rm, max(page, addr), Access.WRITE) & ~PAGE_MASK
             for page in range(addr & ~PAGE_MASK, end, PAGE_SIZE)]
    ram = rm.dataspace().ram
    buf = ram.buffer
    pos = 0
    for phys in pages:
        in_page = addr & PAGE_MASK
        chunk = min(end - addr, PAGE_SIZE - in_page)
        buf[phys + in_page : phys + in_page + chunk] = view[pos : pos + chunk]
        ram.written(phys + in_page, chunk)
        addr += chunk
        pos += chunk
