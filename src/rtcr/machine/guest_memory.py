"""Copying system-call arguments in and out of a component's address space.

The kernel side of a system call touches guest memory as the guest would
(the pager's host access, with the same rights), so a bad pointer is
detected exactly. A fault a synchronous handler resolves (the checkpoint
runtime's write tracking) is resolved and retried like a guest access; any
other fault means the pointer is bad and becomes `BadPointer`, without
waking a guest fault handler for a mistake the kernel caught: the pager's
host access never queues anything.
"""

from __future__ import annotations

from rtcr.core import RegionMap, host_read, host_write
from rtcr.errors import BadPointer, PageFault

_ADDRESS_LIMIT = 1 << 64


def _check_range(addr: int, size: int) -> None:
    if size < 0 or addr < 0 or addr + size > _ADDRESS_LIMIT:
        raise BadPointer(f"bad pointer {addr:#x} (+{size})")


def read(space: RegionMap, addr: int, size: int) -> bytes:
    """Copy `size` bytes in from `addr` (a kernel copy-in)."""
    _check_range(addr, size)
    try:
        return host_read(space, addr, size)
    except PageFault as fault:
        raise BadPointer(f"bad pointer {addr:#x}") from fault


def write(space: RegionMap, addr: int, data: bytes) -> None:
    """Copy `data` out to `addr` (a kernel copy-out)."""
    _check_range(addr, len(data))
    try:
        host_write(space, addr, data)
    except PageFault as fault:
        raise BadPointer(f"bad pointer {addr:#x}") from fault
