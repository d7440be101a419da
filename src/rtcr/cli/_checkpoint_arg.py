"""Which checkpoint a command means: the one named, or the newest."""

from __future__ import annotations

from pathlib import Path

from rtcr.errors import StoreError
from rtcr.store import Store


def resolve_checkpoint(store: Store, directory: Path, checkpoint: int | None) -> int:
    """``checkpoint`` if given (it must exist), else the newest one of the store."""
    if checkpoint is None:
        newest = store.newest()
        if newest is None:
            raise StoreError(f"{directory} holds no checkpoint")
        return newest
    store.info(checkpoint)  # an unknown id fails here, naming the store
    return checkpoint
