"""Copying system-call arguments in and out of a component's address space.

The kernel side of a system call touches guest memory as the guest would
(through the pager, with the same rights), so a bad pointer is detected
exactly. A fault that a synchronous handler can resolve (the checkpoint
runtime's write tracking) is reflected and retried like a guest access;
any other fault means the pointer is bad and becomes `BadPointer`, without
waking a guest fault handler for a mistake the kernel caught.
"""

from __future__ import annotations

from rtcr.core import Access, Mapping, RegionMap, resolve
from rtcr.errors import BadPointer, PageFault

PAGE = 4096
_ADDRESS_LIMIT = 1 << 64


def _check_range(addr: int, size: int) -> None:
    if size < 0 or addr < 0 or addr + size > _ADDRESS_LIMIT:
        raise BadPointer(f"bad pointer {addr:#x} (+{size})")


def _page_access(space: RegionMap, addr: int, access: Access) -> None:
    result = resolve(space, addr, access)
    if isinstance(result, Mapping):
        return
    if not callable(result.region_map.handler):
        raise BadPointer(f"bad pointer {addr:#x}")


def read(space: RegionMap, addr: int, size: int) -> bytes:
    _check_range(addr, size)
    for page in range(addr & ~(PAGE - 1), addr + size, PAGE):
        _page_access(space, page, Access.READ)
    try:
        return space.read(addr, size)
    except PageFault as fault:
        raise BadPointer(f"bad pointer {addr:#x}") from fault


def write(space: RegionMap, addr: int, data: bytes) -> None:
    _check_range(addr, len(data))
    for page in range(addr & ~(PAGE - 1), addr + len(data), PAGE):
        _page_access(space, page, Access.WRITE)
    try:
        space.write(addr, data)
    except PageFault as fault:
        raise BadPointer(f"bad pointer {addr:#x}") from fault
