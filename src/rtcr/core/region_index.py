"""The regions of one region map, by start address (Genode's ``Allocator_avl`` role).

A region map of a checkpointed component holds one region per tracked
part -- a quarter of a million for a 1 GiB object in 4 KiB parts -- and the
pager looks one of them up on every TLB miss there. The index has two
layouts, so that neither lookups nor changes depend on how many regions
the map holds:

- a *grid* while every region starts at a multiple of one stride (the size
  of the first region) and is at most that long, and the map spans at most
  ``GRID_CELLS`` strides: cell ``addr // stride`` holds the region there.
  A lookup is one division and one list index, without touching other
  regions (a bisect over a quarter million starts touches dozens of
  objects spread over the heap: cache misses that grow with the map). This
  is the layout of a map of equal parts at fixed offsets.
- *chunks* otherwise: sorted chunks of at most ``2 * CHUNK`` regions with a
  list of each chunk's first start, so a lookup is two ``bisect`` calls and
  an insert or removal moves at most a few hundred pointers. The first
  region that does not fit the grid turns it into chunks, for good.

The pager reads the layout's lists directly: its walk runs on every TLB
miss, and a method call per nesting level would cost more than the lookup
itself.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar


class Span(Protocol):
    """What the index needs of a region: where it starts and ends, and its size."""

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...

    @property
    def size(self) -> int: ...


Region = TypeVar("Region", bound=Span)

CHUNK = 256
"""Target chunk length; a chunk is split when it reaches twice this."""

GRID_CELLS = 1 << 20
"""Most cells a grid may have (8 MiB of pointers: a 4 GiB map in 4 KiB parts)."""


class RegionIndex(Generic[Region]):
    """Non-overlapping regions by start address: find, insert, remove, iterate in order.

    ``span`` is the size of the address range the regions lie in (the map's).
    ``grid`` is the grid (None once the index is chunked) and ``stride`` its
    cell size (0 while the grid is empty and has none yet).
    """

    __slots__ = ("chunks", "count", "firsts", "grid", "span", "starts", "stride")

    def __init__(self, span: int) -> None:
        self.span = span
        self.grid: list[Region | None] | None = []
        self.stride = 0
        self.chunks: list[list[Region]] = []
        self.starts: list[list[int]] = []  # starts[i][j] == chunks[i][j].start
        self.firsts: list[int] = []  # firsts[i] == starts[i][0]
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Region]:
        if self.grid is not None:
            yield from (region for region in self.grid if region is not None)
            return
        for chunk in self.chunks:
            yield from chunk

    def find(self, addr: int) -> Region | None:
        """The region containing ``addr``, if any."""
        grid = self.grid
        if grid is not None:
            if not self.stride:
                return None
            k = addr // self.stride
            region = grid[k] if 0 <= k < len(grid) else None
            # (its start is k * stride: no need to fetch its own start and end)
            return region if region is not None and addr % self.stride < region.size else None
        i = bisect_right(self.firsts, addr) - 1
        if i < 0:
            return None
        j = bisect_right(self.starts[i], addr) - 1
        region = self.chunks[i][j]
        return region if addr < region.end else None

    def insert(self, region: Region) -> Region | None:
        """Add ``region``, unless it overlaps one the index holds: then return that one."""
        grid = self.grid
        start = region.start
        if grid is not None and self._fits_grid(start, region.end):
            # Aligned and at most a cell long: only the region in its own cell can overlap.
            if not self.stride:
                self.stride = region.end - start
            k = start // self.stride
            if k >= len(grid):  # grow geometrically, within the span
                cells = -(-self.span // self.stride)
                grid.extend([None] * (min(max(k + 1, 2 * len(grid)), cells) - len(grid)))
            elif grid[k] is not None:
                return grid[k]
            grid[k] = region
            self.count += 1
            return None
        other = self._overlapping_neighbour(start, region.end)
        if other is None:
            if grid is not None:
                self._to_chunks()
            self._chunk_insert(region)
        return other

    def _overlapping_neighbour(self, start: int, end: int) -> Region | None:
        for candidate in self._neighbours(start):
            if candidate is not None and candidate.start < end and start < candidate.end:
                return candidate
        return None

    def _neighbours(self, addr: int) -> tuple[Region | None, Region | None]:
        """The last region starting at or below ``addr`` and the first one starting above."""
        if self.grid is not None:
            below = above = None
            for region in self.grid:
                if region is None:
                    continue
                if region.start <= addr:
                    below = region
                else:
                    above = region
                    break
            return below, above
        i = bisect_right(self.firsts, addr) - 1
        if i < 0:
            return None, (self.chunks[0][0] if self.chunks else None)
        starts = self.starts[i]
        j = bisect_right(starts, addr)
        below = self.chunks[i][j - 1]
        if j < len(starts):
            return below, self.chunks[i][j]
        return below, (self.chunks[i + 1][0] if i + 1 < len(self.chunks) else None)

    def _fits_grid(self, start: int, end: int) -> bool:
        stride = self.stride or end - start
        return (start % stride == 0 and end - start <= stride
                and -(-self.span // stride) <= GRID_CELLS)

    def _to_chunks(self) -> None:
        regions = list(self)
        self.grid = None
        self.count = 0
        for region in regions:
            self._chunk_insert(region)

    def _chunk_insert(self, region: Region) -> None:
        start = region.start
        self.count += 1
        if not self.chunks:
            self.chunks.append([region])
            self.starts.append([start])
            self.firsts.append(start)
            return
        i = max(bisect_right(self.firsts, start) - 1, 0)
        starts = self.starts[i]
        j = bisect_right(starts, start)
        starts.insert(j, start)
        self.chunks[i].insert(j, region)
        if j == 0:
            self.firsts[i] = start
        if len(starts) >= 2 * CHUNK:
            self.chunks[i + 1:i + 1] = [self.chunks[i][CHUNK:]]
            self.starts[i + 1:i + 1] = [starts[CHUNK:]]
            self.firsts.insert(i + 1, starts[CHUNK])
            del self.chunks[i][CHUNK:]
            del starts[CHUNK:]

    def remove(self, region: Region) -> None:
        """Drop ``region`` (which must be in the index)."""
        grid = self.grid
        if grid is not None:
            k = region.start // self.stride
            assert grid[k] is region, "removing a region the index does not hold"
            grid[k] = None
            self.count -= 1
            return
        i = bisect_right(self.firsts, region.start) - 1
        starts = self.starts[i]
        j = bisect_right(starts, region.start) - 1
        assert self.chunks[i][j] is region, "removing a region the index does not hold"
        del starts[j]
        del self.chunks[i][j]
        self.count -= 1
        if not starts:
            del self.chunks[i]
            del self.starts[i]
            del self.firsts[i]
        elif j == 0:
            self.firsts[i] = starts[0]
