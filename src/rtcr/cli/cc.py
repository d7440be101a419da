"""``rtcr cc``: compile a component against the SDK, with a compiler's command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from rtcr.compilers import CompileError
from rtcr.toolchain import compile_component

from ._options import output_directory

#: Options that take a value, as the next argument or glued on (``-o x.elf``, ``-ox.elf``).
_VALUED = ("-o", "-O", "-I", "-D")


@dataclass
class _Line:
    """A parsed ``rtcr cc`` command line."""

    sources: list[Path] = field(default_factory=list)
    output: Path | None = None
    opt: str = "2"
    flags: list[str] = field(default_factory=list)
    compiler: str | None = None
    cxx_compiler: str | None = None


def _parse(arguments: tuple[str, ...]) -> _Line:
    line = _Line()
    args = list(arguments)
    while args:
        arg = args.pop(0)
        if arg == "--output":
            arg = "-o"
        if arg in ("--cc", "--cxx"):
            if not args:
                raise click.UsageError(f"{arg} needs a compiler")
            if arg == "--cc":
                line.compiler = args.pop(0)
            else:
                line.cxx_compiler = args.pop(0)
            continue
        option = next((o for o in _VALUED if arg.startswith(o)), None)
        if option is None:
            if arg.startswith("-"):
                line.flags.append(arg)  # any other flag goes to the compiler as it is
            else:
                line.sources.append(Path(arg))
            continue
        value = arg[len(option):]
        if not value:
            if not args:
                raise click.UsageError(f"{option} needs a value")
            value = args.pop(0)
        if option == "-o":
            line.output = Path(value)
        elif option == "-O":
            line.opt = value
        else:
            line.flags.append(option + value)
    if not line.sources:
        raise click.UsageError("no source files given")
    if line.output is None:
        raise click.UsageError("no output given (-o FILE.elf)")
    return line


@click.command("cc", context_settings={"ignore_unknown_options": True,
                                       "help_option_names": ["--help"]})
@click.argument("arguments", nargs=-1, required=True, type=click.UNPROCESSED,
                metavar="[FLAGS]... SOURCES... -o FILE.elf")
def command(arguments: tuple[str, ...]) -> None:
    """Compile C or C++ SOURCES into a static x86-64 component ELF.

    The SDK (rtcr.h, the Genode API headers, crt0, libc, the C++ runtime and
    the linker script) is added automatically; a .cc/.cpp source makes it a
    C++ component. The command line is a compiler's:

    \b
      -o FILE        the ELF to write (required; also --output FILE)
      -O LEVEL       optimisation: 0, 1, 2 (default), 3, s, z or g
      -I DIR, -D M   include directory, macro (M or M=VALUE)
      --cc PATH      C compiler (default: $RTCR_CC, cc, gcc, clang, ziglang)
      --cxx PATH     C++ compiler (default: $RTCR_CXX, g++, clang++, c++)
      any other -FLAG of one token (-g, -Wall, -Werror, -std=..., -f...)
                     goes to the compiler as it is, after the SDK's own
                     flags, so it can override them

    \b
    Example:
      rtcr cc -O2 -g -Wall -DROUNDS=10 counter.c -o counter.elf
      rtcr cc examples/genode/sheep_counter.cc -o sheep.elf
    """
    line = _parse(arguments)
    assert line.output is not None
    output_directory(line.output, "-o")

    def show(text: str) -> None:
        click.echo(text.rstrip("\n"), err=True)

    try:
        compile_component(line.sources, line.output, opt=line.opt, extra_flags=line.flags,
                          compiler=line.compiler, cxx_compiler=line.cxx_compiler,
                          on_diagnostics=show)
    except CompileError as exc:
        if exc.stderr.strip():
            show(exc.stderr)
        raise
