"""Staging memory: where the pages of checkpoints in flight wait for the store.

A checkpoint copies its dirty pages here (in the pause, or copy-on-write
while the target runs) and the store encodes them from here after the
pause. The area is bounded by a *budget* (`--staging-budget`, default
`DEFAULT_BUDGET`): a checkpoint whose pages do not fit waits for earlier
ones to commit, or is skipped (concurrent policy ``skip``), or is taken
straight from RAM while the target stays stopped.
"""

from __future__ import annotations

import mmap
import threading

from rtcr.store.native import address

DEFAULT_BUDGET = 256 << 20
_GRAIN = 1 << 20  # buffers come in whole MiB, so they can be reused for similar sizes


class Lease:
    """A stretch of the staging arena held by one checkpoint until it commits (or fails)."""

    def __init__(self, area: StagingArea, offset: int, size: int, address: int) -> None:
        self._area = area
        self.offset = offset
        self.size = size
        self.address = address
        self._held = True

    def release(self) -> None:
        """Give the stretch back (idempotent)."""
        if self._held:
            self._held = False
            self._area.give_back(self)


class StagingArea:
    """One anonymous map of ``budget`` bytes, handed out first-fit.

    First fit keeps reusing the low end of the arena, so a steady run
    touches (and pays page faults for) little more than two checkpoints'
    worth of it; untouched parts of the map cost no memory.
    """

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        if budget < 0:
            raise ValueError("the staging budget cannot be negative")
        self.budget = budget
        self._lock = threading.Lock()
        self._arena: mmap.mmap | None = None
        self._base = 0
        self._leases: list[Lease] = []  # by offset

    @property
    def in_use(self) -> int:
        return sum(lease.size for lease in self._leases)

    def _round(self, nbytes: int) -> int:
        return max(_GRAIN, -(-nbytes // _GRAIN) * _GRAIN)

    def _place(self, size: int) -> int | None:
        at = 0
        for lease in self._leases:
            if lease.offset - at >= size:
                return at
            at = lease.offset + lease.size
        return at if self.budget - at >= size else None

    def fits(self, nbytes: int) -> bool:
        """Whether ``nbytes`` could be leased now."""
        with self._lock:
            return self._place(self._round(nbytes)) is not None

    def lease(self, nbytes: int) -> Lease | None:
        """A buffer of at least ``nbytes``; None if the budget does not allow it now."""
        size = self._round(nbytes)
        with self._lock:
            at = self._place(size)
            if at is None:
                return None
            if self._arena is None:
                self._arena = mmap.mmap(-1, max(self.budget, _GRAIN))
                self._base = address(self._arena)
            lease = Lease(self, at, size, self._base + at)
            self._leases.append(lease)
            self._leases.sort(key=lambda item: item.offset)
        return lease

    def give_back(self, lease: Lease) -> None:
        with self._lock:
            self._leases.remove(lease)

    def close(self) -> None:
        with self._lock:
            if self._arena is not None and not self._leases:
                self._arena.close()
                self._arena = None
