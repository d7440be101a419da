"""Compile components against the rtcr SDK (``rtcr cc``).

C components: the system C compiler builds a static, non-PIE x86-64 ELF
from the component's sources plus the SDK's crt0, libc and linker script
(see ``rtcr/sdk``) in one command.

C++ components (``.cc``, ``.cpp``, ``.cxx``, ``.C``; C++20 with exceptions,
RTTI and static constructors): every source is compiled to an object with
its own language's compiler, the SDK's C and C++ runtime and its Genode API
implementation are compiled once per compiler and SDK version into a cache
(`cache_dir`), and the C++ compiler links it all with GCC's own
``libsupc++.a``, ``libgcc_eh.a`` and ``libgcc.a`` from the compiler's
installation (``-print-file-name``); the project ships none of them.

The compilers are found and run by ``rtcr.compilers``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rtcr import sdk
from rtcr.compilers import (
    CompileError,
    Compiler,
    cache_dir,
    find_compiler,
    find_cxx_compiler,
    run_compiler,
    version_text,
)
from rtcr.errors import ToolchainError

#: Flags of both languages: a freestanding static executable for the machine.
COMMON_FLAGS: tuple[str, ...] = (
    "-static",
    "-fno-pie",
    "-fno-stack-protector",
    "-fcf-protection=none",
    "-mno-red-zone",
    "-fno-common",
    "-g0",
)

#: Flags of the final link, whatever the language. (``-static`` alone links a
#: non-PIE executable with gcc and clang; clang warns about a ``-no-pie`` beside it.)
LINK_FLAGS: tuple[str, ...] = (
    "-nostdlib",
    "-Wl,--build-id=none",
    "-Wl,-z,max-page-size=0x1000",
    "-Wl,-z,noexecstack",
)

#: Flags every C component is compiled with.
BASE_FLAGS: tuple[str, ...] = (
    "-std=gnu11",
    "-ffreestanding",
    *COMMON_FLAGS,
    "-fno-asynchronous-unwind-tables",
    "-fno-unwind-tables",
    *LINK_FLAGS,
)

#: Flags of C++ sources. Unwind tables stay (exceptions need them); static
#: executables get no .eh_frame_hdr unless asked for, and the SDK's
#: `_dl_find_object` hands the unwinder exactly that index.
CXX_FLAGS: tuple[str, ...] = ("-std=gnu++20", *COMMON_FLAGS)
CXX_LINK_FLAGS: tuple[str, ...] = (*COMMON_FLAGS, *LINK_FLAGS, "-Wl,--eh-frame-hdr")

#: GCC's C++ support libraries, linked from the compiler's own installation.
CXX_SUPPORT_LIBRARIES: tuple[str, ...] = ("libsupc++.a", "libgcc_eh.a", "libgcc.a")

CXX_SUFFIXES = frozenset({".cc", ".cpp", ".cxx", ".C", ".c++"})

#: Extra flags for GCC only: keep it from turning the libc's own loops into
#: calls to memset/memcpy (which would recurse).
GCC_FLAGS: tuple[str, ...] = ("-fno-tree-loop-distribute-patterns",)

#: Extra flags for ``zig cc``: a freestanding x86-64 Linux-ABI target.
ZIG_FLAGS: tuple[str, ...] = ("-target", "x86_64-linux-musl")

#: The SDK's own objects are always optimised the same way, whatever -O the
#: component asks for, so that one cached build serves every component.
SDK_OPT = "-O2"

def is_cxx_source(path: Path) -> bool:
    return path.suffix in CXX_SUFFIXES


def _opt_flag(opt: str) -> str:
    level = opt.lstrip("-")
    if level.startswith("O"):
        level = level[1:]
    if level not in {"0", "1", "2", "3", "s", "z", "g", "fast"}:
        raise ToolchainError(f"unknown optimisation level {opt!r} (use 0, 1, 2, 3, s, z or g)")
    return f"-O{level}"


def _c_flags(compiler: Compiler) -> list[str]:
    flags = list(BASE_FLAGS)
    if compiler.family == "gcc":
        flags += GCC_FLAGS
    elif compiler.family == "zig":
        flags += ZIG_FLAGS
    return flags


def compile_command(
    compiler: Compiler,
    sources: Sequence[Path],
    output: Path,
    *,
    opt: str = "-O2",
    extra_flags: Iterable[str] = (),
) -> list[str]:
    """The full compiler command line for a C component."""
    return [
        *compiler.command,
        *_c_flags(compiler),
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


def support_library(cxx: Compiler, name: str) -> Path:
    """The path of GCC's support library `name` in `cxx`'s installation."""
    out = subprocess.run([*cxx.command, f"-print-file-name={name}"], capture_output=True,
                         text=True, timeout=60, check=False)
    path = Path(out.stdout.strip())
    if out.returncode != 0 or not path.is_absolute() or not path.is_file():
        raise ToolchainError(f"{cxx.name} has no {name} (C++ components need GCC's "
                             f"libsupc++, libgcc_eh and libgcc; install g++)")
    return path


@dataclass(frozen=True)
class CxxRuntime:
    """The SDK compiled for C++ components: objects always linked, archives on demand."""

    objects: tuple[Path, ...]  # crt0, libc, C++ runtime
    genode: Path  # libgenode.a: main() and the Genode API, pulled in only when used


def _sdk_key(cc: Compiler, cxx: Compiler) -> str:
    key = hashlib.sha256()
    files = [sdk.CRT0, sdk.LINKER_SCRIPT, *sdk.LIBC_SOURCES, *sdk.CXX_SOURCES,
             *sdk.GENODE_SOURCES, *sorted(sdk.INCLUDE_DIR.rglob("*.h")),
             *sorted(sdk.GENODE_INCLUDE_DIR.rglob("*.h"))]
    for path in files:
        key.update(str(path.relative_to(sdk.SDK_DIR)).encode())
        key.update(path.read_bytes())
    for compiler in (cc, cxx):
        key.update(" ".join(compiler.command).encode())
        key.update(version_text(compiler.command).encode())
    key.update(" ".join((*CXX_FLAGS, *BASE_FLAGS, SDK_OPT)).encode())
    return key.hexdigest()[:20]


def cxx_runtime(cc: Compiler, cxx: Compiler) -> CxxRuntime:
    """Build (once per SDK version and compilers, cached) the SDK for C++ components."""
    target = cache_dir() / f"sdk-{_sdk_key(cc, cxx)}"
    c_objs = [target / f"{src.stem}.o" for src in (sdk.CRT0, *sdk.LIBC_SOURCES)]
    cxx_objs = [target / f"{src.stem}.o" for src in sdk.CXX_SOURCES]
    runtime = CxxRuntime(tuple(c_objs + cxx_objs), target / "libgenode.a")
    if runtime.genode.is_file():
        return runtime
    cache_dir().mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=".sdk-", dir=cache_dir()))
    try:
        c_flags = [flag for flag in _c_flags(cc) if flag not in LINK_FLAGS]
        for src in (sdk.CRT0, *sdk.LIBC_SOURCES):
            run_compiler([*cc.command, *c_flags, SDK_OPT, "-fno-builtin", f"-I{sdk.INCLUDE_DIR}",
                          "-c", str(src), "-o", str(build / f"{src.stem}.o")],
                         f"compiling the SDK's {src.name}", cc)
        genode_objs = []
        for src in (*sdk.CXX_SOURCES, *sdk.GENODE_SOURCES):
            obj = build / f"{src.stem}.o"
            run_compiler([*cxx.command, *CXX_FLAGS, SDK_OPT, f"-I{sdk.GENODE_INCLUDE_DIR}",
                          f"-I{sdk.INCLUDE_DIR}", "-c", str(src), "-o", str(obj)],
                         f"compiling the SDK's {src.name}", cxx)
            if src in sdk.GENODE_SOURCES:
                genode_objs.append(obj)
        archive = build / "libgenode.a"
        ar = shutil.which("ar") or shutil.which("gcc-ar")
        if ar is None:
            raise ToolchainError("no `ar` found to archive the Genode runtime (install binutils)")
        proc = subprocess.run([ar, "rcs", str(archive), *map(str, genode_objs)],
                              capture_output=True, text=True, timeout=60, check=False)
        if proc.returncode != 0:
            raise CompileError("archiving the Genode runtime failed", proc.stderr)
        try:
            os.replace(build, target)  # atomic: parallel builders produce the same files
        except OSError:
            if not runtime.genode.is_file():
                raise
    finally:
        shutil.rmtree(build, ignore_errors=True)  # gone already when the rename won
    return runtime


def _compile_cxx_component(srcs: Sequence[Path], out: Path, opt: str,
                           extra_flags: Sequence[str], cc: Compiler, cxx: Compiler) -> str:
    runtime = cxx_runtime(cc, cxx)
    libraries = [support_library(cxx, name) for name in CXX_SUPPORT_LIBRARIES]
    diagnostics: list[str] = []
    with tempfile.TemporaryDirectory(prefix="rtcr-cc-") as tmp:
        objects: list[str] = []
        for number, src in enumerate(srcs):
            obj = Path(tmp) / f"{number}-{src.stem}.o"
            if is_cxx_source(src):
                cmd = [*cxx.command, *CXX_FLAGS, _opt_flag(opt), *extra_flags,
                       f"-I{sdk.GENODE_INCLUDE_DIR}", f"-I{sdk.INCLUDE_DIR}"]
                compiler = cxx
            else:
                cmd = [*cc.command, *(f for f in _c_flags(cc) if f not in LINK_FLAGS),
                       _opt_flag(opt), *extra_flags, f"-I{sdk.INCLUDE_DIR}"]
                compiler = cc
            diagnostics.append(run_compiler([*cmd, "-c", str(src), "-o", str(obj)],
                                            f"compiling {src}", compiler))
            objects.append(str(obj))
        diagnostics.append(run_compiler(
            [*cxx.command, *CXX_LINK_FLAGS, "-T", str(sdk.LINKER_SCRIPT), *objects,
             *map(str, runtime.objects), "-Wl,--start-group", str(runtime.genode),
             *map(str, libraries), "-Wl,--end-group", "-o", str(out)],
            f"linking {out}", cxx))
    return "".join(diagnostics)


def compile_component(
    sources: Sequence[Path | str],
    output: Path | str,
    *,
    opt: str = "-O2",
    extra_flags: Iterable[str] = (),
    compiler: str | None = None,
    cxx_compiler: str | None = None,
    on_diagnostics: Callable[[str], None] | None = None,
) -> Path:
    """Compile ``sources`` with the SDK into the static ELF ``output``.

    Any C++ source makes it a C++ component. ``extra_flags`` go to the
    compiler before the sources (``-I``, ``-D``, ...). Warnings of a
    successful compile go to ``on_diagnostics``. Raises
    :class:`ToolchainError` (no compiler, missing source) or
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
    flags = list(extra_flags)
    if any(is_cxx_source(src) for src in srcs):
        stderr = _compile_cxx_component(srcs, out, opt, flags, cc,
                                        find_cxx_compiler(cxx_compiler))
    else:
        cmd = compile_command(cc, srcs, out, opt=opt, extra_flags=flags)
        stderr = run_compiler(cmd, f"compiling {', '.join(str(s) for s in srcs)}", cc)
    if stderr.strip() and on_diagnostics is not None:
        on_diagnostics(stderr)
    return out
