"""Exact, cheap guest instruction counting for unicorn x86-64.

unicorn's own ``emu_start(..., count=N)`` installs a per-instruction hook and
makes guest code several times slower.  :class:`InstructionCounter` instead
counts whole translation blocks: a ``UC_HOOK_BLOCK`` callback (a few lines of
C, compiled on first use; see ``icount.c``) looks the block up in a table
``(address, size) -> instructions`` and adds its instruction count.

* A block is counted when its hook runs, i.e. *before* it executes.  When the
  running count has reached the limit the hook calls ``uc_emu_stop`` instead,
  which stops emulation before the block executes (unicorn runs block hooks
  ahead of the block's exit check).  So stops land on block boundaries with
  ``instructions >= limit``, and the count is exact at every stop.
* A block seen for the first time stops emulation before it executes; Python
  learns its instruction count (``ctl_request_cache``, else capstone) and
  restarts at RIP.  This is invisible to the caller.
* If the block faults part-way (e.g. the TLB-fill hook refused a data access)
  the block has been counted in full; :meth:`InstructionCounter.rewind_to`
  subtracts the instructions from the faulting one to the end of the block.

Platform facts this relies on (unicorn 2.1.4, checked by the tests):

* ``syscall`` ends its translation block, so a stop requested from a
  ``UC_HOOK_INSN`` syscall hook takes effect right after the syscall.
* Code is fetched only when a block is translated or looked up, so a refused
  instruction fetch happens before the block's hook runs: nothing to rewind
  (a fetch refused on the second page of a page-straddling block reports RIP
  at the block start).
* A data fault (refused TLB fill, unmapped memory) or an invalid instruction
  reports RIP at the faulting instruction, which unicorn counted into its
  block: ``rewind_to(rip, fetch=False)`` makes the count exact.
* Outside :meth:`InstructionCounter.run` the hook is idle (counts nothing,
  stops nothing), so a bare ``emu_start`` elsewhere is unaffected.

If no C compiler is available the same algorithm runs as a Python block hook
(identical results, slower); this is logged once on the ``rtcr.machine``
logger.

Why one module of this size: most of it is the platform facts above and
their handling; the counter is one mechanism with one invariant (exact
counts at every stop).
"""

from __future__ import annotations

import ctypes
import enum
import logging
import subprocess
import threading
from collections.abc import Callable
from typing import Any, Literal, Protocol

import capstone
from unicorn import unicorn_const as ucc
from unicorn import x86_const as x86
from unicorn.unicorn_py3 import unicorn as _ucmod
from unicorn.unicorn_py3.arch import types as _uc_types

from . import native

# unicorn's binding is only partly annotated: go through Any (mypy --strict).
_uclib: Any = _ucmod.uclib
_UcError: Any = _ucmod.UcError
_uc_hook_h: Any = _uc_types.uc_hook_h
_uc_vmem_read: Any = _uclib.uc_vmem_read  # not wrapped by the Python binding
_uc_vmem_read.restype = ctypes.c_int
_uc_vmem_read.argtypes = [
    _uc_types.uc_engine,
    ctypes.c_uint64,
    ctypes.c_int,
    ctypes.c_void_p,
    ctypes.c_size_t,
]
#: a ``unicorn.Uc`` (x86-64).  Any: mypy resolves ``unicorn.Uc`` to the
#: Python-2 binding's class, so a precise annotation would reject callers' objects.
UcHandle = Any

log = logging.getLogger("rtcr.machine")

Backend = Literal["auto", "c", "python"]

#: ``until`` address passed to ``emu_start``.  Must be 0: after every
#: ``emu_start`` unicorn invalidates the translation block at ``until - 1``
#: unless ``until == 0``, which in virtual-TLB mode calls the TLB-fill hook
#: with a fetch of that page, outside the emulation.  Guest code jumping to
#: address 0 ends the emulation there; ``run`` reports it as a fetch fault.
SENTINEL_UNTIL = 0

_REASON_NONE = 0
_REASON_LIMIT = 1
_REASON_MISS = 2
_C_ABI = 2
_U64_MAX = (1 << 64) - 1
_INITIAL_CAPACITY = 4096


class StopReason(enum.Enum):
    """Why :meth:`InstructionCounter.run` returned."""

    #: ``instructions >= limit``; stopped at a block boundary.
    LIMIT = "limit"
    #: someone called :meth:`InstructionCounter.request_stop`.
    STOPPED = "stopped"
    #: unicorn ended emulation on its own (``hlt``); RIP is after the ``hlt``.
    HALTED = "halted"


class _StateLike(Protocol):
    count: int
    limit: int
    cur_addr: int
    miss_addr: int
    hooks: int
    cur_size: int
    cur_icount: int
    miss_size: int
    reason: int
    external_stop: int


class _CState(ctypes.Structure):
    """Mirror of ``icount_state_t`` in icount.c."""

    _fields_ = [
        ("count", ctypes.c_uint64),
        ("limit", ctypes.c_uint64),
        ("cur_addr", ctypes.c_uint64),
        ("miss_addr", ctypes.c_uint64),
        ("hooks", ctypes.c_uint64),
        ("cur_size", ctypes.c_uint32),
        ("cur_icount", ctypes.c_uint32),
        ("miss_size", ctypes.c_uint32),
        ("reason", ctypes.c_uint32),
        ("external_stop", ctypes.c_uint32),
        ("abi", ctypes.c_uint32),
        ("emu_stop", ctypes.c_void_p),
        ("table", ctypes.c_void_p),
        ("mask", ctypes.c_uint64),
        ("used", ctypes.c_uint64),
    ]


class _PyState:
    """Same fields as :class:`_CState`, for the pure-Python backend."""

    __slots__ = (
        "count",
        "cur_addr",
        "cur_icount",
        "cur_size",
        "external_stop",
        "hooks",
        "limit",
        "miss_addr",
        "miss_size",
        "reason",
    )

    def __init__(self) -> None:
        self.count = 0
        self.limit = 0
        self.cur_addr = 0
        self.miss_addr = 0
        self.hooks = 0
        self.cur_size = 0
        self.cur_icount = 0
        self.miss_size = 0
        self.reason = _REASON_NONE
        self.external_stop = 0


# --------------------------------------------------------------------------
# Building and loading the C helper
# --------------------------------------------------------------------------

_build_lock = threading.Lock()
_lib_cache: dict[str, ctypes.CDLL | None] = {}
_fallback_logged = False


def _load_library() -> ctypes.CDLL | None:
    """The compiled helper, or None (after logging once) if it can't be built."""
    global _fallback_logged
    with _build_lock:
        if "lib" in _lib_cache:
            return _lib_cache["lib"]
        lib: ctypes.CDLL | None = None
        try:
            lib = ctypes.CDLL(str(native.build("icount")))
            lib.icount_abi.restype = ctypes.c_int
            lib.icount_abi.argtypes = []
            if lib.icount_abi() != _C_ABI:
                raise OSError("icount helper ABI mismatch")
            sp = ctypes.POINTER(_CState)
            lib.icount_init.restype = ctypes.c_int
            lib.icount_init.argtypes = [sp, ctypes.c_void_p, ctypes.c_uint64]
            lib.icount_insert.restype = ctypes.c_int
            lib.icount_insert.argtypes = [sp, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_uint32]
            lib.icount_lookup.restype = ctypes.c_uint32
            lib.icount_lookup.argtypes = [sp, ctypes.c_uint64, ctypes.c_uint32]
            lib.icount_clear.restype = None
            lib.icount_clear.argtypes = [sp]
            lib.icount_forget.restype = ctypes.c_int
            lib.icount_forget.argtypes = [sp, ctypes.c_uint64, ctypes.c_uint64]
            lib.icount_free.restype = None
            lib.icount_free.argtypes = [sp]
        except (OSError, AttributeError, subprocess.SubprocessError) as exc:
            detail = str(exc)
            if isinstance(exc, subprocess.CalledProcessError):
                detail = exc.stderr.decode(errors="replace").strip() or detail
            if not _fallback_logged:
                log.warning(
                    "instruction counter: C helper unavailable (%s); using the slower "
                    "pure-Python block hook",
                    detail,
                )
                _fallback_logged = True
            lib = None
        _lib_cache["lib"] = lib
        return lib


class _CTable:
    """Owns the C state (and its malloc'ed table); freed when unreferenced."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.lib = lib
        self.state = _CState()
        self.ptr = ctypes.pointer(self.state)
        stop = ctypes.cast(_uclib.uc_emu_stop, ctypes.c_void_p).value
        if lib.icount_init(self.ptr, stop, _INITIAL_CAPACITY) != 0:
            raise MemoryError("icount table")
        self.hook_fn = ctypes.cast(lib.icount_block_hook, ctypes.c_void_p)

    def __del__(self) -> None:
        lib = getattr(self, "lib", None)
        if lib is not None and self.state.table:
            lib.icount_free(self.ptr)


# --------------------------------------------------------------------------
# The counter
# --------------------------------------------------------------------------


class InstructionCounter:
    """Counts the guest instructions executed by ``uc`` exactly.

    Only use :meth:`run` to execute guest code on ``uc`` once a counter is
    installed (a bare ``emu_start`` would count too, but could stop early on
    an unknown block).  ``read_code(address, size)`` reads guest code at a
    virtual address (default ``uc.mem_read``; pass a translating reader in
    virtual-TLB mode when virtual != physical). ``learned(address, size)``
    is told of every block learned (the machine notes which pages hold
    counted code, see :meth:`forget`).
    """

    def __init__(
        self,
        uc: UcHandle,
        backend: Backend = "auto",
        read_code: Callable[[int, int], bytes | bytearray] | None = None,
        learned: Callable[[int, int], None] | None = None,
    ) -> None:
        if backend not in ("auto", "c", "python"):
            raise ValueError(f"unknown backend {backend!r}")
        self._uc: Any = uc
        self._read_code: Callable[[int, int], bytes | bytearray] = (
            read_code if read_code is not None else self._vmem_read
        )
        self._learned = learned
        self._md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
        #: (addr, size) -> instruction count (the source of truth for both backends)
        self._blocks: dict[tuple[int, int], int] = {}
        #: (block addr, block size, rip) -> instructions from rip to block end
        self._remaining: dict[tuple[int, int, int], int] = {}
        self._ctable: _CTable | None = None
        lib = _load_library() if backend != "python" else None
        if backend == "c" and lib is None:
            raise RuntimeError("C instruction-counter backend unavailable (see log)")
        self._hook_handle: int | None
        self._st: _StateLike
        if lib is not None:
            self._ctable = _CTable(lib)
            self._st = self._ctable.state
            handle = _uc_hook_h()
            status = _uclib.uc_hook_add(
                self._uc._uch,
                ctypes.byref(handle),
                ucc.UC_HOOK_BLOCK,
                self._ctable.hook_fn,
                ctypes.cast(self._ctable.ptr, ctypes.c_void_p),
                ctypes.c_uint64(1),
                ctypes.c_uint64(0),
            )
            if status != ucc.UC_ERR_OK:
                raise _UcError(status)
            self._hook_handle = handle.value
            # The Uc keeps hook callbacks alive; keep the C state alive as long as the Uc.
            self._uc._callbacks[handle.value] = self._ctable
            self.backend: Literal["c", "python"] = "c"
        else:
            self._st = _PyState()
            self._hook_handle = self._uc.hook_add(ucc.UC_HOOK_BLOCK, self._py_hook)
            self.backend = "python"
        self._stop_requested = False
        self._st.external_stop = 1  # idle until run()

    # ----------------------------------------------------------------- hooks

    def _py_hook(self, uc: Any, address: int, size: int, _user_data: Any) -> None:
        st = self._st
        st.hooks += 1
        if st.external_stop:
            return
        if st.count >= st.limit:
            st.reason = _REASON_LIMIT
            uc.emu_stop()
            return
        n = self._blocks.get((address, size))
        if n is None:
            st.reason = _REASON_MISS
            st.miss_addr = address
            st.miss_size = size
            uc.emu_stop()
            return
        st.count += n
        st.cur_addr = address
        st.cur_size = size
        st.cur_icount = n

    # ------------------------------------------------------------ public API

    @property
    def instructions(self) -> int:
        """Guest instructions executed so far (exact at every stop)."""
        return int(self._st.count)

    @instructions.setter
    def instructions(self, value: int) -> None:
        if value < 0:
            raise ValueError("instruction count must be >= 0")
        self._st.count = value
        self._st.cur_size = 0  # no current block to rewind into

    @property
    def hook_calls(self) -> int:
        """Number of block-hook invocations (statistics)."""
        return int(self._st.hooks)

    @property
    def learned_blocks(self) -> int:
        """Number of translation blocks whose instruction count is known."""
        return len(self._blocks)

    def run(self, begin: int, limit: int) -> StopReason:
        """Run guest code from ``begin`` until ``instructions >= limit`` or a stop.

        Returns LIMIT (stopped at a block boundary with ``instructions >= limit``;
        RIP is the next block), STOPPED (:meth:`request_stop` was called by a
        hook during this run) or HALTED (``hlt``).  Guest faults propagate as
        :class:`UcError`; call :meth:`rewind_to` for a data fault.
        """
        st = self._st
        uc = self._uc
        st.limit = min(limit, _U64_MAX)
        self._stop_requested = False
        st.external_stop = 0
        pc = begin
        try:
            while True:
                if st.count >= limit:
                    return StopReason.LIMIT
                st.reason = _REASON_NONE
                uc.emu_start(pc, SENTINEL_UNTIL)
                if self._stop_requested:
                    return StopReason.STOPPED
                reason = st.reason
                if reason == _REASON_LIMIT:
                    return StopReason.LIMIT
                if reason == _REASON_MISS:
                    pc = int(st.miss_addr)
                    self._learn(pc, int(st.miss_size))
                    continue
                rip = uc.reg_read(x86.UC_X86_REG_RIP)
                if rip == SENTINEL_UNTIL:
                    raise _UcError(ucc.UC_ERR_FETCH_UNMAPPED)
                return StopReason.HALTED
        finally:
            st.external_stop = 1  # idle: code run outside run() is neither counted nor stopped

    def request_stop(self) -> None:
        """Stop the current :meth:`run` (from another hook of the same emulation).

        The block hook does nothing from now on, so no further block is
        counted; ``run`` returns STOPPED.
        """
        self._stop_requested = True
        self._st.external_stop = 1
        self._uc.emu_stop()

    def rewind_to(self, rip: int, fetch: bool) -> None:
        """Correct the count after ``emu_start`` raised with RIP = ``rip``.

        For a data fault (``fetch=False``) inside the block counted last, the
        whole block was counted when it was entered: subtract the instructions
        from ``rip`` (inclusive, it did not complete) to the end of the block.
        For an instruction-fetch fault there is nothing to subtract: code is
        fetched when a block is translated or looked up, before its hook runs,
        so the faulting block was never counted.  Idempotent: the current block
        is forgotten after a rewind.
        """
        if fetch:
            return
        st = self._st
        st.count -= self.not_yet_run(rip)
        st.cur_size = 0

    def not_yet_run(self, rip: int) -> int:
        """Instructions of the block counted last from ``rip`` (inclusive) to its end.

        They are in :attr:`instructions` already (a block is counted when it
        is entered), but have not run: ``instructions - not_yet_run(rip)`` is
        the exact number of instructions retired before the one at ``rip``,
        whatever the block boundaries.
        """
        st = self._st
        size = int(st.cur_size)
        addr = int(st.cur_addr)
        if size == 0 or not addr <= rip < addr + size:
            return 0
        key = (addr, size, rip)
        remaining = self._remaining.get(key)
        if remaining is None:
            remaining = self._remaining_from(addr, size, int(st.cur_icount), rip)
            self._remaining[key] = remaining
        return remaining

    def invalidate(self) -> None:
        """Forget all learned blocks (guest code changed).

        Also flush unicorn's translation cache for the changed code, or unicorn
        keeps running the old translation.
        """
        self._blocks.clear()
        self._remaining.clear()
        if self._ctable is not None:
            self._ctable.lib.icount_clear(self._ctable.ptr)
        self._st.cur_size = 0

    def forget(self, start: int, end: int) -> None:
        """Forget the blocks overlapping ``[start, end)``: the code there changed.

        A block is learned once per (address, size); code rewritten in place
        can keep both and still hold other instructions.
        """
        for key in [k for k in self._blocks if k[0] < end and k[0] + k[1] > start]:
            del self._blocks[key]
        for rkey in [k for k in self._remaining if k[0] < end and k[0] + k[1] > start]:
            del self._remaining[rkey]
        if (self._ctable is not None
                and self._ctable.lib.icount_forget(self._ctable.ptr, start, end) != 0):
            raise MemoryError("icount table")

    def close(self) -> None:
        """Remove the hook from ``uc``."""
        if self._hook_handle is None:
            return
        if self.backend == "c":
            _uclib.uc_hook_del(self._uc._uch, self._hook_handle)
            self._uc._callbacks.pop(self._hook_handle, None)
        else:
            self._uc.hook_del(self._hook_handle)
        self._hook_handle = None

    # -------------------------------------------------------------- learning

    def _vmem_read(self, address: int, size: int) -> bytes:
        """Read code at a virtual address (``uc_vmem_read``: through the MMU or,
        in virtual-TLB mode, the TLB-fill hook in probe mode, which may refuse
        without side effects on the emulation)."""
        buf = ctypes.create_string_buffer(size)
        status = _uc_vmem_read(self._uc._uch, address, ucc.UC_PROT_EXEC, buf, size)
        if status != ucc.UC_ERR_OK:
            raise _UcError(status)
        return buf.raw

    def _learn(self, addr: int, size: int) -> None:
        n = self._icount_from_tb(addr, size)
        if n is None:
            offsets, end = self._decode(addr, size)
            if end != size:
                raise RuntimeError(
                    f"cannot decode translation block {addr:#x}+{size}: capstone stopped at +{end}"
                )
            n = len(offsets)
        self._blocks[(addr, size)] = n
        if self._learned is not None:
            self._learned(addr, size)
        if (
            self._ctable is not None
            and self._ctable.lib.icount_insert(self._ctable.ptr, addr, size, n) != 0
        ):
            raise MemoryError("icount table")

    def _icount_from_tb(self, addr: int, size: int) -> int | None:
        """unicorn's own count for the block (it was just translated and looked up)."""
        try:
            pc, icount, tb_size = self._uc.ctl_request_cache(addr)
        except _UcError:
            return None
        if pc != addr or tb_size != size or icount <= 0:
            return None
        return int(icount)

    def _decode(self, addr: int, size: int) -> tuple[list[int], int]:
        """Offsets of the instructions capstone decodes in [addr, addr+size), and
        the offset where decoding stopped (``size`` unless it met an instruction
        it does not know)."""
        code = bytes(self._read_code(addr, size))
        offsets: list[int] = []
        end = 0
        for off, length, _m, _o in self._md.disasm_lite(code, addr):
            offsets.append(off - addr)
            end = off - addr + length
        return offsets, end

    def _remaining_from(self, addr: int, size: int, icount: int, rip: int) -> int:
        offsets, end = self._decode(addr, size)
        at = rip - addr
        if end == size and len(offsets) == icount and at in offsets:
            return icount - offsets.index(at)
        if end == at and len(offsets) == icount - 1:
            return 1  # rip is the block's last instruction, which capstone can't decode
        raise RuntimeError(
            f"cannot locate RIP {rip:#x} in translation block {addr:#x}+{size} "
            f"({icount} instructions; capstone decoded {len(offsets)} up to +{end})"
        )
