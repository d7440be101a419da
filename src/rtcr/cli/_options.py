"""Option types shared by the commands: sizes (16M), counts (1M), strategies."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path
from typing import Any

import click

from rtcr.checkpoint import Policy, Strategy
from rtcr.checkpoint.inputs import Inputs

_SUFFIXES = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
_COUNT_SUFFIXES = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}


class _Scaled(click.ParamType):  # type: ignore[type-arg]
    def __init__(self, name: str, suffixes: dict[str, int], what: str) -> None:
        self.name = name
        self._suffixes = suffixes
        self._what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*(\d+)\s*([kKmMgG]?)(i?[bB])?\s*", str(value))
        if not match:
            self.fail(f"{value!r} is not a {self._what} (examples: 4096, 64k, 16M, 1G)",
                      param, ctx)
        number = int(match.group(1)) * self._suffixes[match.group(2).lower()]
        if number <= 0:
            self.fail(f"{value!r} must be positive", param, ctx)
        return number


class _Millis(click.ParamType):  # type: ignore[type-arg]
    name = "milliseconds"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of milliseconds", param, ctx)
        if not math.isfinite(number) or number <= 0:
            self.fail(f"{value!r} must be a positive, finite number of milliseconds", param, ctx)
        return number


MILLIS = _Millis()
SIZE = _Scaled("size", _SUFFIXES, "size in bytes")
COUNT = _Scaled("count", _COUNT_SUFFIXES, "count")
STRATEGY = click.Choice([s.value for s in Strategy])


def concurrency(concurrent: bool, policy: str, strategy: str | None) -> Policy | None:
    """The copy-on-write policy asked for on the command line, checked against the strategy."""
    if not concurrent:
        return None
    if strategy not in (None, Strategy.RO_ATTACH.value):
        raise click.UsageError("--concurrent works with --strategy ro-attach only")
    return Policy(policy)


def tracking_options(func: Any) -> Any:
    func = click.option("--concurrent-policy", type=click.Choice([p.value for p in Policy]),
                        default=Policy.WAIT.value, show_default=True,
                        help="With --concurrent, a checkpoint due while the previous one is "
                             "still copying waits for it, or is skipped.")(func)
    func = click.option("--concurrent", is_flag=True,
                        help="Copy-on-write checkpoints: pause only to record state and "
                             "re-arm tracking, copy dirty memory while the component runs "
                             "(ro-attach only).")(func)
    func = click.option("--granularity", type=click.IntRange(min=1), default=None,
                        help="Pages per tracked part (default 1).")(func)
    func = click.option("--strategy", type=STRATEGY, default=None,
                        help="Dirty tracking: ro-attach (default; only writes fault), detach "
                             "(any access faults; the original Rtcr scheme), full (copy "
                             "everything at every checkpoint).")(func)
    return func


CONFIG_ROM = "config"


def rom_options(func: Any) -> Any:
    func = click.option("--config", type=click.Path(dir_okay=False, path_type=Path),
                        default=None,
                        help="The component's `config` ROM (Genode's XML or HID form).")(func)
    func = click.option("--rom", multiple=True, metavar="NAME=FILE",
                        help="A ROM module the component may open by name "
                             "(rtcr_rom_open, Genode's Rom_connection); repeatable.")(func)
    return func


def roms(specs: tuple[str, ...], config: Path | None) -> dict[str, bytes]:
    """The ROM modules of --rom NAME=FILE and --config FILE, read now (one line per error)."""
    named: list[tuple[str, Path]] = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise click.BadParameter(f"{spec!r} is not NAME=FILE", param_hint="--rom")
        named.append((name, Path(path)))
    if config is not None:
        named.append((CONFIG_ROM, config))
    modules: dict[str, bytes] = {}
    for name, file in named:
        if name in modules:
            raise click.BadParameter(f"ROM {name!r} is given twice", param_hint="--rom")
        try:
            modules[name] = file.read_bytes()
        except OSError as exc:
            raise click.FileError(str(file), exc.strerror or str(exc)) from exc
    return modules


def input_options(func: Any) -> Any:
    func = click.option("--stdin", "stdin", type=click.Path(dir_okay=False, allow_dash=True,
                                                            path_type=Path),
                        default=None, metavar="FILE|-",
                        help="The component's stdin: FILE, or - for rtcr's own stdin, read "
                             "whole before the component starts (rtcr_stdin_read reads it "
                             "as a stream, rtcr_rom_open(\"stdin\") as a ROM).")(func)
    func = click.option("--env", multiple=True, metavar="K=V",
                        help="An environment variable of the component (envp, environ, "
                             "getenv); repeatable.")(func)
    return func


def inputs(args: tuple[str, ...], env: tuple[str, ...], stdin: Path | None) -> Inputs:
    """The component's inputs of `-- ARGS`, --env K=V and --stdin FILE|- (read now)."""
    pairs: list[tuple[str, str]] = []
    for spec in env:
        key, sep, value = spec.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{spec!r} is not K=V", param_hint="--env")
        pairs.append((key, value))
    data = None
    if stdin is not None:
        try:
            if str(stdin) == "-" and sys.stdin.isatty():
                click.echo("rtcr: reading the component's stdin from the terminal until end "
                           "of file (Ctrl-D)", err=True)
            data = sys.stdin.buffer.read() if str(stdin) == "-" else stdin.read_bytes()
        except OSError as exc:
            raise click.FileError(str(stdin), exc.strerror or str(exc)) from exc
    return Inputs(tuple(args), tuple(pairs), data)


def interval_options(func: Any) -> Any:
    func = click.option("--checkpoint-on-exit", is_flag=True,
                        help="Take a final checkpoint where the run stops: at "
                             "--max-instructions or on SIGINT/SIGTERM (a component that "
                             "exits has nothing left to continue). SIGUSR1 takes one "
                             "at any time.")(func)
    func = click.option("--summary-json", type=click.Path(dir_okay=False, writable=True),
                        help="Write a JSON summary (exit code, instructions, faults, "
                             "checkpoints) to this file.")(func)
    func = click.option("--max-instructions", type=COUNT, default=None,
                        help="Stop after this many guest instructions (exit status 124).")(func)
    func = click.option("--every-ms", type=MILLIS, default=None,
                        help="Checkpoint every X wall-clock milliseconds.")(func)
    func = click.option("--every", type=COUNT, default=None,
                        help="Checkpoint every N guest instructions (suffixes k, M, G).")(func)
    return func


def output_directory(path: Path, option: str) -> None:
    """Make the directory of an output file if it is missing, and say so (one line).

    `-o build/x.elf` is a common wish, so rtcr does not refuse it; but a typo
    in a path must not make directories silently. Something in the way (a
    file) is one line of error.
    """
    parent = path.parent if str(path.parent) else Path(".")
    if parent.is_dir():
        return
    try:
        parent.mkdir(parents=True)
    except OSError as exc:
        raise click.BadParameter(f"{path}: cannot create its directory {parent}: "
                                 f"{exc.strerror or exc}", param_hint=option) from exc
    click.echo(f"rtcr: created directory {parent} for {option} {path.name}", err=True)
