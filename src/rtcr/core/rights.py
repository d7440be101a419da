"""Access kinds and access rights.

Rights are what makes read-only attach work: every region carries its own
``writeable``/``executable`` flags and the pager ANDs them along the nested
path with the dataspace's own writability, so any level can downgrade.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Access(enum.Enum):
    """The kind of memory access a translation is asked for.

    Values equal the matching ``FaultType`` so that a refused access turns
    into a fault of the same kind without a lookup table.
    """

    READ = 1
    WRITE = 2
    EXEC = 3


@dataclass(frozen=True, slots=True)
class Rights:
    """Write and execute permission; reading attached memory is always allowed."""

    writeable: bool
    executable: bool

    def __and__(self, other: Rights) -> Rights:
        return Rights(self.writeable and other.writeable, self.executable and other.executable)

    def permits(self, access: Access) -> bool:
        """True when an access of this kind is allowed under these rights."""
        if access is Access.WRITE:
            return self.writeable
        if access is Access.EXEC:
            return self.executable
        return True


FULL_RIGHTS = Rights(writeable=True, executable=True)
