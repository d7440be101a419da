"""Retention while running: a rolling window of checkpoints over a store (``--keep``,
``--max-store-size``), applied by gc after each commit of a run."""

from __future__ import annotations

import os
from contextlib import suppress
from dataclasses import dataclass

from rtcr.errors import InvalidArgument

from .backend import StoreBackend
from .gc import gc
from .tags import read_tags


@dataclass(frozen=True)
class Retention:
    """A rolling window over a store a run checkpoints into (``run --keep/--max-store-size``).

    After a checkpoint committed, `retain` keeps the newest ``keep``
    checkpoints and, with ``max_bytes``, as many of the newest as fit in that
    many bytes of disk (`occupied_bytes`), never fewer than the newest one.
    Tagged checkpoints are always kept besides, and the oldest kept one
    becomes self-contained (gc's rule), so every kept checkpoint restores
    and the next checkpoint of the run still builds on the newest.
    """

    keep: int | None = None
    max_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.keep is not None and self.keep < 1:
            raise InvalidArgument(f"a run keeps at least its newest checkpoint, not {self.keep}")
        if self.max_bytes is not None and self.max_bytes < 1:
            raise InvalidArgument(f"max_bytes must be positive, not {self.max_bytes}")


@dataclass(frozen=True)
class Retained:
    """What one `retain` did: the ids it removed, the bytes the store occupies now, and
    ``oversized``: the newest checkpoint when it alone (with the tagged ones) is over
    ``max_bytes`` (None: the bound holds, or there is none)."""

    removed: tuple[int, ...]
    size: int
    oversized: int | None = None


def occupied_bytes(path: os.PathLike[str] | str) -> int:
    """The disk space the store's files occupy, each at most its length.

    A pack's blocks reserved beyond its end (appends to come) are not
    counted, and the holes gc punches are not either.
    """
    total = 0
    for directory, _dirs, files in os.walk(path):
        for name in files:
            with suppress(OSError):
                st = os.stat(os.path.join(directory, name))
                total += min(st.st_size, st.st_blocks * 512)
    return total


def retain(backend: StoreBackend, policy: Retention) -> Retained:
    """Apply ``policy`` to the store now (the caller writes no checkpoint meanwhile)."""
    removed: list[int] = []
    tagged = set(read_tags(backend).values())

    def ids() -> list[int]:
        with backend.errors():
            return backend.ids(backend.conn())

    def drop_to(keep: int) -> bool:
        """Keep the newest ``keep`` (and the tagged ones); False: nothing was to go."""
        current = ids()
        if not set(current) - set(current[max(0, len(current) - keep):]) - tagged:
            return False
        report = gc(backend, keep, keep_also=tagged)
        removed.extend(report.removed)
        return True

    if policy.keep is not None:
        drop_to(policy.keep)
    size = occupied_bytes(backend.path)
    if policy.max_bytes is None or size <= policy.max_bytes:
        return Retained(tuple(removed), size)
    # A first guess from what each checkpoint stored itself, then one at a time: what an
    # old checkpoint frees depends on what the kept ones share with it.
    with backend.errors():
        owned = backend.conn().execute("SELECT id, bytes FROM checkpoints ORDER BY id").fetchall()
    excess, drop = size - policy.max_bytes, 0
    for cid, stored in owned[:-1]:
        if excess <= 0:
            break
        if cid not in tagged:
            excess -= int(stored)
            drop += 1
    keep = max(1, len(owned) - max(drop, 1))
    while size > policy.max_bytes:
        drop_to(keep)
        size = occupied_bytes(backend.path)
        if keep == 1:
            break
        keep = min(keep, len(ids())) - 1
    current = ids()
    oversized = current[-1] if size > policy.max_bytes and current else None
    return Retained(tuple(removed), size, oversized)
