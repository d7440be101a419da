"""Parse a component's ELF file into loadable segments (pure parsing).

Accepts exactly what ``rtcr cc`` produces: a static, non-PIE x86-64 ELF64
executable with page-aligned PT_LOAD segments that do not share pages.
Everything else is refused with one clear :class:`rtcr.errors.ElfError`.
"""

from __future__ import annotations

import io
import itertools
import struct
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError as _PyElfError
from elftools.elf.elffile import ELFFile

from rtcr.errors import ElfError

PAGE_SIZE = 0x1000
MIN_VADDR = 0x10000
MAX_VADDR = 1 << 47

_ELF_MAGIC = b"\x7fELF"
_ELFCLASS64 = 2
_ELFDATA2LSB = 1
_EM_X86_64 = 62
_PF_X = 1
_PF_W = 2

_MACHINE_NAMES = {
    3: "x86 (i386)",
    8: "MIPS",
    20: "PowerPC",
    21: "PowerPC64",
    40: "ARM",
    43: "SPARC V9",
    183: "AArch64",
    243: "RISC-V",
}


@dataclass(frozen=True)
class Segment:
    """One loadable segment, page-rounded.

    ``data`` (the file content) goes at ``data_offset`` within the segment;
    the rest of ``size`` bytes (bss, page padding) is zero.
    """

    vaddr: int
    size: int
    data: bytes
    data_offset: int
    writeable: bool
    executable: bool

    @property
    def end(self) -> int:
        return self.vaddr + self.size

    def content(self) -> bytes:
        """The segment's bytes as loaded: the file content at its offset, zeros around it."""
        content = bytearray(self.size)
        content[self.data_offset:self.data_offset + len(self.data)] = self.data
        return bytes(content)

    def rom_name(self, image: str, number: int) -> str:
        """The name of the ROM a read-only segment (number ``number`` of ``image``) becomes."""
        return f"{image}:segment{number}"


@dataclass(frozen=True)
class ElfImage:
    name: str
    entry: int
    segments: tuple[Segment, ...]


def _round_down(x: int) -> int:
    return x & ~(PAGE_SIZE - 1)


def _round_up(x: int) -> int:
    return (x + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)


def read_elf_file(path: Path) -> bytes:
    """The bytes of the ELF file at ``path`` (an unreadable one is one ElfError line)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ElfError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ElfError(f"{path}: is a directory, not an ELF file") from None
    except OSError as exc:
        raise ElfError(f"{path}: cannot read: {exc.strerror or exc}") from None


def load_elf(path: Path | str) -> ElfImage:
    """Read and parse the ELF file at ``path``; the image is named after its stem."""
    p = Path(path)
    return parse_elf(read_elf_file(p), p.stem, where=str(p))


def _check_header(data: bytes, where: str) -> None:
    if len(data) < 4 or data[:4] != _ELF_MAGIC:
        raise ElfError(f"{where}: not an ELF file")
    if len(data) < 6:
        raise ElfError(f"{where}: truncated ELF file (header incomplete)")
    if data[4] != _ELFCLASS64:
        cls = {1: "32-bit"}.get(data[4], f"class {data[4]}")
        raise ElfError(f"{where}: {cls} ELF; rtcr runs 64-bit x86-64 executables only")
    if data[5] != _ELFDATA2LSB:
        raise ElfError(f"{where}: big-endian ELF; rtcr runs little-endian x86-64 executables only")
    if len(data) < 64:
        raise ElfError(f"{where}: truncated ELF file (header incomplete)")
    e_type, e_machine = struct.unpack_from("<HH", data, 16)
    if e_machine != _EM_X86_64:
        arch = _MACHINE_NAMES.get(e_machine, f"machine {e_machine}")
        raise ElfError(f"{where}: ELF for {arch}, not x86-64")
    if e_type == 3:
        raise ElfError(
            f"{where}: position-independent (ET_DYN/PIE) ELF; "
            "rtcr needs a static non-PIE executable (build it with `rtcr cc`)"
        )
    if e_type != 2:
        kind = {0: "ET_NONE", 1: "relocatable object (ET_REL)", 4: "core file"}.get(
            e_type, f"type {e_type}"
        )
        raise ElfError(f"{where}: {kind}, not an executable (ET_EXEC)")
    phoff = struct.unpack_from("<Q", data, 32)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    if phnum and phentsize != 56:
        raise ElfError(f"{where}: malformed ELF (program header entry size {phentsize})")
    if phoff + phnum * 56 > len(data):
        raise ElfError(f"{where}: truncated ELF file (program headers missing)")


def parse_elf(data: bytes, name: str, *, where: str | None = None) -> ElfImage:
    """Parse an ELF image held in memory; errors name ``where`` (default ``name``)."""
    where = where or name
    _check_header(data, where)
    try:
        elf = ELFFile(io.BytesIO(data))
        segments = list(elf.iter_segments())
    except (_PyElfError, struct.error, ValueError) as exc:
        raise ElfError(f"{where}: malformed ELF: {exc}") from None

    raw: list[tuple[int, int, int, int, int]] = []  # vaddr, memsz, offset, filesz, flags
    for seg in segments:
        ptype = seg["p_type"]
        if ptype == "PT_INTERP":
            raise ElfError(f"{where}: dynamically linked (has PT_INTERP); link it statically")
        if ptype == "PT_DYNAMIC":
            raise ElfError(f"{where}: has a dynamic section (PT_DYNAMIC); link it statically")
        if ptype == "PT_TLS" and seg["p_memsz"]:
            raise ElfError(f"{where}: uses thread-local storage (PT_TLS), which rtcr lacks")
        if ptype != "PT_LOAD" or seg["p_memsz"] == 0:
            continue
        raw.append(
            (seg["p_vaddr"], seg["p_memsz"], seg["p_offset"], seg["p_filesz"], seg["p_flags"])
        )
    if not raw:
        raise ElfError(f"{where}: no loadable segments")

    result: list[Segment] = []
    for vaddr, memsz, offset, filesz, flags in raw:
        if filesz > memsz:
            raise ElfError(f"{where}: malformed segment at {vaddr:#x} (file size > memory size)")
        if offset + filesz > len(data):
            raise ElfError(
                f"{where}: truncated ELF file (segment at {vaddr:#x} needs bytes up to "
                f"{offset + filesz:#x}, file has {len(data):#x})"
            )
        start = _round_down(vaddr)
        end = _round_up(vaddr + memsz)
        if start < MIN_VADDR:
            raise ElfError(
                f"{where}: segment at {vaddr:#x} lies below {MIN_VADDR:#x} (the null-page guard)"
            )
        if end > MAX_VADDR:
            raise ElfError(f"{where}: segment at {vaddr:#x} reaches above {MAX_VADDR:#x}")
        result.append(
            Segment(
                vaddr=start,
                size=end - start,
                data=bytes(data[offset : offset + filesz]),
                data_offset=vaddr - start,
                writeable=bool(flags & _PF_W),
                executable=bool(flags & _PF_X),
            )
        )
    result.sort(key=lambda s: s.vaddr)
    for a, b in itertools.pairwise(result):
        if b.vaddr < a.end:
            raise ElfError(
                f"{where}: segments at {a.vaddr:#x} and {b.vaddr:#x} overlap after page "
                "rounding (each segment must start on its own page)"
            )
    entry = elf.header["e_entry"]
    if not any(s.executable and s.vaddr <= entry < s.end for s in result):
        raise ElfError(f"{where}: entry point {entry:#x} is not inside an executable segment")
    return ElfImage(name=name, entry=entry, segments=tuple(result))
