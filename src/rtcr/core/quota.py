"""Quota accounts (RAM bytes, capabilities) of a protection domain."""

from __future__ import annotations

from rtcr.errors import RtcrError


def format_bytes(n: int) -> str:
    """``n`` bytes in the largest unit that keeps it readable: 512 B, 12 KiB, 1.5 MiB."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            value = n / (1 << shift)
            return f"{value:.1f} {unit}".replace(".0 ", " ")
    return f"{n} B"


class Quota:
    """A limit and what is used of it; charging past the limit raises and changes nothing.

    Genode accounts every resource a PD causes core to spend; keeping the
    account in one tiny object makes "quotas are conserved" easy to check.
    """

    __slots__ = ("_error", "limit", "used", "what")

    def __init__(self, limit: int, error: type[RtcrError], what: str) -> None:
        if limit < 0:
            raise ValueError(f"negative {what} quota")
        self.limit = limit
        self.used = 0
        self.what = what
        self._error = error

    @property
    def avail(self) -> int:
        """What is left of the quota."""
        return self.limit - self.used

    def charge(self, amount: int) -> None:
        """Take ``amount``; raise the quota's error (and take nothing) if it does not fit."""
        if amount > self.limit - self.used:
            raise self._error(
                f"{self.what} quota exhausted: {amount} wanted, {self.limit - self.used} left"
            )
        self.used += amount

    def transfer(self, to: Quota, amount: int) -> None:
        """Move ``amount`` of the unused limit to ``to`` (Genode's quota transfer).

        What is spent stays spent: only what is available can move, else the
        quota's error is raised and neither account changes.
        """
        if amount < 0:
            raise ValueError(f"negative {self.what} transfer")
        if amount > self.avail:
            raise self._error(f"{self.what} quota transfer of {amount} exceeds the "
                              f"{self.avail} left")
        self.limit -= amount
        to.limit += amount

    def refund(self, amount: int) -> None:
        """Give ``amount`` back."""
        assert 0 <= amount <= self.used, "refund of more than was charged"
        self.used -= amount
