"""Region-map faults and the things that wait for them to be resolved."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


class FaultType(enum.IntEnum):
    """Kind of a region-map fault; values are the guest ABI's ``RTCR_FAULT_*``."""

    NONE = 0
    READ = 1
    WRITE = 2
    EXEC = 3


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault as the leaf region map reports it: kind and address in its coordinates."""

    type: FaultType
    addr: int


NO_FAULT = Fault(FaultType.NONE, 0)


class Faulter(Protocol):
    """Something blocked on a region-map fault (a thread, or a host-side access).

    ``wake`` is called at most once per enqueue, when an ``attach`` covers
    the fault address; the faulter then retries its access and may fault
    again (the attach need not grant enough rights).
    """

    def wake(self) -> None: ...


class FaultCounts:
    """How many faults of each type were reflected, core-wide (for statistics)."""

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts = dict.fromkeys(FaultType, 0)

    def count(self, fault: Fault) -> None:
        self._counts[fault.type] += 1

    def get(self, kind: FaultType, default: int = 0) -> int:
        return self._counts.get(kind, default)
