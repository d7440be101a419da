"""The component SDK: headers, crt0, libc, C++ runtime, Genode API, linker script.

The files are compiled into every component by ``rtcr cc``
(:func:`rtcr.toolchain.compile_component`); nothing is prebuilt into the
package. C components get crt0, the libc and the linker script; C++
components also get the C++ runtime (``CXX_SOURCES``: what GCC's own
libsupc++/libgcc_eh expect from a system) and the Genode API's
implementation (``GENODE_SOURCES``, behind the headers of
``GENODE_INCLUDE_DIR``, laid out as Genode's include tree).
"""

from __future__ import annotations

from pathlib import Path

SDK_DIR = Path(__file__).resolve().parent
INCLUDE_DIR = SDK_DIR / "include"
GENODE_INCLUDE_DIR = SDK_DIR / "genode" / "include"
HEADER = INCLUDE_DIR / "rtcr.h"
LINKER_SCRIPT = SDK_DIR / "link.ld"
CRT0 = SDK_DIR / "src" / "crt0.S"
LIBC_SOURCES = (
    SDK_DIR / "src" / "syscalls.c",
    SDK_DIR / "src" / "libc.c",
    SDK_DIR / "src" / "printf.c",
    SDK_DIR / "src" / "start.c",
    SDK_DIR / "src" / "heap.c",
    SDK_DIR / "src" / "threads.c",
    SDK_DIR / "src" / "args.c",
)
CXX_SOURCES = (SDK_DIR / "src" / "cxxrt.cc",)
GENODE_SOURCES = tuple(sorted((SDK_DIR / "genode" / "src").glob("*.cc")))

__all__ = ["CRT0", "CXX_SOURCES", "GENODE_INCLUDE_DIR", "GENODE_SOURCES", "HEADER",
           "INCLUDE_DIR", "LIBC_SOURCES", "LINKER_SCRIPT", "SDK_DIR"]
