"""Physical RAM: one host buffer cut into page frames.

All guest-visible memory lives in a single anonymous ``mmap``; a dataspace is
a list of frame numbers into it. The machine maps this one buffer into every
emulated CPU, so a translation is nothing but "frame N at offset N*4096" and
no memory is ever copied to change who sees it.
"""

from __future__ import annotations

import mmap
from collections.abc import Sequence

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
    """

    __slots__ = ("_free", "buffer", "size")

    def __init__(self, size: int) -> None:
        if size <= 0 or not page_aligned(size):
            raise InvalidArgument(f"RAM size {size:#x} is not a positive multiple of a page")
        try:
            self.buffer = mmap.mmap(-1, size)
        except (OSError, OverflowError) as exc:
            raise OutOfRam(f"cannot reserve {size:#x} bytes of physical RAM: {exc}") from exc
        self.size = size
        # A stack: the lowest free frame is at the end and popped first.
        self._free: list[int] = list(range(size // PAGE_SIZE - 1, -1, -1))

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
        self._free.extend(reversed(frames))
