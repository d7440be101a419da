"""Core's value types, as Genode's ``types.h``: page arithmetic, ranges, access rights.

This module is the one home of the page size; everything else (the
machine, the store, the SDK's tests) takes it from here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
PAGE_MASK = PAGE_SIZE - 1


def round_page(size: int) -> int:
    """Round ``size`` up to a whole number of pages."""
    return (size + PAGE_MASK) & ~PAGE_MASK


def trunc_page(addr: int) -> int:
    """The start of the page holding ``addr``."""
    return addr & ~PAGE_MASK


def page_aligned(value: int) -> bool:
    """True when ``value`` is a multiple of the page size."""
    return value & PAGE_MASK == 0


class Range(NamedTuple):
    """A half-open range ``[start, start + size)`` in some region map's coordinates.

    A named tuple: every attach returns one (a runtime arming a 1 GiB object
    in parts attaches a quarter million), and a tuple is built in a third of
    the time of a frozen dataclass.
    """

    start: int
    size: int

    @property
    def end(self) -> int:
        """First address past the range."""
        return self.start + self.size

    def contains(self, addr: int) -> bool:
        """True when ``addr`` lies inside the range."""
        return self.start <= addr < self.start + self.size


class Access(enum.Enum):
    """The kind of memory access a translation is asked for.

    Values equal the matching ``FaultType`` so that a refused access turns
    into a fault of the same kind without a lookup table.
    """

    READ = 1
    WRITE = 2
    EXEC = 3


RWX_READ = 1
RWX_WRITE = 2
RWX_EXEC = 4
"""Rights as bits (Genode's ``Rwx``), as a region holds them and a translation (``pte``)
carries them; reading attached memory is always allowed, so every region has ``RWX_READ``."""


@dataclass(frozen=True, slots=True)
class Rights:
    """Write and execute permission; reading attached memory is always allowed.

    The pager ANDs the rights of every region on a nested path (Genode's
    ``Rwx``), so any level can take a right away and none can add one.
    """

    writeable: bool
    executable: bool

    def __and__(self, other: Rights) -> Rights:
        return Rights(self.writeable and other.writeable, self.executable and other.executable)

    def permits(self, access: Access) -> bool:
        """True when an access of this kind is allowed under these rights."""
        if access is Access.WRITE:
            return self.writeable
        if access is Access.EXEC:
            return self.executable
        return True


FULL_RIGHTS = Rights(writeable=True, executable=True)
