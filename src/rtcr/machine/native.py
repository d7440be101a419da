"""Building the machine's small C helpers (compiled on first use, cached).

The hot paths that run once per translation block or per TLB miss are a
few lines of C each (`icount.c`, `tlb.c`), compiled with the system C
compiler the SDK needs anyway, so the package ships no binaries. Each
library is cached under `$RTCR_CACHE_DIR` (default `~/.cache/rtcr`) by a
hash of its source, the unicorn version, the compiler and the platform,
and is written atomically so that parallel processes never race.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from unicorn import unicorn_const as ucc

from rtcr.errors import ToolchainError
from rtcr.toolchain import cache_dir, find_compiler

_UC_VERSION = f"{ucc.UC_VERSION_MAJOR}.{ucc.UC_VERSION_MINOR}.{ucc.UC_VERSION_PATCH}"


def build(name: str) -> Path:
    """Compile `machine/NAME.c` (once per source/unicorn/compiler) and return the .so path.

    Raises OSError or subprocess.CalledProcessError on failure.
    """
    source = Path(__file__).with_name(f"{name}.c").read_bytes()
    try:
        cc = find_compiler().command
    except ToolchainError as exc:
        raise OSError(str(exc)) from exc
    key = hashlib.sha256()
    for part in (source, _UC_VERSION.encode(), " ".join(cc).encode(), platform.machine().encode(),
                 sys.platform.encode()):
        key.update(part)
        key.update(b"\0")
    target_dir = cache_dir()
    target = target_dir / f"{name}-{key.hexdigest()[:20]}.so"
    if target.exists():
        return target
    target_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}-", suffix=".so", dir=target_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with tempfile.TemporaryDirectory(prefix=f"rtcr-{name}-") as build_dir:
            src = Path(build_dir) / f"{name}.c"
            src.write_bytes(source)
            cmd = [*cc, "-O2", "-shared", "-fPIC", "-o", str(tmp), str(src)]
            subprocess.run(cmd, check=True, capture_output=True, timeout=120)
        os.replace(tmp, target)  # atomic: concurrent builders all produce the same file
    finally:
        if tmp.exists():
            tmp.unlink()
    return target
