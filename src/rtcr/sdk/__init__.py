"""The component SDK: C header, crt0, tiny libc and linker script.

The files are compiled into every component by ``rtcr cc``
(:func:`rtcr.toolchain.compile_component`); nothing is prebuilt.
"""

from __future__ import annotations

from pathlib import Path

SDK_DIR = Path(__file__).resolve().parent
INCLUDE_DIR = SDK_DIR / "include"
HEADER = INCLUDE_DIR / "rtcr.h"
LINKER_SCRIPT = SDK_DIR / "link.ld"
CRT0 = SDK_DIR / "src" / "crt0.S"
LIBC_SOURCES = (
    SDK_DIR / "src" / "syscalls.c",
    SDK_DIR / "src" / "libc.c",
    SDK_DIR / "src" / "printf.c",
)

__all__ = ["CRT0", "HEADER", "INCLUDE_DIR", "LIBC_SOURCES", "LINKER_SCRIPT", "SDK_DIR"]
