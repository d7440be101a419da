"""Capability spaces: per-PD tables from selectors to core objects.

A selector means something only in the PD whose space holds it. Selectors
grow monotonically and are never reused, so a stale selector cannot
silently name a newer object; restore uses ``insert_at`` to recreate the
exact selectors a checkpointed component knew.
"""

from __future__ import annotations

from typing import TypeVar

from rtcr.abi import FIRST_DYNAMIC_SELECTOR
from rtcr.core.quota import Quota
from rtcr.errors import InvalidArgument, InvalidCapability

T = TypeVar("T")


class CapabilitySpace:
    """Selector table of one PD; each dynamic entry costs one cap of the PD's quota."""

    __slots__ = ("_entries", "_next", "_quota", "_uncharged")

    def __init__(self, quota: Quota) -> None:
        self._quota = quota
        self._entries: dict[int, object] = {}
        self._uncharged: set[int] = set()
        self._next = FIRST_DYNAMIC_SELECTOR

    @property
    def next_selector(self) -> int:
        """The selector the next ``insert`` will hand out."""
        return self._next

    def install_uncharged(self, sel: int, obj: object) -> None:
        """Pre-install a well-known selector (the address space) without charge."""
        self._entries[sel] = obj
        self._uncharged.add(sel)

    def insert(self, obj: object) -> int:
        """Install ``obj`` under a fresh selector; ``OutOfCaps`` if the quota is spent."""
        self._quota.charge(1)
        sel = self._next
        self._next += 1
        self._entries[sel] = obj
        return sel

    def insert_at(self, sel: int, obj: object) -> int:
        """Install ``obj`` under ``sel`` (restore); charges like ``insert``."""
        if sel < FIRST_DYNAMIC_SELECTOR:
            raise InvalidArgument(f"selector {sel} is reserved")
        if sel in self._entries:
            raise InvalidArgument(f"selector {sel} is in use")
        self._quota.charge(1)
        self._entries[sel] = obj
        if sel >= self._next:
            self._next = sel + 1
        return sel

    def advance_to(self, sel: int) -> None:
        """Make ``insert`` continue at ``sel`` (restore: selectors are never reused)."""
        if sel < self._next:
            raise InvalidArgument(f"selector {sel} was already handed out")
        self._next = sel

    def lookup(self, sel: int, kind: type[T]) -> T:
        """The object at ``sel`` if it is a ``kind``; ``InvalidCapability`` otherwise."""
        obj = self._entries.get(sel)
        if obj is None:
            raise InvalidCapability(f"no capability at selector {sel}")
        if not isinstance(obj, kind):
            raise InvalidCapability(
                f"selector {sel} names a {type(obj).__name__}, not a {kind.__name__}"
            )
        return obj

    def remove(self, sel: int) -> None:
        """Drop the entry at ``sel`` and refund its cap."""
        if sel not in self._entries:
            raise InvalidCapability(f"no capability at selector {sel}")
        del self._entries[sel]
        if sel in self._uncharged:
            self._uncharged.discard(sel)
        else:
            self._quota.refund(1)

    def selector(self, obj: object) -> int | None:
        """The lowest selector naming ``obj``, or None."""
        for sel, entry in sorted(self._entries.items()):
            if entry is obj:
                return sel
        return None

    def selectors(self, obj: object) -> list[int]:
        """Every selector naming ``obj``, ascending."""
        return sorted(sel for sel, entry in self._entries.items() if entry is obj)

    def items(self) -> list[tuple[int, object]]:
        """All entries, by selector."""
        return sorted(self._entries.items())

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def charged(self) -> int:
        """Number of entries paid from the cap quota."""
        return len(self._entries) - len(self._uncharged)
