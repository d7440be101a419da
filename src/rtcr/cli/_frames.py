"""The return addresses on a thread's stack, named from the program's symbols (`rtcr show`).

Programs built by ``rtcr cc`` keep no frame pointers, so the stack is not
walked but scanned, as debuggers do without unwind tables: every word from
rsp to the top of the stack that points into executable memory just after
a call instruction (``call rel32``, or ``call`` through a register or
memory operand) is taken for a return address. A stale one, left by a
call that has returned, can be among them; the scan never misses a live
one. Addresses are named ``function+offset`` from the ELF's function
symbols. With them the scan also knows where to stop: nothing calls the
entry function (``_start``), so the first return into it is the
outermost frame and whatever lies above it is stale (crt0's set-up); and
a return address whose direct call leads elsewhere than into the function
of the frame above it is marked stale.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rtcr.checkpoint.image import object_key
from rtcr.core import PAGE_SIZE
from rtcr.errors import ElfError
from rtcr.store import Checkpoint

#: At most this many return addresses per thread (deep recursion would fill a screen).
MAX_FRAMES = 16
#: Where a call instruction starts, counted back from the address it returns to:
#: ``call rel32`` (E8, 5 bytes) and ``call r/m64`` (FF /2 and a ModRM, with a SIB byte
#: and a displacement of 0, 1 or 4 bytes: 2, 3, 4, 6 or 7 bytes).
_CALL_REL32 = 5
_CALL_INDIRECT = (2, 3, 4, 6, 7)
WORD = 8


@dataclass(frozen=True)
class Symbols:
    """A program's functions, ascending by address: starts, ends and names; its entry."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    names: tuple[str, ...]
    entry: int

    @classmethod
    def read(cls, path: Path) -> Symbols:
        """The function symbols of the ELF at ``path`` (ElfError if it is none)."""
        from elftools.common.exceptions import ELFError as PyElfError
        from elftools.elf.elffile import ELFFile
        from elftools.elf.sections import SymbolTableSection

        try:
            with path.open("rb") as stream:
                elf = ELFFile(stream)
                entry = elf.header["e_entry"]
                table = elf.get_section_by_name(".symtab")
                found = sorted((s["st_value"], s["st_size"], s.name)
                               for s in (table.iter_symbols()
                                         if isinstance(table, SymbolTableSection) else ())
                               if s["st_info"]["type"] == "STT_FUNC" and s["st_value"])
        except OSError as exc:
            raise ElfError(f"{path}: cannot read: {exc.strerror or exc}") from None
        except (PyElfError, ValueError) as exc:
            raise ElfError(f"{path}: not an ELF file with symbols: {exc}") from None
        starts = tuple(start for start, _size, _name in found)
        # A symbol without a size (assembly) reaches to the next one.
        ends = tuple(start + size if size else (starts[k + 1] if k + 1 < len(starts)
                                                else start + 1)
                     for k, (start, size, _name) in enumerate(found))
        return cls(starts, ends, tuple(name for _start, _size, name in found), entry)

    def _function(self, address: int) -> int | None:
        at = bisect_right(self.starts, address) - 1
        return None if at < 0 or address >= self.ends[at] else at

    def name(self, address: int) -> str | None:
        """``function+0xOFFSET`` (just ``function`` at its first byte), or None."""
        at = self._function(address)
        if at is None:
            return None
        offset = address - self.starts[at]
        return self.names[at] + (f"+{offset:#x}" if offset else "")

    def start(self, address: int) -> int | None:
        """Where the function holding ``address`` starts (None: in none)."""
        at = self._function(address)
        return None if at is None else self.starts[at]

    def outermost(self, address: int) -> bool:
        """Whether ``address`` lies in the entry function, which nothing calls."""
        at = self._function(address)
        return at is not None and at == self._function(self.entry)


class Memory:
    """The target's memory as a checkpoint holds it, through the view's address-space tree."""

    def __init__(self, checkpoint: Checkpoint, regions: list[dict[str, Any]]) -> None:
        self._checkpoint = checkpoint
        self._leaves: list[dict[str, Any]] = []
        pending = list(regions)
        while pending:
            region = pending.pop()
            if region.get("regions"):
                pending += region["regions"]
            else:
                self._leaves.append(region)
        self._pages: dict[tuple[str, int], bytes] = {}

    def _region(self, address: int) -> dict[str, Any] | None:
        return next((r for r in self._leaves if r["start"] <= address < r["end"]), None)

    def executable(self, address: int) -> bool:
        region = self._region(address)
        return region is not None and region["rights"].endswith("x")

    def read(self, address: int, size: int) -> bytes | None:
        """``size`` bytes at ``address``, or None if any of them is not mapped."""
        out = b""
        while size > 0:
            region = self._region(address)
            if region is None or object_key(region["oid"]) not in self._checkpoint.objects():
                return None
            offset = address - region["start"] + region["offset"]
            key = (object_key(region["oid"]), offset // PAGE_SIZE)
            if key not in self._pages:
                self._pages[key] = self._checkpoint.page(*key)
            start = offset % PAGE_SIZE
            chunk = self._pages[key][start:start + min(size, PAGE_SIZE - start,
                                                       region["end"] - address)]
            out += chunk
            address += len(chunk)
            size -= len(chunk)
        return out


def _after_call(memory: Memory, address: int) -> bool:
    """Whether the instruction that ends at ``address`` is a call."""
    before = memory.read(address - 7, 7) if memory.executable(address - 7) else None
    if before is None:
        return False
    if before[7 - _CALL_REL32] == 0xE8:
        return True
    return any(before[7 - k] == 0xFF and (before[8 - k] >> 3) & 7 == 2 for k in _CALL_INDIRECT)


def call_target(memory: Memory, address: int) -> int | None:
    """Where the direct call (``call rel32``) ending at ``address`` goes (None: not direct)."""
    code = memory.read(address - _CALL_REL32, _CALL_REL32)
    if code is None or code[0] != 0xE8:
        return None
    return address + int.from_bytes(code[1:], "little", signed=True)


def return_addresses(memory: Memory, rsp: int, stack_end: int) -> list[int]:
    """The return addresses on the stack from ``rsp`` up, innermost first."""
    stack = memory.read(rsp, max(0, stack_end - rsp)) if rsp < stack_end else None
    if stack is None:
        return []
    out = []
    for at in range(0, len(stack) - WORD + 1, WORD):
        word = int.from_bytes(stack[at:at + WORD], "little")
        if memory.executable(word) and _after_call(memory, word):
            out.append(word)
            if len(out) == MAX_FRAMES:
                break
    return out


def annotate(view: dict[str, Any], checkpoint: Checkpoint, symbols: Symbols | None) -> None:
    """Give each thread of ``view`` its ``rip_symbol`` and its ``frames`` (return addresses).

    ``symbols`` are the target's: a child started from another ELF gets its
    frames unnamed.
    """
    _annotate(view["threads"], Memory(checkpoint, view["address_space"]), symbols)
    for child in view.get("children", []):
        _annotate(child["threads"],
                  Memory(checkpoint, child["address_space"] + child["stack_area"]), None)


def _annotate(threads: list[dict[str, Any]], memory: Memory, symbols: Symbols | None) -> None:
    def name(address: int | None) -> str | None:
        return None if symbols is None or address is None else symbols.name(address)

    for thread in threads:
        registers = thread["registers"]
        thread["rip_symbol"] = name(registers.get("rip"))
        rsp, stack = registers.get("rsp"), thread["stack"]
        found = [] if rsp is None or stack is None else return_addresses(memory, rsp, stack[1])
        if symbols is not None:
            last = next((k for k, a in enumerate(found) if symbols.outermost(a)), len(found))
            found = found[:last + 1]
        thread["frames"] = _frames(memory, symbols, registers.get("rip"), found)


def _frames(memory: Memory, symbols: Symbols | None, rip: int | None,
            found: list[int]) -> list[dict[str, Any]]:
    """The return addresses, each marked ``stale`` when its call leads elsewhere.

    A direct call whose target is not the start of the function the frame
    above it is in (rip's, or the last live return address's) is probably
    left over from a call that returned; it is kept, marked, because a tail
    call makes a live frame look the same. Without symbols nothing is marked.
    """
    out: list[dict[str, Any]] = []
    inner = rip
    for address in found:
        target = call_target(memory, address)
        start = None if symbols is None or inner is None else symbols.start(inner)
        stale = target is not None and start is not None and target != start
        out.append({"address": address,
                    "symbol": None if symbols is None else symbols.name(address),
                    "stale": stale})
        if not stale:
            inner = address
    return out
