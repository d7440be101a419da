"""The pager: translate an address of a region map into a physical frame.

The machine calls ``resolve`` on every TLB fill, so it is written for
speed: one ``bisect`` per nesting level, no allocation on success other
than the returned ``Mapping``. Rights are ANDed along the nested path with
the dataspace's own writability (read-only attach); reads of attached
memory are always allowed.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rtcr.core.fault import Fault, FaultType
from rtcr.core.rights import Access

if TYPE_CHECKING:
    from rtcr.core.region_map import RegionMap

_MAX_LEVELS = 5  # region_map.MAX_NESTING; attach guarantees no path is longer
_READ = Access.READ
_WRITE = Access.WRITE
_EXEC = Access.EXEC
_FAULT_TYPE = {
    Access.READ: FaultType.READ,
    Access.WRITE: FaultType.WRITE,
    Access.EXEC: FaultType.EXEC,
}


@dataclass(frozen=True, slots=True)
class Mapping:
    """A resolved translation: the 4 KiB frame and the effective rights."""

    phys: int
    writeable: bool
    executable: bool


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A failed translation: the leaf map to reflect the fault to, and the fault.

    The fault address is in the leaf map's coordinates; its type is the
    access that failed.
    """

    region_map: RegionMap
    fault: Fault


_mappings: dict[int, Mapping] = {}
"""Interned mappings, keyed by physical address | writeable << 1 | executable."""


def resolve(rm: RegionMap, addr: int, access: Access) -> Mapping | Unresolved:
    """Translate ``addr`` of ``rm`` for ``access``.

    On failure the leaf map is where the walk stopped: the map whose region
    first denies the access on the way down (read-only attach, or no
    execute right), else the deepest map reached -- where nothing is
    attached at the address, or which holds the region pointing at a
    freed, sealed or ROM dataspace. Reporting a denied write at the
    outermost read-only region is what makes read-only attach composable:
    whoever attached read-only hears of the write, even when a deeper map
    (a checkpointing runtime's, say) would allow it.
    """
    writeable = True
    executable = True
    cur = rm
    for _ in range(_MAX_LEVELS):
        i = bisect_right(cur._starts, addr) - 1
        if i < 0:
            break
        region = cur._regions[i]
        if addr >= region.end:
            break
        if not region.writeable:
            if access is _WRITE:
                break
            writeable = False
        if not region.executable:
            if access is _EXEC:
                break
            executable = False
        ds = region.dataspace
        sub = ds._managed
        if sub is not None:
            addr = addr - region.start + region.offset
            cur = sub
            continue
        frames = ds._frames
        if frames is None:  # freed: the region stays reserved and faults
            break
        if not ds._writeable:
            writeable = False
        if (access is _WRITE and not writeable) or (access is _EXEC and not executable):
            break
        phys = frames[(addr - region.start + region.offset) >> 12] << 12
        # Mappings are immutable values: share one per (frame, rights) instead
        # of building a frozen dataclass on every fill (saves ~0.3 µs).
        key = phys | (writeable << 1) | executable
        mapping = _mappings.get(key)
        if mapping is None:
            mapping = _mappings[key] = Mapping(phys, writeable, executable)
        return mapping
    return Unresolved(cur, Fault(_FAULT_TYPE[access], addr))


class Pager:
    """Core's pager object; ``resolve`` is the module function, bound for convenience."""

    __slots__ = ()

    resolve = staticmethod(resolve)
