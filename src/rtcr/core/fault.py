"""Region-map faults as values: what failed, why, and what a handler answered.

A failed translation has a *reason*, as Genode's ``With_mapping_result``
has one: no region at the address (or a reserved one), a write or execute
violation at the leaf, or a nesting deeper than the pager walks. The fault
is reflected to one region map; what happens there depends on the kind of
fault handler that map has:

- none: the fault is not reflected anywhere else (as in Genode, where a
  map without a handler makes the pager stop the thread and log it);
- a ``SignalContext``: the faulter is queued on a ``FaultTicket`` and the
  context is submitted; an ``attach`` covering the address resolves the
  ticket and tells the faulter;
- a ``SynchronousHandler``: core asks it right away, inside the fill, and
  it answers with a ``Verdict``. (Tickets and handlers live with the
  region maps they belong to, in ``region_map``.) This is how an interposing parent (the
  checkpoint runtime) serves faults of its own dataspaces without a round
  trip through a guest thread.
"""

from __future__ import annotations

import enum
from typing import NamedTuple


class FaultType(enum.IntEnum):
    """Kind of a region-map fault; values are the guest ABI's ``RTCR_FAULT_*``."""

    NONE = 0
    READ = 1
    WRITE = 2
    EXEC = 3


class Fault(NamedTuple):
    """A fault as the region map it is reflected to reports it: kind and address there.

    A named tuple rather than a frozen dataclass: one is made on every
    tracking fault, and building a tuple costs a third of a dataclass's
    ``__init__``.
    """

    type: FaultType
    addr: int


NO_FAULT = Fault(FaultType.NONE, 0)


class WalkFailure(enum.Enum):
    """Why a translation failed (Genode's ``With_mapping_result`` without its successes)."""

    NO_REGION = "no region"
    WRITE_VIOLATION = "write violation"
    EXEC_VIOLATION = "exec violation"
    RECURSION_LIMIT = "recursion limit"


class Verdict(enum.Enum):
    """A synchronous handler's answer to a fault."""

    RESOLVED = "resolved"
    """The handler changed the maps; the access is retried at once."""
    FORWARD = "forward"
    """Not the handler's to resolve: reflect it to the map one level up the walk,
    at the address there, as if this map were not on the path."""
    DECLINED = "declined"
    """Nobody may resolve it: the fault stays unresolved, reflected nowhere."""


class FaultCounts:
    """How many faults of each type a handler heard of, core-wide (for statistics)."""

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        # Indexed by the type's value: counting runs on every tracking fault,
        # and an enum as a dict key hashes in Python.
        self._counts = [0] * len(FaultType)

    def count(self, kind: FaultType) -> None:
        self._counts[kind] += 1

    def get(self, kind: FaultType, default: int = 0) -> int:
        return self._counts[kind] if kind in FaultType else default
