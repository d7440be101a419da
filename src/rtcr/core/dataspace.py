"""Dataspaces: RAM, ROM and managed (a region map used as memory).

Like Genode's ``Dataspace_component``, a dataspace knows every region it is
attached to (``regions``), so that freeing or sealing it can flush each
mapping derived from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rtcr.core.ram import PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, PhysicalRam
from rtcr.errors import Denied, InvalidArgument, InvalidDataspace

if TYPE_CHECKING:
    from rtcr.core.pd import ProtectionDomain
    from rtcr.core.region_map import Region, RegionMap


class Dataspace:
    """Base of all dataspaces.

    The pager reads the private slots directly (``_frames``, ``_managed``,
    ``_writeable``): one attribute load each is what keeps a translation
    within a few microseconds.
    """

    __slots__ = ("_frames", "_managed", "_ram", "_regions", "_size", "_writeable", "badge")

    def __init__(
        self,
        badge: int,
        size: int,
        ram: PhysicalRam,
        frames: list[int] | None,
        managed: RegionMap | None,
        writeable: bool,
    ) -> None:
        self.badge = badge
        self._size = size
        self._ram = ram
        self._frames = frames
        self._managed = managed
        self._writeable = writeable
        # Insertion-ordered set: the runtime attaches one RAM dataspace in
        # thousands of parts, and a detach must not scan them all.
        self._regions: dict[Region, None] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} badge={self.badge} size={self._size:#x}>"

    @property
    def size(self) -> int:
        """Size in bytes, a multiple of the page size."""
        return self._size

    @property
    def writeable(self) -> bool:
        """Whether the dataspace itself permits writes (False for ROM and sealed RAM)."""
        return self._writeable

    @property
    def valid(self) -> bool:
        """False once the dataspace was freed."""
        return self._frames is not None or self._managed is not None

    @property
    def owner(self) -> ProtectionDomain | None:
        """The PD whose quota pays for the dataspace (None for ROM and managed)."""
        return None

    @property
    def sealed(self) -> bool:
        """True once a RAM dataspace was sealed read-only for good."""
        return False

    @property
    def regions(self) -> list[Region]:
        """Every region this dataspace is attached to (a copy)."""
        return list(self._regions)

    def frame(self, page_index: int) -> int:
        """Physical address (offset into ``core.ram.buffer``) of page ``page_index``."""
        frames = self._frames
        if frames is None:
            if self._managed is not None:
                raise InvalidArgument("a managed dataspace has no frames of its own")
            raise InvalidDataspace(f"{self!r} was freed")
        if not 0 <= page_index < len(frames):
            raise InvalidArgument(f"page {page_index} outside {self!r}")
        return frames[page_index] << PAGE_SHIFT

    def _check_span(self, offset: int, n: int) -> list[int]:
        frames = self._frames
        if frames is None:
            raise InvalidDataspace(f"{self!r} was freed")
        if offset < 0 or n < 0 or offset + n > self._size:
            raise InvalidArgument(f"[{offset:#x}, +{n:#x}) outside {self!r}")
        return frames

    def read(self, offset: int, n: int) -> bytes:
        """Copy ``n`` bytes at ``offset`` out of the dataspace (host-side, no rights)."""
        frames = self._check_span(offset, n)
        buf = self._ram.buffer
        out = bytearray()
        end = offset + n
        while offset < end:
            in_page = offset & PAGE_MASK
            chunk = min(end - offset, PAGE_SIZE - in_page)
            phys = (frames[offset >> PAGE_SHIFT] << PAGE_SHIFT) + in_page
            out += buf[phys : phys + chunk]
            offset += chunk
        return bytes(out)

    def write(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        """Copy ``data`` into the dataspace at ``offset``; ``Denied`` if it is read-only."""
        if not self._writeable:
            if self._frames is None:
                raise InvalidDataspace(f"{self!r} was freed")
            raise Denied(f"{self!r} is read-only")
        view = memoryview(data).cast("B")
        frames = self._check_span(offset, len(view))
        buf = self._ram.buffer
        pos = 0
        end = offset + len(view)
        while offset < end:
            in_page = offset & PAGE_MASK
            chunk = min(end - offset, PAGE_SIZE - in_page)
            phys = (frames[offset >> PAGE_SHIFT] << PAGE_SHIFT) + in_page
            buf[phys : phys + chunk] = view[pos : pos + chunk]
            offset += chunk
            pos += chunk


class RamDataspace(Dataspace):
    """Anonymous memory paid for by its owner PD; may be sealed read-only for good."""

    __slots__ = ("_owner", "_sealed")

    def __init__(
        self, badge: int, size: int, ram: PhysicalRam, frames: list[int], owner: ProtectionDomain
    ) -> None:
        super().__init__(badge, size, ram, frames, None, True)
        self._owner = owner
        self._sealed = False

    @property
    def owner(self) -> ProtectionDomain | None:
        return self._owner

    @property
    def sealed(self) -> bool:
        return self._sealed

    def _seal(self) -> None:
        self._sealed = True
        self._writeable = False

    def _invalidate(self) -> list[int]:
        """Mark freed and hand back the frames; regions stay (reserved) until detached."""
        frames = self._frames
        assert frames is not None
        self._frames = None
        self._writeable = False
        return frames


class RomDataspace(Dataspace):
    """Read-only content (ELF segments, config): not owned, never writable."""

    __slots__ = ("name",)

    def __init__(
        self, badge: int, size: int, ram: PhysicalRam, frames: list[int], name: str
    ) -> None:
        super().__init__(badge, size, ram, frames, None, False)
        self.name = name

    def __repr__(self) -> str:
        return f"<RomDataspace {self.name!r} badge={self.badge} size={self._size:#x}>"


class ManagedDataspace(Dataspace):
    """A region map viewed as a dataspace: attaching it nests the map.

    Host access goes through the region map's pager, so rights and faults
    apply exactly as they would for a thread.
    """

    __slots__ = ()

    def __init__(self, badge: int, region_map: RegionMap, ram: PhysicalRam) -> None:
        super().__init__(badge, region_map.size, ram, None, region_map, True)

    @property
    def region_map(self) -> RegionMap:
        """The region map behind this dataspace."""
        rm = self._managed
        assert rm is not None
        return rm

    def read(self, offset: int, n: int) -> bytes:
        if offset < 0 or n < 0 or offset + n > self._size:
            raise InvalidArgument(f"[{offset:#x}, +{n:#x}) outside {self!r}")
        return self.region_map.read(offset, n)

    def write(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        n = memoryview(data).nbytes
        if offset < 0 or offset + n > self._size:
            raise InvalidArgument(f"[{offset:#x}, +{n:#x}) outside {self!r}")
        self.region_map.write(offset, data)
