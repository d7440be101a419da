"""Address ranges, as ``Region_map::attach`` returns them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Range:
    """A half-open range ``[start, start + size)`` in some region map's coordinates."""

    start: int
    size: int

    @property
    def end(self) -> int:
        """First address past the range."""
        return self.start + self.size

    def contains(self, addr: int) -> bool:
        """True when ``addr`` lies inside the range."""
        return self.start <= addr < self.start + self.size
