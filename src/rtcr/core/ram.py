"""Physical RAM: one host buffer cut into page frames.

All guest-visible memory lives in a single anonymous ``mmap``; a dataspace is
a list of frame numbers into it. The machine maps this one buffer into every
emulated CPU, so a translation is nothing but "frame N at offset N*4096" and
no memory is ever copied to change who sees it.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Sequence

from rtcr.core.types import PAGE_SHIFT, PAGE_SIZE, page_aligned
from rtcr.errors import InvalidArgument, OutOfRam

_ZERO_PAGE = bytes(PAGE_SIZE)


class PhysicalRam:
    """The physical memory of one core and its page-frame allocator.

    Frames handed out are always zero (they are zeroed when released), so no
    data leaks from a freed dataspace into the next one. Fresh allocations
    come out in ascending order, which keeps new dataspaces physically
    contiguous as long as memory is not fragmented; nothing depends on that,
    it only makes copies cheaper.

    Whoever writes the buffer from the host (not through a CPU) reports it
    with `written`; the machine listens (`write_listeners`), because a CPU
    may hold code translated from those frames (x86: a write to a page
    invalidates the code translated from it).
    """

    __slots__ = ("_free", "buffer", "size", "write_listeners")

    def __init__(self, size: int) -> None:
        if size <= 0 or not page_aligned(size):
            raise InvalidArgument(f"RAM size {size:#x} is not a positive multiple of a page")
        try:
            # Private anonymous memory, not shared (shmem, mmap's default): its first
            # touch costs less, and a page read before it is written is the kernel's
            # zero page, allocated by nobody (a restore skips the zero pages so).
            self.buffer = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        except (OSError, OverflowError) as exc:
            raise OutOfRam(f"cannot reserve {size:#x} bytes of physical RAM: {exc}") from exc
        self.size = size
        # A stack: the lowest free frame is at the end and popped first.
        self._free: list[int] = list(range(size // PAGE_SIZE - 1, -1, -1))
        self.write_listeners: list[Callable[[int, int], None]] = []

    def written(self, phys: int, size: int) -> None:
        """The host wrote ``[phys, phys + size)`` of the buffer."""
        for listener in self.write_listeners:
            listener(phys, size)

    @property
    def frame_count(self) -> int:
        """Number of page frames in total."""
        return self.size >> PAGE_SHIFT

    @property
    def free_frames(self) -> int:
        """Number of page frames not owned by any dataspace."""
        return len(self._free)

    def alloc(self, count: int) -> list[int]:
        """Take ``count`` zeroed frames; ``OutOfRam`` (and nothing taken) if too few."""
        if count <= 0:
            raise InvalidArgument(f"cannot allocate {count} frames")
        if count > len(self._free):
            raise OutOfRam(f"physical RAM exhausted: {count} frames wanted, {len(self._free)} free")
        frames = self._free[-count:]
        del self._free[-count:]
        frames.reverse()
        return frames

    def release(self, frames: Sequence[int]) -> None:
        """Zero ``frames`` and give them back to the allocator."""
        buf = self.buffer
        for frame in frames:
            off = frame << PAGE_SHIFT
            buf[off : off + PAGE_SIZE] = _ZERO_PAGE
        if self.write_listeners:
            for first, count in _runs(list(frames)):
                self.written(first << PAGE_SHIFT, count << PAGE_SHIFT)
        self._free.extend(reversed(frames))


def _runs(frames: list[int]) -> list[tuple[int, int]]:
    """``frames`` as (first frame, count) runs of consecutive frames, in order."""
    if frames and frames == list(range(frames[0], frames[0] + len(frames))):
        return [(frames[0], len(frames))]  # the usual case: compared in C
    runs: list[tuple[int, int]] = []
    for frame in frames:
        if runs and runs[-1][0] + runs[-1][1] == frame:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((frame, 1))
    return runs
