"""Fault injection for tests: off unless the environment variable is set.

``RTCR_STORE_FAULTS="POINT:N[:ERRNO],..."`` makes the N-th time (counted per
process, from 1) the store reaches POINT fail as the operating system would,
with ``OSError(ERRNO)`` (default ``EIO``). Points:

- ``pack-write``: appending a page blob to a pack file;
- ``pack-sync``: the data sync of a pack file when a checkpoint commits;
- ``commit``: the metadata transaction's COMMIT (raised as SQLite's
  ``disk I/O error``; with ERRNO 28 as ``database or disk is full``).

Example: ``RTCR_STORE_FAULTS=pack-write:3:28`` (ENOSPC on the third blob).
Used by tests/reliability; never set it in production.
"""

from __future__ import annotations

import errno
import os
import sqlite3

ENV = "RTCR_STORE_FAULTS"
_counts: dict[str, int] = {}


def enabled() -> bool:
    """Whether any fault is planned (lets hot loops skip counting)."""
    return bool(os.environ.get(ENV))


def check(point: str) -> None:
    """Count one visit of ``point``; raise the planned fault if this is the one."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    n = _counts[point] = _counts.get(point, 0) + 1
    for item in spec.split(","):
        parts = item.strip().split(":")
        if len(parts) < 2 or parts[0] != point or not parts[1].isdigit() or int(parts[1]) != n:
            continue
        code = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else errno.EIO
        if point == "commit":
            raise sqlite3.OperationalError(
                "database or disk is full" if code == errno.ENOSPC else "disk I/O error")
        raise OSError(code, os.strerror(code))
