"""The checkpoint/restore runtime: the target's parent, dirty tracking, checkpoint, restore."""

from .checkpointer import Checkpointer, CheckpointStats
from .concurrent import ConcurrentCheckpointer, Policy
from .lazy import PREFETCH_PAGES, LazyLoadFailed, LazyStats
from .restorer import Restored, restore
from .runtime import Runtime
from .services import Services
from .session import (
    EXIT_CRASH,
    EXIT_DEADLOCK,
    EXIT_IDLE,
    EXIT_LIMIT,
    EXIT_PAGE_CORRUPT,
    EXIT_STORE,
    Launch,
    Outcome,
    Session,
    SessionResult,
)
from .tracking import Strategy, TrackedRam

__all__ = [
    "EXIT_CRASH", "EXIT_DEADLOCK", "EXIT_IDLE", "EXIT_LIMIT", "EXIT_PAGE_CORRUPT", "EXIT_STORE",
    "PREFETCH_PAGES",
    "CheckpointStats",
    "Checkpointer",
    "ConcurrentCheckpointer", "Launch", "LazyLoadFailed", "LazyStats", "Outcome", "Policy",
    "Restored", "Runtime", "Services", "Session", "SessionResult", "Strategy", "TrackedRam",
    "restore",
]
