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

from rtcr.core import PAGE_SIZE, Fault, FaultType, RamDataspace, RegionMap


class Strategy(enum.Enum):
    RO_ATTACH = "ro-attach"
    DETACH = "detach"
    FULL = "full"


class TrackedRam:
    """One RAM dataspace of the target, behind the managed map the target sees."""

    def __init__(self, ram: RamDataspace, managed: RegionMap, strategy: Strategy,
                 granularity: int) -> None:
        if granularity < 1:
            raise ValueError("granularity must be at least one page")
        self.ram: RamDataspace | None = ram
        self.managed = managed
        self.strategy = strategy
        self.pages = ram.size // PAGE_SIZE
        self.part_pages = granularity
        self.part_size = granularity * PAGE_SIZE
        self.parts = -(-self.pages // granularity)
        self.dirty: set[int] = set()
        self.faults = 0
        self._writeable: set[int] = set()  # parts currently attached writable
        self._arm_all()

    @property
    def freed(self) -> bool:
        return self.ram is None

    def _part_span(self, part: int) -> tuple[int, int]:
        offset = part * self.part_size
        return offset, min(self.part_size, self.pages * PAGE_SIZE - offset)

    def _attach_part(self, part: int, writeable: bool) -> None:
        assert self.ram is not None
        offset, size = self._part_span(part)
        self.managed.attach(self.ram, size=size, offset=offset, at=offset, executable=True,
                            writeable=writeable)
        if writeable:
            self._writeable.add(part)
        else:
            self._writeable.discard(part)

    def _arm_all(self) -> None:
        if self.strategy is Strategy.FULL:
            assert self.ram is not None
            self.managed.attach(self.ram, size=0, offset=0, at=0, executable=True,
                                writeable=True)
        elif self.strategy is Strategy.RO_ATTACH:
            for part in range(self.parts):
                self._attach_part(part, writeable=False)
        # DETACH: nothing attached; every first access faults.

    def handle(self, fault: Fault) -> bool:
        """Resolve a fault in the managed map; False if it is not ours to resolve."""
        if self.ram is None or self.strategy is Strategy.FULL:
            return False
        part = fault.addr // self.part_size
        if not 0 <= part < self.parts or part in self._writeable:
            return False  # e.g. a write to sealed RAM: a real error, not tracking
        if self.strategy is Strategy.RO_ATTACH:
            if fault.type is not FaultType.WRITE:
                return False
            self.managed.detach(part * self.part_size)
        self.faults += 1
        self.dirty.add(part)
        self._attach_part(part, writeable=True)
        return True

    def dirty_pages(self) -> list[int]:
        """Page indices to copy at the next checkpoint (all of them under `full`)."""
        if self.strategy is Strategy.FULL:
            return list(range(self.pages))
        pages: list[int] = []
        for part in sorted(self.dirty):
            first = part * self.part_pages
            pages.extend(range(first, min(first + self.part_pages, self.pages)))
        return pages

    def rearm(self) -> None:
        """After a checkpoint: track the dirty parts again."""
        for part in sorted(self.dirty):
            if part in self._writeable:
                self.managed.detach(part * self.part_size)
                self._writeable.discard(part)
                if self.strategy is Strategy.RO_ATTACH:
                    self._attach_part(part, writeable=False)
        self.dirty.clear()

    def release(self) -> None:
        """The RAM was freed: its parts leave the managed map (reserved regions go too)."""
        for region in list(self.managed.regions()):
            self.managed.detach(region.start)
        self._writeable.clear()
        self.dirty.clear()
        self.ram = None
