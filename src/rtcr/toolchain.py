"""Compile C components against the rtcr SDK (``rtcr cc``).

The system C compiler builds a static, non-PIE x86-64 ELF from the
component's sources plus the SDK's crt0, tiny libc and linker script (see
``rtcr/sdk``).  The compiler is, in this order: the one asked for (``--cc`` /
the ``compiler`` argument), ``$RTCR_CC``, then ``cc``, ``gcc``, ``clang`` on
``PATH``, and finally ``python -m ziglang cc`` when the ``ziglang`` package
is installed.  A compiler given as a string may carry arguments
(``RTCR_CC="python -m ziglang cc"``).
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rtcr import sdk
from rtcr.errors import ToolchainError

#: Flags every component is compiled with.
BASE_FLAGS: tuple[str, ...] = (
    "-std=gnu11",
    "-ffreestanding",
    "-nostdlib",
    "-static",
    "-fno-pie",
    "-no-pie",
    "-fno-stack-protector",
    "-fno-asynchronous-unwind-tables",
    "-fno-unwind-tables",
    "-fcf-protection=none",
    "-mno-red-zone",
    "-fno-common",
    "-g0",
    "-Wl,--build-id=none",
    "-Wl,-z,max-page-size=0x1000",
    "-Wl,-z,noexecstack",
)

#: Extra flags for GCC only: keep it from turning the libc's own loops into
#: calls to memset/memcpy (which would recurse).
GCC_FLAGS: tuple[str, ...] = ("-fno-tree-loop-distribute-patterns",)

#: Extra flags for ``zig cc``: a freestanding x86-64 Linux-ABI target.
ZIG_FLAGS: tuple[str, ...] = ("-target", "x86_64-linux-musl")

COMPILE_TIMEOUT_S = 300

INSTALL_HINT = (
    "no C compiler found (tried $RTCR_CC, cc, gcc, clang, python -m ziglang cc); "
    "install one with `apt-get install gcc`, or `pip install ziglang` "
    "(then rtcr uses `python -m ziglang cc`), or name one with --cc / $RTCR_CC"
)


class CompileError(ToolchainError):
    """The compiler ran and failed; ``stderr`` holds its diagnostics."""

    def __init__(self, message: str, stderr: str) -> None:
        super().__init__(message)
        self.stderr = stderr


@dataclass(frozen=True)
class Compiler:
    """A C compiler command line prefix and its family (gcc, clang or zig)."""

    command: tuple[str, ...]
    family: str

    @property
    def name(self) -> str:
        return " ".join(self.command)


def _family(command: Sequence[str]) -> str:
    if "ziglang" in command or Path(command[0]).name == "zig":
        return "zig"
    try:
        out = subprocess.run(
            [*command, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolchainError(f"C compiler {' '.join(command)!r} cannot run: {exc}") from exc
    text = out.stdout + out.stderr
    if "clang" in text.lower():
        return "clang"
    return "gcc"


def _resolve(spec: str) -> tuple[str, ...]:
    parts = shlex.split(spec)
    if not parts:
        raise ToolchainError("empty C compiler name")
    exe = shutil.which(parts[0])
    if exe is None:
        raise ToolchainError(f"C compiler not found: {parts[0]!r}")
    return (exe, *parts[1:])


def find_compiler(explicit: str | None = None) -> Compiler:
    """The compiler to use: ``explicit``, ``$RTCR_CC``, cc, gcc, clang, ziglang."""
    for spec in (explicit, os.environ.get("RTCR_CC")):
        if spec:
            command = _resolve(spec)
            return Compiler(command, _family(command))
    for name in ("cc", "gcc", "clang"):
        exe = shutil.which(name)
        if exe is not None:
            return Compiler((exe,), _family((exe,)))
    if importlib.util.find_spec("ziglang") is not None:
        return Compiler((sys.executable, "-m", "ziglang", "cc"), "zig")
    raise ToolchainError(INSTALL_HINT)


def _opt_flag(opt: str) -> str:
    level = opt.lstrip("-")
    if level.startswith("O"):
        level = level[1:]
    if level not in {"0", "1", "2", "3", "s", "z", "g", "fast"}:
        raise ToolchainError(f"unknown optimisation level {opt!r} (use 0, 1, 2, 3, s, z or g)")
    return f"-O{level}"


def compile_command(
    compiler: Compiler,
    sources: Sequence[Path],
    output: Path,
    *,
    opt: str = "-O2",
    extra_flags: Iterable[str] = (),
) -> list[str]:
    """The full compiler command line for a component."""
    flags = list(BASE_FLAGS)
    if compiler.family == "gcc":
        flags += GCC_FLAGS
    elif compiler.family == "zig":
        flags += ZIG_FLAGS
    return [
        *compiler.command,
        *flags,
        _opt_flag(opt),
        *extra_flags,
        f"-I{sdk.INCLUDE_DIR}",
        *(str(s) for s in sources),
        str(sdk.CRT0),
        *(str(s) for s in sdk.LIBC_SOURCES),
        "-T",
        str(sdk.LINKER_SCRIPT),
        "-o",
        str(output),
    ]


def compile_component(
    sources: Sequence[Path | str],
    output: Path | str,
    *,
    opt: str = "-O2",
    extra_flags: Iterable[str] = (),
    compiler: str | None = None,
    on_diagnostics: Callable[[str], None] | None = None,
) -> Path:
    """Compile ``sources`` with the SDK into the static ELF ``output``.

    ``extra_flags`` go to the compiler before the sources (``-I``, ``-D``,
    ...).  Warnings of a successful compile go to ``on_diagnostics``.
    Raises :class:`ToolchainError` (no compiler, missing source) or
    :class:`CompileError` (the compiler failed; its stderr attached).
    """
    srcs = [Path(s) for s in sources]
    if not srcs:
        raise ToolchainError("no source files given")
    for src in srcs:
        if not src.is_file():
            raise ToolchainError(f"source file not found: {src}")
    out = Path(output)
    if out.is_dir():
        raise ToolchainError(f"output is a directory: {out}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ToolchainError(f"cannot create the output directory {out.parent}: "
                             f"{exc.strerror or exc}") from exc
    cc = find_compiler(compiler)
    cmd = compile_command(cc, srcs, out, opt=opt, extra_flags=extra_flags)
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError(f"{cc.name} timed out after {COMPILE_TIMEOUT_S} s") from exc
    except OSError as exc:
        raise ToolchainError(f"cannot run C compiler {cc.name!r}: {exc}") from exc
    if proc.returncode != 0:
        what = ", ".join(str(s) for s in srcs)
        raise CompileError(
            f"compiling {what} failed ({Path(cc.command[0]).name} exit status {proc.returncode})",
            proc.stderr,
        )
    if proc.stderr.strip() and on_diagnostics is not None:
        on_diagnostics(proc.stderr)
    return out
