"""A software TLB: the pager's answers cached in C, in front of the Python fill hook.

See tlb.c for why. `SoftwareTlb.install` registers the fill hook on a
unicorn instance; the C hook caches what the Python fill returned (the
machine inserts only pages it refills itself) and the machine invalidates
what the core flushes. Without a C compiler the plain Python
fill hook is installed instead (same behaviour, every miss in Python).

The same hook keeps code coherent across mappings (tlb.c, code_fill):
`attach_code` gives it the machine's per-frame state and the callback it
reports changes of state to; `take_code_pages` and `probe` serve the
invalidation of a frame's translated code.
"""

from __future__ import annotations

import ctypes
import logging
import subprocess
from collections.abc import Callable
from typing import Any

from unicorn import unicorn_const as ucc
from unicorn.unicorn_py3 import unicorn as _ucmod
from unicorn.unicorn_py3.arch import types as _uc_types

from . import native

log = logging.getLogger("rtcr.machine")
_uclib: Any = _ucmod.uclib
_ABI = 6
CAPACITY = 1 << 16  # pages: 256 MiB of guest memory translated without Python

# bool fill(uc, vaddr, type, entry*, user)
FillFunction = Callable[[int, int, int, Any, Any], bool]
_FILL_CFUNC = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int,
                               ctypes.POINTER(_ucmod.uc_tlb_entry), ctypes.c_void_p)
# void event(kind, frame)
_EVENT_CFUNC = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_uint64)
CodeEvent = Callable[[int, int], None]
FRAME_CODE = 2  # tlb.c's FRAME_* (the state a frame with translated code is in)
EVENT_EXECUTABLE = 1  # a frame written before is executable now
EVENT_WRITTEN = 2  # a frame with translated code is written now
_VPN_MANY = (1 << 64) - 1


class _Tlb(ctypes.Structure):
    _fields_ = [
        ("tag", ctypes.c_void_p),
        ("paddr", ctypes.c_void_p),
        ("perms", ctypes.c_void_p),
        ("mask", ctypes.c_uint64),
        ("slow", ctypes.c_void_p),
        ("slow_user", ctypes.c_void_p),
        ("hits", ctypes.c_uint64),
        ("misses", ctypes.c_uint64),
        ("evicted", ctypes.c_uint64),
        ("code_state", ctypes.c_void_p),
        ("code_vpn", ctypes.c_void_p),
        ("frames", ctypes.c_uint64),
        ("code_event", ctypes.c_void_p),
        ("probe_vpn", ctypes.c_uint64),
        ("probe_paddr", ctypes.c_uint64),
    ]


_library: list[ctypes.CDLL | None] = []


def _load() -> ctypes.CDLL | None:
    if _library:
        return _library[0]
    lib: ctypes.CDLL | None
    try:
        lib = ctypes.CDLL(str(native.build("tlb")))
        if lib.tlb_abi() != _ABI:
            raise OSError("tlb helper ABI mismatch")
        ptr = ctypes.POINTER(_Tlb)
        lib.tlb_init.argtypes = [ptr, ctypes.c_uint64, ctypes.c_void_p, ctypes.c_void_p]
        lib.tlb_init.restype = ctypes.c_int
        lib.tlb_insert.argtypes = [ptr, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint32]
        lib.tlb_insert.restype = None
        lib.tlb_lookup.argtypes = [ptr, ctypes.c_uint64, ctypes.POINTER(ctypes.c_uint64),
                                   ctypes.POINTER(ctypes.c_uint32)]
        lib.tlb_lookup.restype = ctypes.c_bool
        lib.tlb_take.argtypes = lib.tlb_lookup.argtypes
        lib.tlb_take.restype = ctypes.c_bool
        lib.tlb_clear.argtypes = [ptr]
        lib.tlb_clear.restype = None
        lib.tlb_invalidate.argtypes = [ptr, ctypes.c_uint64, ctypes.c_uint64]
        lib.tlb_invalidate.restype = None
        lib.tlb_free.argtypes = [ptr]
        lib.tlb_free.restype = None
        lib.tlb_code_attach.argtypes = [ptr, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p]
        lib.tlb_code_attach.restype = ctypes.c_int
        lib.tlb_code_free.argtypes = [ptr]
        lib.tlb_code_free.restype = None
        lib.tlb_code_take.argtypes = [ptr, ctypes.c_uint64]
        lib.tlb_code_take.restype = ctypes.c_uint64
        lib.tlb_code_probe.argtypes = [ptr, ctypes.c_uint64, ctypes.c_uint64]
        lib.tlb_code_probe.restype = None
    except (OSError, AttributeError, subprocess.SubprocessError) as exc:
        log.warning("software TLB unavailable (%s); every TLB miss goes to Python", exc)
        lib = None
    _library.append(lib)
    return lib


class SoftwareTlb:
    """The TLB-fill hook of one CPU: C cache first, `slow(vaddr, access_type, entry)` on a miss."""

    def __init__(self, uc: Any, slow: Callable[[int, int, Any], bool]) -> None:
        self._lib = _load()
        self._slow = slow
        if self._lib is None:
            uc.hook_add(ucc.UC_HOOK_TLB_FILL,
                        lambda _uc, vaddr, access, entry, _user: slow(vaddr, access, entry))
            return
        self._state = _Tlb()
        self._ptr = ctypes.pointer(self._state)
        self._paddr = ctypes.c_uint64()
        self._perms = ctypes.c_uint32()
        self._paddr_ref = ctypes.byref(self._paddr)
        self._perms_ref = ctypes.byref(self._perms)
        self._slow_c = _FILL_CFUNC(self._slow_entry)
        if self._lib.tlb_init(self._ptr, CAPACITY, ctypes.cast(self._slow_c, ctypes.c_void_p),
                              None) != 0:
            raise MemoryError("software TLB")
        handle = _uc_types.uc_hook_h()
        status = _uclib.uc_hook_add(uc._uch, ctypes.byref(handle), ucc.UC_HOOK_TLB_FILL,
                                    ctypes.cast(self._lib.tlb_fill_hook, ctypes.c_void_p),
                                    ctypes.cast(self._ptr, ctypes.c_void_p),
                                    ctypes.c_uint64(1), ctypes.c_uint64(0))
        if status != ucc.UC_ERR_OK:
            raise _ucmod.UcError(status)
        uc._callbacks[handle.value] = self  # keep the C state alive as long as the Uc

    def _slow_entry(self, _uc: int, vaddr: int, access: int, entry: Any, _user: int) -> bool:
        return self._slow(vaddr, access, entry.contents)

    def insert(self, vaddr: int, paddr: int, perms: int) -> None:
        if self._lib is not None:
            self._lib.tlb_insert(self._ptr, vaddr, paddr, perms)

    def lookup(self, vaddr: int) -> tuple[int, int] | None:
        """(physical address, perms) cached for vaddr's page, or None."""
        return self._query(self._lib.tlb_lookup if self._lib is not None else None, vaddr)

    def take(self, vaddr: int) -> tuple[int, int] | None:
        """Like `lookup`, and forget the page."""
        return self._query(self._lib.tlb_take if self._lib is not None else None, vaddr)

    def _query(self, function: Any, vaddr: int) -> tuple[int, int] | None:
        if function is None or not function(self._ptr, vaddr, self._paddr_ref, self._perms_ref):
            return None
        return self._paddr.value, self._perms.value

    @property
    def complete(self) -> bool:
        """True while the cache knows every translation unicorn may hold (see tlb.c)."""
        return self._lib is not None and self._state.evicted == 0

    def unicorn_flushed(self) -> None:
        """unicorn's TLB is empty again: the cache is complete from here on."""
        if self._lib is not None:
            self._state.evicted = 0

    def attach_code(self, state: ctypes.Array[ctypes.c_uint8], event: CodeEvent) -> bool:
        """Keep code coherent with the machine's per-frame `state` (False: cannot, no C hook)."""
        if self._lib is None:
            return False
        self._event_c = _EVENT_CFUNC(event)
        if self._lib.tlb_code_attach(self._ptr, ctypes.addressof(state), len(state),
                                     ctypes.cast(self._event_c, ctypes.c_void_p)) != 0:
            raise MemoryError("software TLB: code pages")
        return True

    def take_code_pages(self, frame: int) -> tuple[int, ...] | None:
        """The virtual pages through which this CPU executed `frame`, forgotten.

        () if it never did, None if through more than one page (the caller
        then forgets every page's code).
        """
        assert self._lib is not None
        vpn = int(self._lib.tlb_code_take(self._ptr, frame))
        if vpn == _VPN_MANY:
            return None
        return () if vpn == 0 else ((vpn - 1) << 12,)

    def probe(self, vaddr: int, paddr: int) -> None:
        """Let page `vaddr` translate to `paddr`, executable, until the next probe (0: none)."""
        assert self._lib is not None
        self._lib.tlb_code_probe(self._ptr, vaddr, paddr)

    def invalidate(self, start: int, size: int) -> None:
        if self._lib is not None:
            self._lib.tlb_invalidate(self._ptr, start, size)

    @property
    def hits(self) -> int:
        return int(self._state.hits) if self._lib is not None else 0

    @property
    def misses(self) -> int:
        return int(self._state.misses) if self._lib is not None else 0

    def __del__(self) -> None:
        lib = getattr(self, "_lib", None)
        if lib is not None and getattr(self, "_state", None) is not None and self._state.tag:
            lib.tlb_code_free(self._ptr)
            lib.tlb_free(self._ptr)
