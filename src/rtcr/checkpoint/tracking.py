"""Dirty tracking: which parts of a RAM dataspace changed since the last checkpoint.

The runtime hands the target a *managed* dataspace instead of the RAM it
asked for and attaches the real RAM inside it in *parts* of `granularity`
pages. How the parts are attached is the strategy:

- ``ro-attach``: parts are attached read-only. Reads never fault; the first
  write to a part faults (WRITE), the part is marked dirty and re-attached
  writable. After a checkpoint the dirty parts go back to read-only. This is
  the scheme the runtime exists for (Genode's read-only attach).
- ``detach``: parts are not attached at all; any access faults and
  re-attaches the part writable, so reads count as dirty too. The original
  Rtcr scheme, kept as the baseline.
- ``full``: the whole dataspace is attached writable once; nothing faults,
  every checkpoint copies everything.

All of it uses only the public region-map interface (attach, detach,
fault_handler, fault), as a Genode component would.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from rtcr.core import PAGE_SIZE, Fault, FaultType, RamDataspace, RegionMap


class Strategy(enum.Enum):
    RO_ATTACH = "ro-attach"
    DETACH = "detach"
    FULL = "full"


class TrackedRam:
    """One RAM dataspace of the target, behind the managed map the target sees.

    With `banks` (two spare region maps; ro-attach only), the parts live in
    one of the banks, which is attached whole inside the managed map. A
    checkpoint then re-arms tracking in O(1): it swaps in the other bank,
    whose parts are all read-only already, instead of downgrading every
    dirty part while the target waits. The bank swapped out is reset to
    read-only later, off the pause path (`recycle`).
    """

    def __init__(self, ram: RamDataspace, managed: RegionMap, strategy: Strategy,
                 granularity: int, banks: tuple[RegionMap, RegionMap] | None = None) -> None:
        if granularity < 1:
            raise ValueError("granularity must be at least one page")
        if banks is not None and strategy is not Strategy.RO_ATTACH:
            raise ValueError("banked tracking needs the ro-attach strategy")
        self.ram: RamDataspace | None = ram
        self.managed = managed
        self.strategy = strategy
        self.pages = ram.size // PAGE_SIZE
        self.part_pages = granularity
        self.part_size = granularity * PAGE_SIZE
        self.parts = -(-self.pages // granularity)
        self.dirty: set[int] = set()
        self.faults = 0
        self.banks = banks
        self._active = 0
        self._writeable: set[int] = set()  # parts attached writable in the active map
        self._stale: set[int] = set()  # parts still writable in the inactive bank
        if banks is not None:
            for bank in banks:
                self._arm_all(bank)
            managed.attach(banks[0].dataspace(), size=0, offset=0, at=0, executable=True,
                           writeable=True)
        else:
            self._arm_all(managed)

    @property
    def freed(self) -> bool:
        return self.ram is None

    @property
    def parts_map(self) -> RegionMap:
        """The map in which the parts are attached (and which reports tracking faults)."""
        return self.managed if self.banks is None else self.banks[self._active]

    def maps(self) -> list[RegionMap]:
        return [self.managed, *(self.banks or ())]

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
            for part in range(self.parts):
                self._attach_part(rm, part, writeable=False)
        # DETACH: nothing attached; every first access faults.

    def handle(self, fault: Fault, before_upgrade: Callable[[int], None] | None = None) -> bool:
        """Resolve a fault in the parts map; False if it is not ours to resolve.

        `before_upgrade(part)` runs before a part becomes writable: the moment
        a concurrent checkpoint must save the part's old content.
        """
        if self.ram is None or self.strategy is Strategy.FULL:
            return False
        part = fault.addr // self.part_size
        if not 0 <= part < self.parts or part in self._writeable:
            return False  # e.g. a write to sealed RAM: a real error, not tracking
        if before_upgrade is not None:
            before_upgrade(part)
        rm = self.parts_map
        if self.strategy is Strategy.RO_ATTACH:
            if fault.type is not FaultType.WRITE:
                return False
            rm.detach(part * self.part_size)
        self.faults += 1
        self.dirty.add(part)
        self._attach_part(rm, part, writeable=True)
        self._writeable.add(part)
        return True

    def pages_in(self, parts: set[int]) -> int:
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

    def rearm(self) -> None:
        """After a checkpoint: track the dirty parts again (O(dirty parts))."""
        rm = self.parts_map
        for part in sorted(self._writeable):
            rm.detach(part * self.part_size)
            if self.strategy is Strategy.RO_ATTACH:
                self._attach_part(rm, part, writeable=False)
        self._writeable.clear()
        self.dirty.clear()

    def swap(self) -> set[int]:
        """Banked re-arm in O(1): swap in the all-read-only bank; return the dirty parts."""
        assert self.banks is not None
        self.recycle(None)
        dirty, self.dirty = self.dirty, set()
        self._stale, self._writeable = self._writeable, set()
        self.managed.detach(0)
        self._active ^= 1
        self.managed.attach(self.banks[self._active].dataspace(), size=0, offset=0, at=0,
                            executable=True, writeable=True)
        return dirty

    @property
    def stale_parts(self) -> int:
        """Parts of the inactive bank still waiting to be reset to read-only."""
        return len(self._stale)

    def recycle(self, budget: int | None) -> int:
        """Reset up to `budget` parts of the inactive bank to read-only; the work done."""
        if self.banks is None or self.ram is None:
            return 0
        inactive = self.banks[self._active ^ 1]
        done = 0
        while self._stale and (budget is None or done < budget):
            part = self._stale.pop()
            inactive.detach(part * self.part_size)
            self._attach_part(inactive, part, writeable=False)
            done += 1
        return done

    def release(self) -> None:
        """The RAM was freed: its parts leave the maps (reserved regions go too)."""
        for rm in self.maps():
            for region in list(rm.regions()):
                if self.banks is None or rm is not self.managed:
                    rm.detach(region.start)
        self._writeable.clear()
        self._stale.clear()
        self.dirty.clear()
        self.ram = None
