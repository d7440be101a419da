"""The guest ABI: system call numbers, error codes and flag values.

This module is the single source of truth; ``sdk/include/rtcr.h`` repeats
the numbers for C, and a test checks that both agree.

Calling convention: ``syscall`` with the number in ``rax``, arguments in
``rdi, rsi, rdx, r10, r8, r9``, result in ``rax``; a negative result is
``-Errno``.
"""

from __future__ import annotations

import enum

ABI_VERSION = 1
"""The guest ABI's version, recorded in every checkpoint (``RTCR_ABI_VERSION``).

Raised when an existing call, error code or flag changes its number or its
meaning, so that a restore refuses a checkpoint whose code expects the old
one. Adding a call does not raise it: code compiled before never makes it.
"""


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
    PD_CREATE = 30  # (label ptr, label len) -> pd cap; session quota paid by the caller's PD
    PD_SELF = 31  # () -> pd cap of the caller's own PD
    PD_REF_ACCOUNT = 32  # (pd, ref pd) -> 0
    PD_TRANSFER = 33  # (from pd, to pd, amount, QUOTA_RAM or QUOTA_CAPS) -> 0
    PD_RAM_ALLOC = 34  # (pd, size) -> ds cap, charged to that PD
    PD_RAM_FREE = 35  # (pd, ds) -> 0; only the owning PD may
    PD_RAM_SEAL = 36  # (pd, ds, flags: 0 or SEAL_REVOKE); only the owning PD may
    PD_RAM_SIZE = 37  # (pd, ds) -> bytes of a RAM dataspace that PD owns
    PD_QUOTA = 38  # (pd, PD_QUOTA_*) -> bytes or capabilities
    CAP_DELEGATE = 39  # (pd, ds or ctx cap) -> its selector in that PD's space
    SIGNAL_FREE = 40  # (ctx) -> 0: dissolve an own context, revoke it from every holder
    PD_ADDRESS_SPACE = 41  # (pd) -> rm cap of that PD's address space
    CHILD_START = 42  # (pd, binary ROM ds, name ptr, name len, exit ctx or -1) -> 0
    PD_STACK_AREA = 43  # (pd) -> rm cap of a PD session's stack area
    CHILD_EXIT_VALUE = 44  # (pd) -> exit value of the child in that PD; ENOTHREAD: it runs
    THREAD_CREATE_NAMED = 45  # (trampoline, entry, arg, stack_size, name ptr, name len) -> tid
    DS_WRITEABLE = 46  # (ds) -> 1 if attaching it writable is possible (RAM, managed), else 0
    ANNOUNCE = 47  # (name ptr, name len, ds or ctx cap) -> 0: offer it as service NAME
    REQUEST = 48  # (name ptr, name len) -> selector of what the routed provider announced


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
    EAGAIN = 13  # not there yet (a service not announced so far): ask again later


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

QUOTA_RAM = 0  # RTCR_QUOTA_RAM: PD_TRANSFER moves bytes of RAM quota
QUOTA_CAPS = 1  # RTCR_QUOTA_CAPS: PD_TRANSFER moves capabilities


class PdQuota(enum.IntEnum):
    """What PD_QUOTA reports (``RTCR_PD_*``)."""

    RAM_LIMIT = 0
    RAM_USED = 1
    CAPS_LIMIT = 2
    CAPS_USED = 3


PD_SESSION_RAM_QUOTA = 24 * 1024 * 8  # RTCR_PD_SESSION_RAM: Genode's Pd_session::RAM_QUOTA
PD_SESSION_CAP_QUOTA = 13  # RTCR_PD_SESSION_CAPS: Genode's Pd_session::CAP_QUOTA
PD_LABEL_MAX = 160  # RTCR_PD_LABEL_MAX: bytes of a PD session's label

STACK_AREA_BASE = 0x4000_0000  # where a PD session's stack area sits in its address space
STACK_AREA_SIZE = 0x1000_0000  # (Genode's stack area on 64-bit: 256 MiB at 1 GiB)

# The component's inputs (`rtcr run X.elf --env K=V --stdin FILE -- ARGS...`) are ROMs,
# provided when any input is given. ARGS_ROM: three u64 (argc, envc, bytes of stdin), then
# argc strings (argv[0]: the component's name) and envc "K=V" strings, each NUL-terminated;
# crt0 hands them to main(argc, argv, envp). STDIN_ROM: the stdin bytes, zero-padded.
ARGS_ROM = "args"  # RTCR_ARGS_ROM
STDIN_ROM = "stdin"  # RTCR_STDIN_ROM
ARGS_HEADER = "<QQQ"  # struct format of the ARGS_ROM header

ADDRESS_SPACE_SELECTOR = 1  # RTCR_ADDRESS_SPACE: the caller's own region map
FIRST_DYNAMIC_SELECTOR = 2  # selectors handed out for new objects start here
