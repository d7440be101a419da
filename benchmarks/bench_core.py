"""Micro-benchmarks of rtcr.core: pager resolution and attach/detach cost.

Run: ``.venv/bin/python benchmarks/bench_core.py``. The pager runs on every
TLB fill of the emulated CPU, so its cost per lookup bounds how fast a
component can touch fresh pages; it must stay flat in the number of regions
(one bisect per nesting level). Target: < 5 µs per depth-1 resolution.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable

from rtcr.core import PAGE_SIZE, Access, Core, Mapping, RegionMap
from rtcr.core import resolve as pager_resolve

REGION_COUNTS = (100, 1_000, 10_000)
LOOKUPS = 200_000
REPEATS = 5


def best_of(fn: Callable[[], None], repeats: int = REPEATS) -> float:
    """Shortest wall time of ``repeats`` runs of ``fn`` (seconds)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def populate(core: Core, rm: RegionMap, count: int, base: int = 0) -> list[int]:
    """Attach ``count`` one-page RAM regions, one every other page; return their addresses."""
    pd = core.create_pd(f"filler{rm.badge}", ram_quota=count * PAGE_SIZE, cap_quota=count)
    addrs = []
    for i in range(count):
        at = base + 2 * i * PAGE_SIZE
        rm.attach(pd.alloc_ram(PAGE_SIZE), at=at)
        addrs.append(at)
    return addrs


def build(count: int, depth: int) -> tuple[Core, RegionMap, list[int]]:
    """A chain of ``depth`` maps, each holding ``count`` regions; addresses reach the leaf."""
    core = Core(ram_size=(depth * count + 64) * PAGE_SIZE)
    maps = [core.create_region_map(1 << 40) for _ in range(depth)]
    leaf_addrs = populate(core, maps[-1], count)
    span = 2 * count * PAGE_SIZE
    for parent, child in itertools.pairwise(maps):
        populate(core, parent, count - 1, base=span)  # fillers above the window
        parent.attach(child.dataspace(), size=span, at=0)
    return core, maps[0], leaf_addrs


def bench_resolve(count: int, depth: int, ordered: bool = False) -> float:
    """Microseconds per ``pager.resolve`` of a random attached address.

    ``ordered`` sorts the addresses (a program sweeping its memory): same
    work, but friendlier to the host's caches than random probes.
    """
    _core, root, addrs = build(count, depth)
    rng = random.Random(1)
    sample = [rng.choice(addrs) + rng.randrange(PAGE_SIZE) for _ in range(LOOKUPS)]
    if ordered:
        sample.sort()
    resolve = pager_resolve
    write = Access.WRITE
    assert all(isinstance(resolve(root, a, write), Mapping) for a in sample[:1000])

    def run() -> None:
        for a in sample:
            resolve(root, a, write)

    return best_of(run) / LOOKUPS * 1e6


def bench_attach_detach(count: int) -> tuple[float, float]:
    """Microseconds per attach+detach pair, at a fixed address and with ``at=None``."""
    core, rm, _ = build(count, 1)
    pd = core.create_pd("bench", ram_quota=1 << 20, cap_quota=10)
    ds = pd.alloc_ram(2 * PAGE_SIZE)
    hole = 2 * count * PAGE_SIZE + (1 << 20)  # above the populated range
    cycles = 20_000

    def fixed() -> None:
        for _ in range(cycles):
            rm.attach(ds, at=hole)
            rm.detach(hole)

    anywhere_cycles = 200

    def anywhere() -> None:
        for _ in range(anywhere_cycles):
            rng = rm.attach(ds)
            rm.detach(rng.start)

    return (best_of(fixed, 3) / cycles * 1e6, best_of(anywhere, 3) / anywhere_cycles * 1e6)


def main() -> None:
    print(f"pager resolve (WRITE, random attached address), {LOOKUPS} lookups, best of {REPEATS}")
    print(f"{'':>8} {'random':>23} {'sorted':>23}")
    heads = " ".join(f"{h:>11}" for h in ("depth 1 µs", "depth 3 µs") * 2)
    print(f"{'regions':>8} {heads}")
    for count in REGION_COUNTS:
        cols = [bench_resolve(count, d, o) for o in (False, True) for d in (1, 3)]
        print(f"{count:>8} " + " ".join(f"{c:>11.2f}" for c in cols))
    print()
    print("attach + detach of a 2-page RAM dataspace")
    print(f"{'regions':>8} {'at=fixed µs':>12} {'at=None µs':>12}")
    for count in REGION_COUNTS:
        fixed, anywhere = bench_attach_detach(count)
        print(f"{count:>8} {fixed:>12.2f} {anywhere:>12.2f}")


if __name__ == "__main__":
    main()
