"""The ELF loader: what it accepts and every way it refuses."""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sdk_support import needs_cc

from rtcr.errors import ElfError, RtcrError
from rtcr.machine.elf import ElfImage, Segment, load_elf, parse_elf


def elf64_header(
    *, machine: int = 62, etype: int = 2, cls: int = 2, entry: int = 0x400000, phnum: int = 0
) -> bytes:
    ident = b"\x7fELF" + bytes([cls, 1, 1, 0]) + bytes(8)
    return ident + struct.pack(
        "<HHIQQQIHHHHHH",
        etype,
        machine,
        1,
        entry,
        64 if phnum else 0,
        0,
        0,
        64,
        56,
        phnum,
        64,
        0,
        0,
    )


def phdr(ptype: int, flags: int, offset: int, vaddr: int, filesz: int, memsz: int) -> bytes:
    return struct.pack("<IIQQQQQQ", ptype, flags, offset, vaddr, vaddr, filesz, memsz, 0x1000)


def tiny_elf(
    segments: list[tuple[int, int, int, int]],
    entry: int = 0x400000,
    extra: list[bytes] | None = None,
) -> bytes:
    """An ELF with PT_LOAD segments (vaddr, memsz, flags, filesz) whose data follows."""
    extra = extra or []
    n = len(segments) + len(extra)
    head = elf64_header(entry=entry, phnum=n)
    data_off = 64 + 56 * n
    phdrs = b""
    payload = b""
    for vaddr, memsz, flags, filesz in segments:
        phdrs += phdr(1, flags, data_off + len(payload), vaddr, filesz, memsz)
        payload += bytes(range(256)) * (filesz // 256) + bytes(filesz % 256)
    return head + phdrs + b"".join(extra) + payload


def test_hand_made_elf_parses() -> None:
    img = parse_elf(tiny_elf([(0x400000, 0x100, 5, 0x100), (0x401000, 0x2800, 6, 0x10)]), "t")
    assert isinstance(img, ElfImage) and img.name == "t" and img.entry == 0x400000
    text, data = img.segments
    assert text == Segment(0x400000, 0x1000, text.data, 0, False, True)
    assert len(text.data) == 0x100
    assert data.vaddr == 0x401000 and data.size == 0x3000 and data.writeable
    assert not data.executable


def test_unaligned_segment_is_page_rounded() -> None:
    img = parse_elf(tiny_elf([(0x400000, 0x10, 5, 0x10), (0x401234, 0x100, 6, 0x20)]), "t")
    seg = img.segments[1]
    assert seg.vaddr == 0x401000 and seg.data_offset == 0x234 and seg.size == 0x1000


def expect(data: bytes, fragment: str) -> None:
    with pytest.raises(ElfError) as info:
        parse_elf(data, "bad")
    msg = str(info.value)
    assert fragment in msg, msg
    assert "\n" not in msg
    assert isinstance(info.value, RtcrError)


def test_text_file(tmp_path: Path) -> None:
    p = tmp_path / "notes.elf"
    p.write_text("hello, I am not an ELF\n")
    with pytest.raises(ElfError, match="not an ELF file"):
        load_elf(p)


def test_empty_and_missing(tmp_path: Path) -> None:
    expect(b"", "not an ELF")
    with pytest.raises(ElfError, match="no such file"):
        load_elf(tmp_path / "missing.elf")
    with pytest.raises(ElfError, match="directory"):
        load_elf(tmp_path)


def test_32bit() -> None:
    ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)
    data = ident + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, 0x8048000, 52, 0, 0, 52, 32, 0, 40, 0, 0)
    expect(data, "32-bit")


def test_big_endian() -> None:
    expect(b"\x7fELF\x02\x02\x01" + bytes(57), "big-endian")


@pytest.mark.parametrize(("machine", "name"), [(183, "AArch64"), (40, "ARM"), (243, "RISC-V")])
def test_foreign_architecture(machine: int, name: str) -> None:
    expect(elf64_header(machine=machine), name)


def test_pie_header() -> None:
    expect(elf64_header(etype=3), "PIE")


def test_relocatable_object() -> None:
    expect(elf64_header(etype=1), "not an executable")


def test_truncated_header() -> None:
    expect(elf64_header()[:40], "truncated")


def test_truncated_program_headers() -> None:
    data = tiny_elf([(0x400000, 0x100, 5, 0x100)])
    expect(data[:80], "truncated")


def test_truncated_segment_data() -> None:
    data = tiny_elf([(0x400000, 0x1000, 5, 0x1000)])
    expect(data[:-100], "truncated")


def test_no_loadable_segments() -> None:
    expect(elf64_header(phnum=0), "no loadable segments")


def test_interp_and_dynamic() -> None:
    interp = phdr(3, 4, 0, 0x400000, 0, 0)
    dynamic = phdr(2, 6, 0, 0x400000, 0, 0)
    expect(tiny_elf([(0x400000, 0x100, 5, 0x100)], extra=[interp]), "PT_INTERP")
    expect(tiny_elf([(0x400000, 0x100, 5, 0x100)], extra=[dynamic]), "PT_DYNAMIC")


def test_overlap_after_rounding() -> None:
    expect(tiny_elf([(0x400000, 0x100, 5, 0x100), (0x400800, 0x100, 6, 0x10)]), "overlap")


def test_low_and_high_segments() -> None:
    expect(tiny_elf([(0x1000, 0x100, 5, 0x100)], entry=0x1000), "below")
    expect(tiny_elf([(1 << 47, 0x100, 5, 0x100)], entry=1 << 47), "above")
    expect(tiny_elf([((1 << 47) - 0x1000, 0x2000, 5, 0x100)], entry=(1 << 47) - 0x1000), "above")


def test_entry_outside_executable_segment() -> None:
    segs = [(0x400000, 0x100, 5, 0x100), (0x401000, 0x100, 6, 0x10)]
    expect(tiny_elf(segs, entry=0x401000), "entry point")
    expect(tiny_elf(segs, entry=0x900000), "entry point")


@needs_cc
def test_real_component_variants(compiled_example: Callable[[str], Path]) -> None:
    good = compiled_example("hello").read_bytes()
    parse_elf(good, "hello")
    # truncated file
    expect(good[: len(good) // 3], "truncated")
    # rewrite the first program header's type: PT_INTERP, PT_DYNAMIC
    phoff = struct.unpack_from("<Q", good, 32)[0]
    for ptype, what in ((3, "PT_INTERP"), (2, "PT_DYNAMIC")):
        bad = bytearray(good)
        struct.pack_into("<I", bad, phoff, ptype)
        expect(bytes(bad), what)
    # entry pointing into the data segment
    bad = bytearray(good)
    struct.pack_into("<Q", bad, 24, 0x10)
    expect(bytes(bad), "entry point")


C_MAIN = "void _start(void) { for (;;) ; }\n"


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no gcc")
def test_compiled_pie_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "p.c"
    src.write_text(C_MAIN)
    out = tmp_path / "p.elf"
    subprocess.run(
        ["gcc", "-fpie", "-pie", "-nostdlib", "-ffreestanding", "-o", str(out), str(src)],
        check=True,
        capture_output=True,
    )
    with pytest.raises(ElfError, match="PIE"):
        load_elf(out)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no gcc")
def test_compiled_dynamic_executable_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "d.c"
    src.write_text("int main(void) { return 0; }\n")
    out = tmp_path / "d.elf"
    proc = subprocess.run(
        ["gcc", "-no-pie", "-fno-pie", "-o", str(out), str(src)], capture_output=True
    )
    if proc.returncode != 0:
        pytest.skip("no host libc to link against")
    with pytest.raises(ElfError, match=r"PT_INTERP|PT_DYNAMIC"):
        load_elf(out)
