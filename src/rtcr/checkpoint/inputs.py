"""The component's inputs: arguments, environment and stdin, as ROMs it reads at start.

`rtcr run X.elf --env K=V --stdin FILE -- ARGS...` hands them to the
component as two ROM modules (layout in `rtcr.abi`): ``args`` (argv, with
the component's name as argv[0], and the environment), which the SDK's crt0
turns into ``main(argc, argv, envp)`` and ``environ``, and ``stdin``, which
``rtcr_stdin_read`` reads as a stream (or a component opens as a ROM).
Like every ROM module they are objects of the target from the start, so
every checkpoint holds them and a restored run reads exactly what the
original read; the stream position is the component's own memory. A
restore therefore cannot change them. Nothing is provided without inputs,
so such a component sees argc 0 (as POSIX allows) and an empty environment.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from rtcr.abi import ARGS_HEADER, ARGS_ROM, STDIN_ROM
from rtcr.errors import InvalidArgument


def _c_string(text: str, what: str) -> bytes:
    raw = text.encode("utf-8", "surrogateescape")
    if b"\0" in raw:
        raise InvalidArgument(f"{what} {text!r} holds a NUL byte, which a C string cannot")
    return raw + b"\0"


@dataclass(frozen=True)
class Inputs:
    """What a component is started with: ``args`` after its name, ``env`` as (key, value)
    pairs in order, ``stdin`` (None: none given)."""

    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    stdin: bytes | None = None

    def __post_init__(self) -> None:
        for key, _value in self.env:
            if not key or "=" in key:
                raise InvalidArgument(f"environment variable name {key!r}: not empty, no '='")

    @property
    def given(self) -> bool:
        return bool(self.args or self.env or self.stdin is not None)

    def roms(self, name: str) -> dict[str, bytes]:
        """The ROM modules of these inputs for the component ``name`` (none if none given)."""
        if not self.given:
            return {}
        argv = [_c_string(a, "argument") for a in (name, *self.args)]
        envp = [_c_string(f"{k}={v}", "environment entry") for k, v in self.env]
        stdin = self.stdin or b""
        header = struct.pack(ARGS_HEADER, len(argv), len(envp), len(stdin))
        roms = {ARGS_ROM: header + b"".join(argv) + b"".join(envp)}
        if self.stdin is not None:
            roms[STDIN_ROM] = stdin
        return roms


def decode_args(rom: bytes) -> tuple[list[str], list[str], int]:
    """An ``args`` ROM's argv (argv[0] first), its ``K=V`` strings and the stdin length."""
    argc, envc, stdin_size = struct.unpack_from(ARGS_HEADER, rom)
    strings = rom[struct.calcsize(ARGS_HEADER):].split(b"\0", argc + envc)[:argc + envc]
    text = [s.decode("utf-8", "surrogateescape") for s in strings]
    return text[:argc], text[argc:], stdin_size
