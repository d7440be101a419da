"""Persistent checkpoint store: incremental chains of checkpoints with integrity checks.

A store is a directory holding ``store.sqlite`` (metadata, WAL journal,
``synchronous=FULL``) and ``packs/NNNNNN.pack`` (append-only blob files
shared by many checkpoints). See ``Store`` and, for the format, `format`.
"""

from rtcr.core import PAGE_SIZE

from .format import CheckpointInfo, Compression, page_hash
from .gc import GcReport
from .reader import Checkpoint
from .retention import Retained, Retention
from .store import BlobInfo, Store, StoreStats
from .verify import VerifyReport
from .writer import CheckpointWriter

__all__ = [
    "PAGE_SIZE",
    "BlobInfo",
    "Checkpoint",
    "CheckpointInfo",
    "CheckpointWriter",
    "Compression",
    "GcReport",
    "Retained",
    "Retention",
    "Store",
    "StoreStats",
    "VerifyReport",
    "page_hash",
]
