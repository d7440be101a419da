"""``rtcr cc``: compile a component against the SDK."""

from __future__ import annotations

from pathlib import Path

import click

from rtcr.compilers import CompileError
from rtcr.toolchain import compile_component


@click.command("cc")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o", "--output", required=True, type=click.Path(path_type=Path), help="The ELF to write."
)
@click.option("-O", "opt", default="2", show_default=True, help="Optimisation level.")
@click.option("-I", "includes", multiple=True, metavar="DIR", help="Add an include directory.")
@click.option("-D", "defines", multiple=True, metavar="MACRO[=VAL]", help="Define a macro.")
@click.option(
    "--cc",
    "compiler",
    default=None,
    metavar="PATH",
    help="C compiler to use (default: $RTCR_CC, cc, gcc, clang, ziglang).",
)
def command(
    sources: tuple[Path, ...],
    output: Path,
    opt: str,
    includes: tuple[str, ...],
    defines: tuple[str, ...],
    compiler: str | None,
) -> None:
    """Compile C SOURCES into a static x86-64 component ELF.

    The SDK header (rtcr.h), crt0, tiny libc and linker script are added
    automatically.
    """
    flags = [f"-I{d}" for d in includes] + [f"-D{m}" for m in defines]

    def show(text: str) -> None:
        click.echo(text.rstrip("\n"), err=True)

    try:
        compile_component(
            list(sources),
            output,
            opt=opt,
            extra_flags=flags,
            compiler=compiler,
            on_diagnostics=show,
        )
    except CompileError as exc:
        if exc.stderr.strip():
            show(exc.stderr)
        raise
