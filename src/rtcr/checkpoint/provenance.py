"""Where a checkpoint comes from, and whether this rtcr may continue it.

Every checkpoint records its *provenance*: the component's ELF (absolute
path, SHA-256 of the file, GNU build-id if it has one, and the layout the
image depends on: entry point and every loadable segment's address, size
and rights), the rtcr version that wrote it, the guest-ABI version and the
CPU model the component ran on. A restore compares it with what is here
now (`mismatch`) and refuses a difference with one line, because the
component would continue on something other than what it was running on:

- the guest ABI (`rtcr.abi.ABI_VERSION`) or the CPU model differs: the
  component's code made system calls and instruction choices for the old
  one;
- the ELF at the recorded path exists and has another hash: the binary
  was rebuilt, and the user probably expects the new code to run (a
  restore always continues the *checkpointed* code; `--binary` swaps it).

A different rtcr version alone is no refusal: what compatibility depends
on, the image format (checked by the restorer) and the guest ABI, are
checked on their own, and refusing every release would strand every
checkpoint at each upgrade. A missing ELF is no refusal either: the
checkpoint holds every segment.

`layout_difference` is the check of a restore onto a rebuilt binary
(`restore --binary`): the read-only segments (code, constants) are taken
from the new ELF, the writable ones (data, bss, heap) stay as
checkpointed, so the new ELF must have the same entry point and the same
segments -- addresses, page-rounded sizes, rights -- or the state would
not fit it. Whether the code at the addresses in the threads' registers
and stacks still means the same is what the user vouches for by asking.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elftools.common.exceptions import ELFError as _PyElfError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import NoteSection

from rtcr import __version__
from rtcr.abi import ABI_VERSION
from rtcr.errors import RtcrError
from rtcr.machine import ElfImage, parse_elf, read_elf_file
from rtcr.machine.cpu import CPU_MODEL_NAME

#: The manifest key holding the provenance (absent in checkpoints of older rtcr versions).
MANIFEST_KEY = "provenance"


def _rights(writeable: bool, executable: bool) -> str:
    return "r" + ("w" if writeable else "-") + ("x" if executable else "-")


@dataclass(frozen=True)
class SegmentLayout:
    """One loadable segment as the image depends on it: where, how big, which rights."""

    vaddr: int
    size: int
    rights: str

    def describe(self) -> str:
        return f"[{self.vaddr:#x}, {self.vaddr + self.size:#x}) {self.rights}"


@dataclass(frozen=True)
class Binary:
    """The component's ELF file: where it was, what it was, and its layout."""

    path: str
    sha256: str
    build_id: str | None
    entry: int
    segments: tuple[SegmentLayout, ...]

    @property
    def name(self) -> str:
        return Path(self.path).name

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "build_id": self.build_id,
                "entry": self.entry,
                "segments": [[s.vaddr, s.size, s.rights] for s in self.segments]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Binary:
        return cls(str(data["path"]), str(data["sha256"]), data.get("build_id"),
                   int(data["entry"]),
                   tuple(SegmentLayout(int(v), int(n), str(r)) for v, n, r in data["segments"]))


def _build_id(data: bytes) -> str | None:
    """The GNU build-id note of an ELF, as hex (None: it has none)."""
    try:
        for section in ELFFile(io.BytesIO(data)).iter_sections():
            if not isinstance(section, NoteSection):
                continue
            for note in section.iter_notes():
                if note["n_type"] == "NT_GNU_BUILD_ID":
                    return str(note["n_desc"])
    except (_PyElfError, ValueError, KeyError):
        return None
    return None


def read_binary(path: Path | str) -> tuple[Binary, ElfImage]:
    """Read the ELF at ``path`` once: its identity and its parsed image (ElfError if bad)."""
    p = Path(path)
    data = read_elf_file(p)
    image = parse_elf(data, p.stem, where=str(p))
    binary = Binary(str(p.resolve()), hashlib.sha256(data).hexdigest(), _build_id(data),
                    image.entry,
                    tuple(SegmentLayout(s.vaddr, s.size, _rights(s.writeable, s.executable))
                          for s in image.segments))
    return binary, image


@dataclass(frozen=True)
class Provenance:
    """What a checkpoint was taken of and with (see the module docstring)."""

    binary: Binary | None  # None: the component was started from an image in memory
    rtcr: str
    abi: int
    cpu: str

    def as_json(self) -> dict[str, Any]:
        return {"binary": None if self.binary is None else self.binary.as_json(),
                "rtcr": self.rtcr, "abi": self.abi, "cpu": self.cpu}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Provenance:
        binary = data.get("binary")
        return cls(None if binary is None else Binary.from_json(binary), str(data["rtcr"]),
                   int(data["abi"]), str(data["cpu"]))


def current(binary: Binary | None) -> Provenance:
    """The provenance of checkpoints this rtcr takes of ``binary``."""
    return Provenance(binary, __version__, ABI_VERSION, CPU_MODEL_NAME)


def recorded(manifest: dict[str, Any]) -> Provenance | None:
    """The provenance a manifest records (None: taken before rtcr recorded it)."""
    data = manifest.get(MANIFEST_KEY)
    return None if data is None else Provenance.from_json(data)


def _short(digest: str) -> str:
    return digest[:12] + "…"


def file_sha256(path: Path) -> str | None:
    """The SHA-256 of the file at ``path`` (None: it cannot be read)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class IncompatibleCheckpoint(RtcrError):
    """A restore refused: the checkpoint's provenance does not match (one line: what).

    ``rebuilt``: what differs is the ELF file, so a restore onto the rebuilt
    binary may be asked for; ``forceable``: forcing the restore is possible
    (a layout that does not fit a rebuilt binary cannot be forced).
    """

    def __init__(self, what: str, *, rebuilt: bool = False, forceable: bool = True) -> None:
        super().__init__(what)
        self.rebuilt = rebuilt
        self.forceable = forceable


@dataclass(frozen=True)
class Mismatch:
    """What differs between a checkpoint's provenance and here (see `mismatch`)."""

    what: str
    rebuilt: bool  # the ELF at the recorded path was rebuilt

    def refusal(self) -> IncompatibleCheckpoint:
        return IncompatibleCheckpoint(self.what, rebuilt=self.rebuilt)


def mismatch(provenance: Provenance | None, checkpoint_id: int, *,
             check_binary: bool = True) -> Mismatch | None:
    """What differs between checkpoint ``checkpoint_id``'s provenance and this rtcr and host.

    One line, or None when it may be continued as it is (also when nothing
    was recorded). See the module docstring for what counts; the ELF is not
    compared without ``check_binary`` (a restore onto a rebuilt binary).
    """
    if provenance is None:
        return None
    here = current(None)
    if provenance.abi != here.abi:
        return Mismatch(f"checkpoint {checkpoint_id} was taken with guest ABI "
                        f"{provenance.abi} (rtcr {provenance.rtcr}); this rtcr {here.rtcr} "
                        f"speaks guest ABI {here.abi}", rebuilt=False)
    if provenance.cpu != here.cpu:
        return Mismatch(f"checkpoint {checkpoint_id} was taken on CPU model "
                        f"{provenance.cpu}; this rtcr emulates {here.cpu}", rebuilt=False)
    binary = provenance.binary
    if binary is None or not check_binary:
        return None
    now = file_sha256(Path(binary.path))
    if now is not None and now != binary.sha256:
        return Mismatch(f"checkpoint {checkpoint_id} was taken of {binary.name} sha256 "
                        f"{_short(binary.sha256)}; {binary.path} now has {_short(now)} "
                        "(rebuilt?)", rebuilt=True)
    return None


def layout_difference(old: Binary, new: Binary) -> str | None:
    """The first difference of ``new``'s layout from ``old``'s that a restore onto it
    cannot bridge (None: the checkpointed state fits ``new``)."""
    if new.entry != old.entry:
        return f"its entry point is {new.entry:#x}, the checkpointed binary's {old.entry:#x}"
    for number, (a, b) in enumerate(zip(old.segments, new.segments, strict=False)):
        if a != b:
            return (f"its segment {number} is {b.describe()}, the checkpointed binary's "
                    f"{a.describe()}")
    if len(new.segments) != len(old.segments):
        return (f"it has {len(new.segments)} loadable segments, the checkpointed binary "
                f"{len(old.segments)}")
    return None


def rebuilt_segments(provenance: Provenance | None, checkpoint_id: int, path: Path,
                     image_name: str) -> tuple[Binary, dict[str, bytes]]:
    """The rebuilt ELF at ``path`` and its read-only segments by ROM name, checked against
    checkpoint ``checkpoint_id``'s layout (`IncompatibleCheckpoint`: the first difference)."""
    binary, image = read_binary(path)
    if provenance is None or provenance.binary is None:
        raise IncompatibleCheckpoint(
            f"checkpoint {checkpoint_id} records no binary layout (taken by an older rtcr, "
            f"or of an image given in memory): {path} cannot be checked against it",
            forceable=False)
    difference = layout_difference(provenance.binary, binary)
    if difference is not None:
        raise IncompatibleCheckpoint(
            f"{path} does not fit checkpoint {checkpoint_id} of {provenance.binary.name}: "
            f"{difference}", forceable=False)
    return binary, {segment.rom_name(image_name, number): segment.content()
                    for number, segment in enumerate(image.segments) if not segment.writeable}


def describe(provenance: Provenance | None) -> str:
    """One line for people (``rtcr show``, ``rtcr inspect``)."""
    if provenance is None:
        return "provenance: not recorded (taken by an rtcr before provenance was recorded)"
    binary = provenance.binary
    what = "an ELF image given in memory" if binary is None else (
        f"{binary.path} sha256 {_short(binary.sha256)}"
        + (f" build-id {binary.build_id}" if binary.build_id else ""))
    return (f"provenance: {what}; rtcr {provenance.rtcr}, guest ABI {provenance.abi}, "
            f"CPU {provenance.cpu}")
