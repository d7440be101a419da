"""Every error rtcr raises, so that callers can catch ``RtcrError`` alone.

Each class maps to one guest error code (``rtcr.abi.Errno``) so that the
machine can turn a core error into the code a component sees without a
table of special cases.
"""

from __future__ import annotations

import enum
from typing import Protocol


class _Fault(Protocol):
    """What a ``PageFault`` carries (``rtcr.core.Fault``; named here without importing core)."""

    @property
    def type(self) -> enum.Enum: ...

    @property
    def addr(self) -> int: ...


class RtcrError(Exception):
    """Base class of all rtcr errors."""

    errno: int = 1  # RTCR_EINVAL unless a subclass says otherwise


class InvalidArgument(RtcrError):
    """An argument is out of range, misaligned or otherwise malformed."""

    errno = 1


class InvalidCapability(RtcrError):
    """A capability selector names nothing, or names an object of another kind."""

    errno = 2


class BadPointer(RtcrError):
    """A guest pointer does not point to memory the caller may access."""

    errno = 3


class OutOfRam(RtcrError):
    """The PD's RAM quota (or physical RAM) cannot cover the allocation."""

    errno = 4


class OutOfCaps(RtcrError):
    """The PD's capability quota is exhausted."""

    errno = 5


class RegionConflict(RtcrError):
    """An attach overlaps another region or does not fit the region map / dataspace."""

    errno = 6


class Denied(RtcrError):
    """The caller is not allowed to do this (not the owner, zero-sized RAM, ...)."""

    errno = 7


class InvalidDataspace(RtcrError):
    """The dataspace is invalid or was freed."""

    errno = 8


class NoRegion(RtcrError):
    """No region contains the given address (``detach`` of a never-attached address)."""

    errno = 9


class NestingTooDeep(RtcrError):
    """Attaching would nest region maps deeper than the pager walks, or form a cycle."""

    errno = 10


class NoThread(RtcrError):
    """No such thread to join, or the component's thread limit is reached."""

    errno = 12


class NotYet(RtcrError):
    """What was asked for is not there yet (a service its provider has not announced)."""

    errno = 13


class PageFault(RtcrError):
    """A host-side access through a region map faulted and no handler resolved it."""

    errno = 3

    def __init__(self, fault: _Fault) -> None:
        super().__init__(f"unresolved {fault.type.name} fault at address {fault.addr:#x}")
        self.fault = fault


class ElfError(RtcrError):
    """The file is not a loadable x86-64 static ELF executable for rtcr."""


class ToolchainError(RtcrError):
    """No usable C compiler, or the compiler failed."""


class StoreError(RtcrError):
    """A checkpoint store is missing, unreadable, or not a store."""


class StoreFull(StoreError):
    """The store's disk is full: a checkpoint (or gc) could not be written.

    ``needed`` is how many more free bytes the operation needs, when known.
    """

    def __init__(self, message: str, needed: int | None = None) -> None:
        super().__init__(message)
        self.needed = needed


class CorruptCheckpoint(StoreError):
    """A checkpoint failed verification; it is never restored silently."""

    def __init__(self, checkpoint_id: int, what: str) -> None:
        super().__init__(f"checkpoint {checkpoint_id} is corrupt: {what}")
        self.checkpoint_id = checkpoint_id
        self.what = what


class UnknownCheckpoint(StoreError):
    """No committed checkpoint has this id."""
