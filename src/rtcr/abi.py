"""The guest ABI: system call numbers, error codes and flag values.

This module is the single source of truth; ``sdk/include/rtcr.h`` repeats
the numbers for C, and a test checks that both agree.

Calling convention: ``syscall`` with the number in ``rax``, arguments in
``rdi, rsi, rdx, r10, r8, r9``, result in ``rax``; a negative result is
``-Errno``.
"""

from __future__ import annotations

import enum


class Syscall(enum.IntEnum):
    EXIT = 0  # (code)
    LOG = 1  # (ptr, len)
    RAM_ALLOC = 2  # (size) -> ds cap
    RAM_FREE = 3  # (ds)
    RAM_SEAL = 4  # (ds, flags: 0 or SEAL_REVOKE)
    RM_CREATE = 5  # (size) -> rm cap
    RM_DATASPACE = 6  # (rm) -> ds cap
    ATTACH = 7  # (rm, ds, size, offset, at or -1, flags) -> address
    DETACH = 8  # (rm, at)
    FAULT_HANDLER = 9  # (rm, sigctx or -1 to clear)
    FAULT = 10  # (rm, struct rtcr_fault *)
    SIGNAL_CONTEXT = 11  # () -> ctx cap
    SIGNAL_WAIT = 12  # () -> ctx cap that fired
    SIGNAL_SUBMIT = 13  # (ctx)
    THREAD_CREATE = 14  # (trampoline, entry, arg, stack_size) -> thread id
    THREAD_EXIT = 15  # ()
    THREAD_JOIN = 16  # (thread id) -> 0
    TIME_US = 17  # () -> virtual microseconds
    SLEEP_US = 18  # (us)
    YIELD = 19  # ()
    RAM_AVAIL = 20  # () -> bytes of RAM quota left
    CAPS_AVAIL = 21  # () -> capabilities left
    THREAD_SELF = 22  # () -> the caller's thread id
    THREAD_KILL = 23  # (thread id) -> 0; not the caller itself
    DS_SIZE = 24  # (ds) -> bytes of any dataspace (RAM, ROM, managed)
    RM_DESTROY = 25  # (rm) -> 0: detach all, invalidate its dataspace, free it
    ROM_OPEN = 26  # (name ptr, name len) -> ds cap of the named ROM
    SIGNAL_RECEIVER = 27  # () -> receiver cap (one per Genode entrypoint)
    SIGNAL_CONTEXT_AT = 28  # (receiver) -> ctx cap delivered at that receiver
    SIGNAL_WAIT_AT = 29  # (receiver) -> ctx cap that fired there


class Errno(enum.IntEnum):
    EINVAL = 1  # malformed argument (misaligned, out of range)
    ECAP = 2  # unknown / stale / wrong-kind capability
    EFAULT = 3  # bad pointer
    ENORAM = 4  # RAM quota exhausted
    ENOCAPS = 5  # capability quota exhausted
    ECONFLICT = 6  # region conflict
    EDENIED = 7  # not permitted
    EINVALDS = 8  # invalid or freed dataspace
    ENOREGION = 9  # no region at that address
    ENESTING = 10  # nesting too deep / cyclic
    ENOSYS = 11  # unknown system call
    ENOTHREAD = 12  # no such thread, or thread limit reached


class FaultTypeCode(enum.IntEnum):
    """Values of ``struct rtcr_fault.type`` (same order as ``rtcr.core.FaultType``)."""

    NONE = 0
    READ = 1
    WRITE = 2
    EXEC = 3


ATTACH_WRITEABLE = 1  # RTCR_W
ATTACH_EXECUTABLE = 2  # RTCR_X
ATTACH_ANYWHERE = -1  # `at` value that lets the region map choose

SEAL_REVOKE = 1  # RTCR_SEAL_REVOKE: also downgrade existing writable mappings

SLEEP_MAX_US = (1 << 40) - 1  # RTCR_SLEEP_MAX_US: longer sleeps fail with EINVAL
ROM_NAME_MAX = 256  # RTCR_ROM_NAME_MAX: bytes of a ROM name

ADDRESS_SPACE_SELECTOR = 1  # RTCR_ADDRESS_SPACE: the caller's own region map
FIRST_DYNAMIC_SELECTOR = 2  # selectors handed out for new objects start here
