"""The compilers rtcr uses: finding them, running them, building native helpers.

rtcr's one compiler finder (the SDK's component builds in ``toolchain`` and
the machine's and the store's native helpers use it). The C compiler is, in
this order: the one asked for (``--cc`` / ``compiler``), ``$RTCR_CC``, then
``cc``, ``gcc``, ``clang`` on ``PATH``, and finally ``python -m ziglang cc``
when the ``ziglang`` package is installed. The C++ compiler: the one asked
for (``--cxx``), ``$RTCR_CXX``, then ``g++``, ``clang++``, ``c++``. A
compiler given as a string may carry arguments (``RTCR_CC="python -m
ziglang cc"``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rtcr.errors import ToolchainError

COMPILE_TIMEOUT_S = 300

INSTALL_HINT = (
    "no C compiler found (tried $RTCR_CC, cc, gcc, clang, python -m ziglang cc); "
    "install one with `apt-get install gcc`, or `pip install ziglang` "
    "(then rtcr uses `python -m ziglang cc`), or name one with --cc / $RTCR_CC"
)

CXX_INSTALL_HINT = (
    "no C++ compiler found (tried $RTCR_CXX, g++, clang++, c++); install one with "
    "`apt-get install g++`, or name one with --cxx / $RTCR_CXX"
)


NOT_FOUND_HINT = (
    "not on PATH: install it (`apt-get install clang` brings clang and clang++), or name "
    "another with --cc/--cxx or $RTCR_CC/$RTCR_CXX, or none for the default (cc, g++)"
)


class CompileError(ToolchainError):
    """The compiler ran and failed; ``stderr`` holds its diagnostics."""

    def __init__(self, message: str, stderr: str) -> None:
        super().__init__(message)
        self.stderr = stderr


@dataclass(frozen=True)
class Compiler:
    """A compiler command line prefix and its family (gcc, clang or zig)."""

    command: tuple[str, ...]
    family: str

    @property
    def name(self) -> str:
        return " ".join(self.command)


def cache_dir() -> Path:
    """Where compiled helpers live: ``$RTCR_CACHE_DIR``, default ``~/.cache/rtcr``."""
    env = os.environ.get("RTCR_CACHE_DIR")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "rtcr"


def build_shared_library(source: Path, *, key: Sequence[bytes] = (),
                         optimize: str = "-O2") -> Path:
    """Compile the C file `source` into a shared library, once, and return its path.

    The helpers that run on hot paths (the machine's instruction counter and
    software TLB, the store's page codec) are a few hundred lines of C built
    on first use with the compiler the SDK needs anyway, so the package ships
    no binaries. The library is cached in `cache_dir()` by a hash of the
    source, the compiler, the platform and the caller's `key` (e.g. the
    unicorn version), and written atomically so that parallel processes
    never race. Raises ToolchainError without a compiler and
    subprocess.CalledProcessError when the compile fails.
    """
    text = source.read_bytes()
    cc = find_compiler().command
    digest = hashlib.sha256()
    for part in (text, " ".join(cc).encode(), platform.machine().encode(),
                 sys.platform.encode(), *key):
        digest.update(part)
        digest.update(b"\0")
    target_dir = cache_dir()
    target = target_dir / f"{source.stem}-{digest.hexdigest()[:20]}.so"
    if target.exists():
        return target
    target_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{source.stem}-", suffix=".so", dir=target_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with tempfile.TemporaryDirectory(prefix=f"rtcr-{source.stem}-") as build_dir:
            copy = Path(build_dir) / source.name
            copy.write_bytes(text)
            subprocess.run([*cc, optimize, "-shared", "-fPIC", "-o", str(tmp), str(copy)],
                           check=True, capture_output=True, timeout=COMPILE_TIMEOUT_S)
        os.replace(tmp, target)  # atomic: concurrent builders all produce the same file
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def _family(command: Sequence[str]) -> str:
    if "ziglang" in command or Path(command[0]).name == "zig":
        return "zig"
    text = version_text(command)
    if "clang" in text.lower():
        return "clang"
    return "gcc"


def version_text(command: Sequence[str]) -> str:
    try:
        out = subprocess.run(
            [*command, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolchainError(f"compiler {' '.join(command)!r} cannot run: {exc}") from exc
    return out.stdout + out.stderr


def _resolve(spec: str) -> tuple[str, ...]:
    parts = shlex.split(spec)
    if not parts:
        raise ToolchainError("empty compiler name")
    exe = shutil.which(parts[0])
    if exe is None:
        raise ToolchainError(f"compiler not found: {parts[0]!r} ({NOT_FOUND_HINT})")
    return (exe, *parts[1:])


def _find(explicit: str | None, variable: str, names: tuple[str, ...]) -> Compiler | None:
    for spec in (explicit, os.environ.get(variable)):
        if spec:
            command = _resolve(spec)
            return Compiler(command, _family(command))
    for name in names:
        exe = shutil.which(name)
        if exe is not None:
            return Compiler((exe,), _family((exe,)))
    return None


def find_compiler(explicit: str | None = None) -> Compiler:
    """The C compiler to use: ``explicit``, ``$RTCR_CC``, cc, gcc, clang, ziglang."""
    found = _find(explicit, "RTCR_CC", ("cc", "gcc", "clang"))
    if found is not None:
        return found
    if importlib.util.find_spec("ziglang") is not None:
        return Compiler((sys.executable, "-m", "ziglang", "cc"), "zig")
    raise ToolchainError(INSTALL_HINT)


def find_cxx_compiler(explicit: str | None = None) -> Compiler:
    """The C++ compiler to use: ``explicit``, ``$RTCR_CXX``, g++, clang++, c++."""
    found = _find(explicit, "RTCR_CXX", ("g++", "clang++", "c++"))
    if found is None:
        raise ToolchainError(CXX_INSTALL_HINT)
    return found


def run_compiler(cmd: Sequence[str], what: str, compiler: Compiler) -> str:
    """Run one compiler step; its stderr (warnings) on success, CompileError otherwise."""
    try:
        proc = subprocess.run(
            list(cmd), capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError(f"{compiler.name} timed out after {COMPILE_TIMEOUT_S} s") from exc
    except OSError as exc:
        raise ToolchainError(f"cannot run compiler {compiler.name!r}: {exc}") from exc
    if proc.returncode != 0:
        raise CompileError(
            f"{what} failed ({Path(compiler.command[0]).name} exit status {proc.returncode})",
            proc.stderr,
        )
    return proc.stderr
