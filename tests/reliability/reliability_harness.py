"""Shared helpers of the reliability tests and of `scripts/soak`.

- building the test components (`components/*.c`) once per process;
- the fuzz component's seed and call count live in a 32-byte record after a
  16-byte magic in its ELF file (`fuzz_config` in fuzz.c), so one compile
  serves every seed: `patch_fuzz` rewrites the two words;
- running a component on a bare machine or under the checkpoint runtime
  with its LOG lines captured;
- whole-machine invariants checked from the host (`machine_violations`).
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rtcr.core import Core, Dataspace, RomDataspace
from rtcr.machine import Component, Machine
from rtcr.toolchain import compile_component

HERE = Path(__file__).resolve().parent
COMPONENTS = HERE / "components"
ROOT = HERE.parent.parent

FUZZ_MAGIC = struct.pack("<QQ", 0x5A5A46555A5A4352, 0x4749464E4F435A5A)
DONE_RE = re.compile(r"done calls=(\d+) ck=([0-9a-f]{16}) violations=(\d+)")

_built: dict[tuple[str, tuple[str, ...]], Path] = {}
_build_dir: Path | None = None


def build_dir() -> Path:
    global _build_dir
    if _build_dir is None:
        _build_dir = Path(tempfile.mkdtemp(prefix="rtcr-reliability-"))
    return _build_dir


def component(name: str, *defines: str) -> Path:
    """The ELF of `components/NAME.c` (compiled once per process and define set)."""
    key = (name, defines)
    if key not in _built:
        suffix = "".join(f"-{d.replace('=', '_')}" for d in defines)
        out = build_dir() / f"{name}{suffix}.elf"
        _built[key] = compile_component([COMPONENTS / f"{name}.c"], out,
                                        extra_flags=[f"-D{d}" for d in defines])
    return _built[key]


def patch_fuzz(elf: Path, seed: int, calls: int, out: Path) -> Path:
    """A copy of the fuzz ELF configured for `seed` and `calls`."""
    data = bytearray(elf.read_bytes())
    at = data.find(FUZZ_MAGIC)
    if at < 0 or data.find(FUZZ_MAGIC, at + 1) >= 0:
        raise AssertionError("fuzz_config magic not found exactly once in the ELF")
    data[at + 16:at + 32] = struct.pack("<QQ", seed, calls)
    out.write_bytes(bytes(data))
    return out


@dataclass
class FuzzOutcome:
    calls: int
    checksum: str
    violations: list[str]
    lines: list[str] = field(repr=False)

    @property
    def checksums(self) -> list[str]:
        return [line for line in self.lines if line.startswith("ck ")]


def parse_fuzz(lines: list[str]) -> FuzzOutcome:
    """The fuzz component's verdict; AssertionError if it never finished."""
    violations = [line for line in lines if line.startswith("VIOLATION")]
    done = [m for m in map(DONE_RE.search, lines) if m]
    if not done:
        tail = "\n".join(lines[-5:])
        raise AssertionError(f"fuzz component did not finish; last lines:\n{tail}")
    m = done[-1]
    if int(m.group(3)) != len(violations):
        violations.append(f"component counted {m.group(3)} violations")
    return FuzzOutcome(int(m.group(1)), m.group(2), violations, lines)


class Lines:
    """A log sink keeping (component name, line)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def __call__(self, component: Component, line: str) -> None:
        self.lines.append((component.name, line))

    def of(self, name: str) -> list[str]:
        return [line for who, line in self.lines if who == name]


# ---------------------------------------------------------------- invariants


def _live_dataspaces(core: Core) -> list[Dataspace]:
    out: list[Dataspace] = []
    for pd in core.pds():
        out.extend(pd.ram_dataspaces())
    out.extend(rom for rom in core.roms() if isinstance(rom, RomDataspace) and rom.valid)
    return out


def core_violations(core: Core) -> list[str]:
    """Quota conservation and the no-alias rule, over every PD of `core`."""
    problems: list[str] = []
    for pd in core.pds():
        if pd.used_ram() + pd.avail_ram() != pd.ram_quota():
            problems.append(f"{pd.name}: RAM used {pd.used_ram()} + avail {pd.avail_ram()} "
                            f"!= quota {pd.ram_quota()}")
        if pd.used_caps() + pd.avail_caps() != pd.cap_quota():
            problems.append(f"{pd.name}: caps used + avail != quota")
        if pd.used_caps() != pd.cap_space.charged:
            problems.append(f"{pd.name}: {pd.used_caps()} caps charged, "
                            f"{pd.cap_space.charged} selectors held")
        live = sum(ds.size for ds in pd.ram_dataspaces())
        if live != pd.used_ram():
            problems.append(f"{pd.name}: live RAM dataspaces hold {live} bytes, "
                            f"quota says {pd.used_ram()} used")
        if pd.avail_ram() < 0 or pd.avail_caps() < 0:
            problems.append(f"{pd.name}: negative quota")
    owner: dict[int, Dataspace] = {}
    for ds in _live_dataspaces(core):
        for i in range(ds.size // 4096):
            frame = ds.frame(i)
            other = owner.setdefault(frame, ds)
            if other is not ds:
                problems.append(f"frame {frame:#x} belongs to {other!r} and {ds!r}")
            elif sum(1 for j in range(ds.size // 4096) if ds.frame(j) == frame) > 1:
                problems.append(f"frame {frame:#x} appears twice in {ds!r}")
                break
    free = set(core.ram._free)
    if len(free) != len(core.ram._free):
        problems.append("a frame is on the free list twice")
    both = free & {f >> 12 for f in owner}
    if both:
        problems.append(f"{len(both)} frames are free and owned at once")
    if len(owner) + len(free) != core.ram.frame_count:
        problems.append(f"{core.ram.frame_count - len(owner) - len(free)} frames leaked "
                        "(neither free nor owned)")
    return problems


def machine_violations(machine: Machine) -> list[str]:
    return core_violations(machine.core)


# ---------------------------------------------------------------- CLI


def rtcr(*args: str, timeout: float = 120, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run the `rtcr` command line (as a module of this interpreter)."""
    proc: subprocess.CompletedProcess[str] = subprocess.run(  # type: ignore[call-overload]
        [sys.executable, "-m", "rtcr", *args], capture_output=True, text=True, timeout=timeout,
        check=False, **kwargs)
    return proc


__all__ = ["DONE_RE", "FUZZ_MAGIC", "FuzzOutcome", "Lines", "component", "core_violations",
           "machine_violations", "parse_fuzz", "patch_fuzz", "rtcr"]
