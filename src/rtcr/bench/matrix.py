"""The benchmark matrix: what `rtcr bench` runs (options, configurations, task count).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .migration import FRACTIONS
from .migration import MODES as MIGRATION_MODES
from .modes import MODES
from .workloads import WORKLOADS


@dataclass
class BenchOptions:
    out: Path
    quick: bool = False
    workloads: list[str] | None = None
    strategies: list[str] | None = None
    granularities: list[int] | None = None
    #: Checkpoint intervals as multiples of each workload's default interval.
    interval_scales: list[int] | None = None
    repeat: int | None = None
    micro: bool = True
    memory: bool = True
    #: RAM quota of the resident-memory probe (default: 1 GiB, quick: 64 MiB).
    memory_quota: int | None = None
    profile: bool = True
    #: Migration and lazy-restore figures (`migration`): target sizes in MiB (default 64;
    #: quick: 16), each at 1 %, 10 % and 50 % dirty per interval (quick: 10 %).
    migration: bool = True
    migration_sizes: list[int] | None = None
    plots: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def resolved(self) -> dict[str, Any]:
        quick = self.quick
        workloads = self.workloads or list(WORKLOADS)
        strategies = self.strategies or [m for m in MODES]
        for name in workloads:
            if name not in WORKLOADS:
                raise ValueError(f"unknown workload {name!r} (known: {', '.join(WORKLOADS)})")
        for name in strategies:
            if name not in MODES:
                raise ValueError(f"unknown strategy {name!r} (known: {', '.join(MODES)})")
        return {
            "quick": quick,
            "workloads": workloads,
            "strategies": strategies,
            "granularities": self.granularities or ([1] if quick else [1, 4]),
            "interval_scales": self.interval_scales or ([1] if quick else [1, 4]),
            "repeat": self.repeat or (1 if quick else 3),
            "micro": self.micro,
            "memory": self.memory,
            "memory_quota": self.memory_quota or ((64 << 20) if quick else (1 << 30)),
            "profile": self.profile,
            "migration": self.migration,
            "migration_sizes": self.migration_sizes or ([16] if quick else [64]),
            "migration_fractions": [100] if quick else list(FRACTIONS),
        }


@dataclass(frozen=True)
class Config:
    workload: str
    mode: str
    granularity: int
    interval: int
    scale: int

    @property
    def key(self) -> str:
        return f"{self.workload}/{self.mode}/g{self.granularity}/i{self.interval}"


def plan(settings: dict[str, Any]) -> list[Config]:
    configs = []
    for name in settings["workloads"]:
        workload = WORKLOADS[name]
        base = workload.quick_interval if settings["quick"] else workload.interval
        for mode_name in settings["strategies"]:
            mode = MODES[mode_name]
            grans = settings["granularities"] if mode.granular else [1]
            for granularity in grans:
                for scale in settings["interval_scales"]:
                    configs.append(Config(name, mode_name, granularity, base * scale, scale))
    return configs


def count_tasks(settings: dict[str, Any]) -> int:
    n: int = len(settings["workloads"]) * 2  # compile + baselines
    n += len(plan(settings)) * settings["repeat"]
    if settings["micro"]:
        n += 3  # write-fault cost, bare floor, bare MIPS
    if settings["memory"]:
        n += 1
    if settings["profile"]:
        n += 2
    if settings["migration"]:  # each migration, and a restore pair per size
        sizes = len(settings["migration_sizes"])
        n += sizes * (len(settings["migration_fractions"]) * len(MIGRATION_MODES) + 1)
    return n
