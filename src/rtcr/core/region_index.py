"""The regions of one region map, sorted by start, in chunks (Genode's ``Allocator_avl`` role).

A region map of a checkpointed component holds one region per tracked
part -- a quarter of a million for a 1 GiB object in 4 KiB parts -- and
write tracking detaches and re-attaches one of them on every tracked
write. One flat sorted list would shift the whole tail on each of those;
here the regions live in chunks of at most ``2 * CHUNK`` entries, so an
insert or removal moves at most a few hundred pointers whatever the map
holds, and a lookup is two ``bisect`` calls.

The pager reads ``firsts``, ``starts`` and ``chunks`` directly: its walk
runs on every TLB miss, and a method call per nesting level would cost
more than the lookup itself.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar


class Span(Protocol):
    """What the index needs of a region: where it starts and ends."""

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


Region = TypeVar("Region", bound=Span)

CHUNK = 256
"""Target chunk length; a chunk is split when it reaches twice this."""


class RegionIndex(Generic[Region]):
    """Non-overlapping regions by start address: find, insert, remove, iterate in order."""

    __slots__ = ("chunks", "count", "firsts", "starts")

    def __init__(self) -> None:
        self.chunks: list[list[Region]] = []
        self.starts: list[list[int]] = []  # starts[i][j] == chunks[i][j].start
        self.firsts: list[int] = []  # firsts[i] == starts[i][0]
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Region]:
        for chunk in self.chunks:
            yield from chunk

    def find(self, addr: int) -> Region | None:
        """The region containing ``addr``, if any."""
        i = bisect_right(self.firsts, addr) - 1
        if i < 0:
            return None
        j = bisect_right(self.starts[i], addr) - 1
        region = self.chunks[i][j]
        return region if addr < region.end else None

    def neighbours(self, addr: int) -> tuple[Region | None, Region | None]:
        """The last region starting at or below ``addr`` and the first one starting above."""
        i = bisect_right(self.firsts, addr) - 1
        if i < 0:
            return None, (self.chunks[0][0] if self.chunks else None)
        starts = self.starts[i]
        j = bisect_right(starts, addr)
        below = self.chunks[i][j - 1]
        if j < len(starts):
            return below, self.chunks[i][j]
        return below, (self.chunks[i + 1][0] if i + 1 < len(self.chunks) else None)

    def insert(self, region: Region) -> None:
        """Add ``region``; the caller has checked that it overlaps nothing."""
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
