"""Building the machine's small C helpers (compiled on first use, cached).

The hot paths that run once per translation block or per TLB miss are a
few lines of C each (`icount.c`, `tlb.c`). They are built by
`rtcr.compilers.build_shared_library`, keyed additionally by the unicorn
version, since they reach into unicorn's structures.
"""

from __future__ import annotations

from pathlib import Path

from unicorn import unicorn_const as ucc

from rtcr.compilers import build_shared_library
from rtcr.errors import ToolchainError

_UC_VERSION = f"{ucc.UC_VERSION_MAJOR}.{ucc.UC_VERSION_MINOR}.{ucc.UC_VERSION_PATCH}"


def build(name: str) -> Path:
    """Compile `machine/NAME.c` (once per source/unicorn/compiler) and return the .so path.

    Raises OSError or subprocess.CalledProcessError on failure.
    """
    try:
        return build_shared_library(Path(__file__).with_name(f"{name}.c"),
                                    key=(_UC_VERSION.encode(),))
    except ToolchainError as exc:
        raise OSError(str(exc)) from exc


__all__ = ["build"]
