"""Dirty tracking: which parts of a RAM dataspace changed since the last checkpoint.

The runtime hands the target a *managed* dataspace instead of the RAM it
asked for and attaches the real RAM inside it in *parts* of `granularity`
pages. How the parts are attached is the strategy:

- ``ro-attach``: parts are attached read-only. Reads never fault; the first
  write to a part faults (a write violation at the runtime's map), the part
  is marked dirty and given the write right in place (``protect``). This is the scheme the runtime
  exists for (Genode's read-only attach).
- ``detach``: parts are not attached at all; any access faults (no region)
  and attaches the part writable, so reads count as dirty too. The
  original Rtcr scheme, kept as the baseline.
- ``full``: the whole dataspace is attached writable once; nothing faults,
  every checkpoint copies everything.

Re-arming in O(1). A tracked object has *two* region maps holding its
parts; the target's regions of the object point at one of them, the
*active* one. A checkpoint swaps: it re-attaches the target's few regions
of the object onto the other map, whose parts are all armed already, and
the map swapped out is re-armed later, off the pause path (`recycle`).
Only the map holding the parts sits between the target's map and the RAM,
so tracking costs one level of the five a walk may take, swap or not.

Arming in O(1), too (``Arming``). Under ro-attach a part is *armed* in a
map once it is attached there read-only. A new object's second map is
needed only at its first swap, so it is armed by `recycle`, between time
slices, as a swapped-out map is re-armed, and whatever is left by the
first swap is armed there: allocating attaches the parts of one map. A
restored object arms neither map when it is made: a part not armed yet
in the active map is armed by its first access (a fault with no region,
resolved by attaching it -- writable and dirty for a write), and
`recycle` arms the rest of both maps between time slices. Restoring an
object attaches nothing.

All of it uses only the public region-map interface (attach, detach,
protect -- a detach and re-attach fused, see ``RegionMap.protect`` --
and the fault handler), as a Genode component would: the runtime serves
the target's RM sessions, so re-attaching the target's regions is its to do.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection

from rtcr.core import (
    PAGE_SIZE,
    Fault,
    FaultType,
    RamDataspace,
    RegionMap,
    Rights,
    Verdict,
    WalkFailure,
)

_FORWARD = Verdict.FORWARD
_RESOLVED = Verdict.RESOLVED
_WRITE_FAULT = FaultType.WRITE
_EXEC_FAULT = FaultType.EXEC
_WRITE_VIOLATION = WalkFailure.WRITE_VIOLATION


_NO_REGION = WalkFailure.NO_REGION


class Arming(enum.Enum):
    """When an object's parts are armed under ro-attach (see "Arming in O(1)")."""

    AT_ONCE = "at once"  # the active map now, the other between slices: a new object
    ON_DEMAND = "on demand"  # each at its first access or between slices: a restored object
    BY_LOADER = "by loader"  # by `arm_part`, once the content is back: a lazy restore


class Strategy(enum.Enum):
    RO_ATTACH = "ro-attach"
    DETACH = "detach"
    FULL = "full"


class TrackedRam:
    """One RAM dataspace of the target, behind the managed maps the target sees.

    `maps[0]`'s dataspace is the capability the target holds; `active` is
    the map its regions point at now (under `full` there is only one map).
    """

    def __init__(self, ram: RamDataspace, maps: tuple[RegionMap, ...], strategy: Strategy,
                 granularity: int, *, arming: Arming = Arming.AT_ONCE) -> None:
        if granularity < 1:
            raise ValueError("granularity must be at least one page")
        if len(maps) != (1 if strategy is Strategy.FULL else 2):
            raise ValueError(f"{strategy.value} tracking takes "
                             f"{1 if strategy is Strategy.FULL else 2} region maps")
        if arming is Arming.BY_LOADER and strategy is Strategy.FULL:
            raise ValueError("full tracking attaches the whole RAM at once; it has no parts "
                             "to arm one by one")
        self.ram: RamDataspace | None = ram
        self.maps = maps
        self.strategy = strategy
        self.pages = ram.size // PAGE_SIZE
        self.part_pages = granularity
        self.part_size = granularity * PAGE_SIZE
        self.parts = -(-self.pages // granularity)
        self.dirty: set[int] = set()
        self.faults = 0
        self._active = 0
        self._writeable: set[int] = set()  # parts attached writable in the active map
        self._stale: set[int] = set()  # parts of the inactive map still to re-arm
        # Under ro-attach, per map: 1 for each armed part, how many are not, and below
        # which part every one is armed; `recycle` arms the maps in `_pending`.
        self._armed = (bytearray(self.parts), bytearray(self.parts))
        self._unarmed = [self.parts, self.parts]
        self._armed_below = [0, 0]
        self._pending: list[int] = []
        self._on_demand = arming is Arming.ON_DEMAND and strategy is Strategy.RO_ATTACH
        # The walk failure a tracking fault has (none under `full`: nothing is tracked).
        self._tracking = {Strategy.RO_ATTACH: WalkFailure.WRITE_VIOLATION,
                          Strategy.DETACH: WalkFailure.NO_REGION}.get(strategy)
        if strategy is Strategy.FULL:
            self._arm_all(maps[0])
        elif strategy is Strategy.RO_ATTACH and arming is Arming.AT_ONCE:
            self._arm_all(maps[0])
            self._pending = [1]
        elif strategy is Strategy.RO_ATTACH and arming is Arming.ON_DEMAND:
            self._pending = [0, 1]

    @property
    def freed(self) -> bool:
        return self.ram is None

    @property
    def managed(self) -> RegionMap:
        """The map whose dataspace the target holds as its RAM capability."""
        return self.maps[0]

    @property
    def active(self) -> RegionMap:
        """The map the target's regions of this object point at now."""
        return self.maps[self._active]

    @property
    def parts_map(self) -> RegionMap:
        """The map in which tracking faults are resolved (the active one)."""
        return self.active

    def _part_span(self, part: int) -> tuple[int, int]:
        offset = part * self.part_size
        return offset, min(self.part_size, self.pages * PAGE_SIZE - offset)

    def part_pages_of(self, part: int) -> range:
        first = part * self.part_pages
        return range(first, min(first + self.part_pages, self.pages))

    def _attach_part(self, rm: RegionMap, part: int, writeable: bool) -> None:
        assert self.ram is not None
        offset, size = self._part_span(part)
        rm.attach(self.ram, size=size, offset=offset, at=offset, executable=True,
                  writeable=writeable)

    def _arm_all(self, rm: RegionMap) -> None:
        if self.strategy is Strategy.FULL:
            assert self.ram is not None
            rm.attach(self.ram, size=0, offset=0, at=0, executable=True, writeable=True)
        elif self.strategy is Strategy.RO_ATTACH:
            ram, size, end = self.ram, self.part_size, self.pages * PAGE_SIZE
            assert ram is not None
            for offset in range(0, end, size):  # (the attaches of _attach_part, inline)
                rm.attach(ram, size=min(size, end - offset), offset=offset, at=offset,
                          executable=True, writeable=False)
            m = self.maps.index(rm)
            self._armed[m][:] = b"\1" * self.parts
            self._unarmed[m] = 0
            self._armed_below[m] = self.parts
        # DETACH: nothing attached; every first access faults.

    def _arm(self, m: int, part: int, writeable: bool) -> None:
        """Attach a part not armed yet in ``maps[m]`` (ro-attach)."""
        self._attach_part(self.maps[m], part, writeable)
        self._armed[m][part] = 1
        self._unarmed[m] -= 1

    def _arm_some(self, m: int, budget: int | None) -> int:
        """Arm up to ``budget`` parts of ``maps[m]`` not armed yet, in address order."""
        armed, part, done = self._armed[m], self._armed_below[m], 0
        while self._unarmed[m] and (budget is None or done < budget):
            part = armed.find(0, part)
            self._arm(m, part, writeable=False)
            done += 1
        self._armed_below[m] = part
        if not self._unarmed[m]:
            self._pending.remove(m)
        return done

    def arm_part(self, part: int) -> None:
        """Arm one part in both maps, as construction arms them all.

        For a RAM constructed with ``Arming.BY_LOADER`` (a lazy restore): a
        part not armed yet has no region in either map, so any access to it
        faults with no region before tracking sees it; the lazy loader arms
        the part once its content is back, and tracking goes on from there.
        """
        if self.strategy is Strategy.RO_ATTACH:
            for m in (0, 1):
                self._arm(m, part, writeable=False)

    def _rearm_part(self, rm: RegionMap, part: int) -> None:
        if self.strategy is Strategy.RO_ATTACH:
            rm.protect(part * self.part_size, writeable=False, executable=True)
        else:
            rm.detach(part * self.part_size)

    # -- the fault ----------------------------------------------------------
    def handle_fault(self, rm: RegionMap, fault: Fault, reason: WalkFailure, rights: Rights,
                     before_upgrade: Callable[[int], None] | None = None) -> Verdict:
        """Resolve a tracking fault in the active map, or forward what is the target's.

        A fault is tracking only if the target's own path allows the access
        (`rights`: what the walk had on entering this map) and the RAM is
        writable for a write; everything else -- a write through the
        target's read-only region, to sealed RAM, any access to freed RAM --
        goes to the map above, where the target sees it as it would on
        Genode's core. `before_upgrade(part)` runs before a part becomes
        writable: the moment a concurrent checkpoint saves its old content.
        """
        # This runs on every tracking fault: the enum members it compares
        # with are module constants, and the common case is tested first.
        ram = self.ram
        if ram is None or rm is not self.maps[self._active]:
            return _FORWARD
        if reason is not self._tracking:
            if reason is _NO_REGION and self._on_demand:
                return self._arm_at_access(fault, rights, ram, before_upgrade)
            return _FORWARD
        kind = fault.type
        if kind is _WRITE_FAULT:
            if not (rights.writeable and ram.writeable):
                return _FORWARD
        elif kind is _EXEC_FAULT and not rights.executable:
            return _FORWARD
        part = fault.addr // self.part_size
        if part >= self.parts or part in self._writeable:
            return _FORWARD
        if before_upgrade is not None:
            before_upgrade(part)
        if self._tracking is _WRITE_VIOLATION:
            rm.protect(part * self.part_size, writeable=True, executable=True)
        else:
            self._attach_part(rm, part, writeable=True)
        self._writeable.add(part)
        self.dirty.add(part)
        self.faults += 1
        return _RESOLVED

    def _arm_at_access(self, fault: Fault, rights: Rights, ram: RamDataspace,
                       before_upgrade: Callable[[int], None] | None) -> Verdict:
        """The first access to a part not armed yet in the active map (``Arming.ON_DEMAND``).

        A write the target may make arms the part writable and dirty (a
        tracking fault, as if it had been armed); anything else arms it
        read-only, and the retried access goes on from there.
        """
        part = fault.addr // self.part_size
        if part >= self.parts or self._armed[self._active][part]:
            return _FORWARD
        writes = fault.type is _WRITE_FAULT and rights.writeable and ram.writeable
        if writes and before_upgrade is not None:
            before_upgrade(part)
        self._arm(self._active, part, writes)
        if writes:
            self._writeable.add(part)
            self.dirty.add(part)
            self.faults += 1
        return _RESOLVED

    # -- checkpoints --------------------------------------------------------
    def pages_in(self, parts: Collection[int]) -> int:
        """How many pages `parts` cover (only the last part may be short)."""
        count = len(parts) * self.part_pages
        if self.parts - 1 in parts:
            count -= self.parts * self.part_pages - self.pages
        return count

    def dirty_pages(self) -> list[int]:
        """Page indices to copy at the next checkpoint (all of them under `full`)."""
        if self.strategy is Strategy.FULL:
            return list(range(self.pages))
        return [page for part in sorted(self.dirty) for page in self.part_pages_of(part)]

    def swap(self) -> set[int]:
        """Re-arm tracking at a checkpoint; return the parts dirty since the last one.

        Costs O(the target's regions of this object): they are re-attached,
        with the same addresses and rights, onto the other map, whose parts
        are armed. If a fault is queued in one of those regions (a thread
        waits for the target's own handler there), re-attaching would resolve
        its ticket, which the target did not ask for; then this object is
        re-armed in place instead, in O(dirty parts).
        """
        dirty, self.dirty = self.dirty, set()
        if self.strategy is Strategy.FULL or self.ram is None:
            return dirty
        self._rearm_stale(None)
        if not self._on_demand and self._pending:  # a new object: its other map, all of it
            self._arm_some(self._active ^ 1, None)
        old = self.maps[self._active]
        new = self.maps[self._active ^ 1]
        regions = old.dataspace().holders()
        if any(r.region_map.has_faults_in(r.start, r.size) for r in regions):
            for part in self._writeable:
                self._rearm_part(old, part)
            self._writeable.clear()
            return dirty
        for region in regions:
            target = region.region_map
            target.detach(region.start)
            target.attach(new.dataspace(), size=region.size, offset=region.offset,
                          at=region.start, executable=region.executable,
                          writeable=region.writeable)
        self._stale, self._writeable = self._writeable, set()
        self._active ^= 1
        return dirty

    @property
    def stale_parts(self) -> int:
        """Parts waiting for `recycle`: to re-arm in the inactive map, or to arm at all."""
        return len(self._stale) + sum(self._unarmed[m] for m in self._pending)

    def recycle(self, budget: int | None) -> int:
        """Re-arm the inactive map, then arm what is not yet: up to `budget` parts; the work."""
        if self.ram is None or self.strategy is Strategy.FULL:
            return 0
        done = self._rearm_stale(budget)
        for m in list(self._pending):
            done += self._arm_some(m, None if budget is None else budget - done)
        return done

    def _rearm_stale(self, budget: int | None) -> int:
        inactive = self.maps[self._active ^ 1]
        done = 0
        while self._stale and (budget is None or done < budget):
            self._rearm_part(inactive, self._stale.pop())
            done += 1
        return done

    def release(self) -> None:
        """The RAM was freed: its parts leave the maps (reserved regions go too).

        The target's regions of the object stay: an access through them
        faults here with no region, and is forwarded to the target's map.
        """
        for rm in self.maps:
            for region in rm.regions():
                rm.detach(region.start)
        self._writeable.clear()
        self._stale.clear()
        self._pending.clear()
        self.dirty.clear()
        self.ram = None
