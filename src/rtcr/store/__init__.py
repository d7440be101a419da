"""Persistent checkpoint store: incremental chains of checkpoints with integrity checks.

A store is a directory holding ``store.sqlite`` (metadata, WAL journal,
``synchronous=FULL``) and ``packs/NNNNNN.pack`` (zstd-compressed, content
addressed page blobs, appended once and never modified). See ``Store``.
"""

from ._common import PAGE_SIZE, ZERO_HASH, CheckpointInfo, page_hash
from .checkpoint import Checkpoint
from .store import GcReport, Store, StoreStats, VerifyReport
from .writer import CheckpointWriter

__all__ = [
    "PAGE_SIZE",
    "ZERO_HASH",
    "Checkpoint",
    "CheckpointInfo",
    "CheckpointWriter",
    "GcReport",
    "Store",
    "StoreStats",
    "VerifyReport",
    "page_hash",
]
