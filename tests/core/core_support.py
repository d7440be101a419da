"""Helpers for the core tests: a synchronous fault handler made from a function."""

from __future__ import annotations

from collections.abc import Callable

from rtcr.core import Fault, RegionMap, Rights, SynchronousHandler, Verdict, WalkFailure

Action = Callable[[RegionMap, Fault], object]


class Recording(SynchronousHandler):
    """Runs `action(region_map, fault)` and answers `verdict`, recording every call."""

    def __init__(self, verdict: Verdict = Verdict.RESOLVED, action: Action | None = None) -> None:
        self.verdict = verdict
        self.action = action
        self.calls: list[tuple[RegionMap, Fault, WalkFailure, Rights]] = []

    def handle_fault(self, region_map: RegionMap, fault: Fault, reason: WalkFailure,
                     rights: Rights) -> Verdict:
        self.calls.append((region_map, fault, reason, rights))
        if self.action is not None:
            self.action(region_map, fault)
        return self.verdict

    @property
    def faults(self) -> list[Fault]:
        return [fault for _, fault, _, _ in self.calls]
