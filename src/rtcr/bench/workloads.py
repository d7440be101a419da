"""The bundled workloads: C programs in ``benchmarks/workloads``, sized by -D defines."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from rtcr.toolchain import compile_component

DEFAULT_INTERVAL = 1_000_000
QUICK_INTERVAL = 250_000


def workloads_dir() -> Path:
    """Where the workload sources live (``$RTCR_BENCH_WORKLOADS`` overrides)."""
    env = os.environ.get("RTCR_BENCH_WORKLOADS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "benchmarks" / "workloads"


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    #: -D defines of the full-size run; `quick` replaces them in --quick mode.
    defines: dict[str, str]
    quick: dict[str, str]
    interval: int = DEFAULT_INTERVAL
    quick_interval: int = QUICK_INTERVAL
    ram_quota: int = 32 << 20
    #: Runs on the bare-unicorn runner (single-threaded, no region maps of its own).
    bare: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def source(self) -> Path:
        return workloads_dir() / f"{self.name}.c"

    def sizes(self, quick: bool) -> dict[str, str]:
        return dict(self.quick if quick else self.defines)

    def build(self, cache: Path, defines: dict[str, str]) -> Path:
        """Compile with `defines` into `cache` (reused when source and defines match)."""
        source = self.source.read_bytes()
        flags = [f"-D{k}={v}" for k, v in sorted(defines.items())]
        key = hashlib.blake2b(source + "\0".join(flags).encode(), digest_size=8).hexdigest()
        out = cache / f"{self.name}-{key}.elf"
        if not out.exists():
            tmp = out.with_suffix(f".{os.getpid()}.tmp")
            compile_component([self.source], tmp, extra_flags=flags)
            tmp.replace(out)
        return out


WORKLOADS: dict[str, Workload] = {w.name: w for w in (
    Workload("read_mostly", "large lookup table read every round, few pages written",
             {"TABLE_PAGES": "1024", "ROUNDS": "60"},
             {"TABLE_PAGES": "256", "ROUNDS": "60"}),
    Workload("write_heavy", "merge sort of fresh random data (writes nearly every page)",
             {"N": "(1UL<<17)", "ROUNDS": "1"},
             {"N": "(1UL<<15)", "ROUNDS": "1"}),
    Workload("sparse_random", "random updates of a hash table (scattered writes)",
             {"SLOTS": "(1UL<<17)", "UPDATES": "800000UL"},
             {"SLOTS": "(1UL<<15)", "UPDATES": "200000UL"}),
    Workload("streaming", "copy one buffer into another, pass after pass",
             {"BUF_PAGES": "512", "PASSES": "40"},
             {"BUF_PAGES": "128", "PASSES": "40"}),
    Workload("pointer_chase", "walk a random cycle of linked nodes, rare writes",
             {"NODES": "(1UL<<15)", "STEPS": "3000000UL"},
             {"NODES": "(1UL<<13)", "STEPS": "750000UL"}),
    Workload("prodcons", "producer and consumer threads around a ring buffer",
             {"ITEMS": "600000UL"}, {"ITEMS": "150000UL"}, bare=False),
    Workload("heap_grow", "many RAM allocations (rtcr_ram_alloc + attach), each filled",
             {"CHUNKS": "96", "CHUNK_KB": "64", "WORK": "10000UL"},
             {"CHUNKS": "48", "CHUNK_KB": "32", "WORK": "5000UL"}),
)}

#: Microbenchmark of the write-fault path (not part of the matrix).
TOUCH = Workload("touch_pages", "read then write one byte of each of many fresh pages",
                 {"PAGES": "4096", "ROUNDS": "1"}, {"PAGES": "2048", "ROUNDS": "1"})

__all__ = ["DEFAULT_INTERVAL", "QUICK_INTERVAL", "TOUCH", "WORKLOADS", "Workload",
           "workloads_dir"]
