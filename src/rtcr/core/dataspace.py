"""Dataspaces: RAM and ROM (the managed one, a region map used as memory, is in ``region_map``).

Like Genode's ``Dataspace_component``, a dataspace knows every region it is
attached to (``regions``), so that freeing, sealing or destroying it can
flush each mapping derived from it.

This module is below the region maps and the PDs and imports neither: what
it knows of them is two narrow types it defines and they implement, as
Genode's dataspace knows its regions' maps only as ``Region_map_detach``
and its owner only as ``Dataspace_owner``. An ``Attachment`` (a region, as
the dataspace sees it) flushes through its map's ``FlushingMap`` side; a
``DataspaceOwner`` is compared by identity.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import ClassVar, Protocol

from rtcr.core.ram import PhysicalRam
from rtcr.core.types import PAGE_MASK, PAGE_SHIFT, PAGE_SIZE
from rtcr.errors import Denied, InvalidArgument, InvalidDataspace


class DataspaceOwner:
    """Who may free and seal a RAM dataspace (Genode's ``Dataspace_owner``): a PD.

    It has no members: a dataspace only compares its owner by identity.
    """

    __slots__ = ()


class FlushingMap(Protocol):
    """What a dataspace needs of a map it is attached in: flushing a range of it.

    The part of Genode's ``Region_map_detach`` a dataspace calls, when it is
    freed or sealed and every mapping derived from it must go.
    """

    def unmap_region(self, start: int, size: int) -> None: ...


class Attachment(Protocol):
    """A region as its dataspace sees it: where it is, in which map, with which rights."""

    @property
    def start(self) -> int: ...

    @property
    def size(self) -> int: ...

    @property
    def offset(self) -> int: ...

    @property
    def writeable(self) -> bool: ...

    @property
    def region_map(self) -> FlushingMap: ...


class Dataspace:
    """Base of all dataspaces.

    ``frames`` (None once freed, and for managed dataspaces), ``writeable``
    (the dataspace's own writability: False for ROM and for RAM sealed with
    ``revoke``) and ``sealed`` (True once a RAM dataspace was sealed: later
    attaches are read-only) are plain attributes because the pager reads
    them on every translation and every tracking fault; only core changes
    them. ``managed`` is True for a region map's dataspace, which has no
    frames of its own.
    """

    __slots__ = ("_ram", "_regions", "_size", "badge", "frames", "sealed", "writeable")

    managed: ClassVar[bool] = False

    def __init__(
        self,
        badge: int,
        size: int,
        ram: PhysicalRam,
        frames: Sequence[int] | None,
        writeable: bool,
    ) -> None:
        self.badge = badge
        self._size = size
        self._ram = ram
        # Frame numbers as one u64 array: the pager indexes it on every fill,
        # and an array is one cache line where a list is a pointer and an int.
        self.frames: array[int] | None = None if frames is None else array("Q", frames)
        self.writeable = writeable
        self.sealed = False
        # Insertion-ordered set: the runtime attaches one RAM dataspace in
        # thousands of parts, and a detach must not scan them all.
        self._regions: dict[Attachment, None] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} badge={self.badge} size={self._size:#x}>"

    @property
    def size(self) -> int:
        """Size in bytes, a multiple of the page size."""
        return self._size

    @property
    def ram(self) -> PhysicalRam:
        """The physical RAM the dataspace's frames (or its region map's) live in."""
        return self._ram

    @property
    def valid(self) -> bool:
        """False once the dataspace was freed (RAM) or its region map destroyed (managed)."""
        return self.frames is not None

    @property
    def owner(self) -> DataspaceOwner | None:
        """The PD whose quota pays for the dataspace (None for ROM and managed)."""
        return None

    @property
    def regions(self) -> list[Attachment]:
        """Every region this dataspace is attached to (a copy)."""
        return list(self._regions)

    def attached_to(self, region: Attachment) -> None:
        """Remember a new region of this dataspace (called by ``RegionMap.attach``)."""
        self._regions[region] = None

    def detached_from(self, region: Attachment) -> None:
        """Forget a region of this dataspace (called by ``RegionMap.detach``)."""
        del self._regions[region]

    def frame(self, page_index: int) -> int:
        """Physical address (offset into ``core.ram.buffer``) of page ``page_index``."""
        frames = self._frames_or_raise()
        if not 0 <= page_index < len(frames):
            raise InvalidArgument(f"page {page_index} outside {self!r}")
        return frames[page_index] << PAGE_SHIFT

    def _frames_or_raise(self) -> array[int]:
        frames = self.frames
        if frames is None:
            if self.managed and self.valid:
                raise InvalidArgument(f"{self!r} is managed: it has no frames of its own")
            raise InvalidDataspace(f"{self!r} is no longer valid")
        return frames

    def _check_span(self, offset: int, n: int) -> array[int]:
        frames = self._frames_or_raise()
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
        """Copy ``data`` into the dataspace at ``offset``; ``Denied`` if it is read-only.

        This is the one host-side write path into a dataspace's frames.
        """
        view = memoryview(data).cast("B")
        frames = self._check_span(offset, len(view))
        if not self.writeable:
            raise Denied(f"{self!r} is read-only")
        buf = self._ram.buffer
        pos = 0
        end = offset + len(view)
        while offset < end:
            in_page = offset & PAGE_MASK
            chunk = min(end - offset, PAGE_SIZE - in_page)
            phys = (frames[offset >> PAGE_SHIFT] << PAGE_SHIFT) + in_page
            buf[phys : phys + chunk] = view[pos : pos + chunk]
            self._ram.written(phys, chunk)
            offset += chunk
            pos += chunk


class RamDataspace(Dataspace):
    """Anonymous memory paid for by its owner PD; may be sealed (see ``ProtectionDomain``)."""

    __slots__ = ("_owner",)

    def __init__(
        self, badge: int, size: int, ram: PhysicalRam, frames: Sequence[int],
        owner: DataspaceOwner
    ) -> None:
        super().__init__(badge, size, ram, frames, True)
        self._owner = owner

    @property
    def owner(self) -> DataspaceOwner | None:
        return self._owner

    def seal(self, *, revoke: bool) -> None:
        """Make later attaches read-only; with ``revoke`` the dataspace itself too (for good)."""
        self.sealed = True
        if revoke:
            self.writeable = False

    def invalidate(self) -> array[int]:
        """Mark freed and hand back the frames; regions stay (reserved) until detached."""
        frames = self._frames_or_raise()
        self.frames = None
        self.writeable = False
        return frames


class RomDataspace(Dataspace):
    """Read-only content (ELF segments, config): not owned, never writable."""

    __slots__ = ("name",)

    def __init__(
        self, badge: int, size: int, ram: PhysicalRam, frames: Sequence[int], name: str
    ) -> None:
        super().__init__(badge, size, ram, frames, False)
        self.name = name

    def __repr__(self) -> str:
        return f"<RomDataspace {self.name!r} badge={self.badge} size={self._size:#x}>"

