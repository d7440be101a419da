"""Which checkpoint a command means: the one named (by id or tag), or the newest."""

from __future__ import annotations

from pathlib import Path

from rtcr.errors import StoreError
from rtcr.store import Store


def resolve_checkpoint(store: Store, directory: Path, checkpoint: str | None) -> int:
    """``checkpoint`` (an id that must exist, or a tag) if given, else the newest one."""
    if checkpoint is None:
        newest = store.newest()
        if newest is None:
            raise StoreError(f"{directory} holds no checkpoint")
        return newest
    return store.resolve(checkpoint)
