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
    RAM_SEAL = 4  # (ds)
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

ADDRESS_SPACE_SELECTOR = 1  # RTCR_ADDRESS_SPACE: the caller's own region map
FIRST_DYNAMIC_SELECTOR = 2  # selectors handed out for new objects start here
