"""Core: the root of all resources (physical RAM, PDs, ROMs, region maps)."""

from __future__ import annotations

import itertools

from rtcr.abi import PD_SESSION_CAP_QUOTA, PD_SESSION_RAM_QUOTA
from rtcr.core.dataspace import RomDataspace
from rtcr.core.fault import FaultCounts
from rtcr.core.pd import ProtectionDomain
from rtcr.core.ram import PhysicalRam
from rtcr.core.region_map import RegionMap
from rtcr.core.types import PAGE_SHIFT, round_page


class Core:
    """One machine's core: owns physical RAM and hands out core objects.

    Every capability object (dataspace, region map, signal context) gets a
    core-wide, monotonically increasing ``badge``: a stable name for it in
    checkpoints, independent of any PD's selectors.
    """

    def __init__(self, ram_size: int = 64 << 20) -> None:
        self.ram = PhysicalRam(round_page(ram_size))
        self.fault_counts = FaultCounts()
        self._badges = itertools.count(1)
        self._pds: list[ProtectionDomain] = []
        self._roms: list[RomDataspace] = []

    def next_badge(self) -> int:
        """A fresh badge."""
        return next(self._badges)

    def create_pd(self, name: str, ram_quota: int, cap_quota: int, *,
                  session_quota: tuple[int, int] | None = None) -> ProtectionDomain:
        """A new PD with its own address space, capability space and quotas.

        ``session_quota`` recreates a PD session with these limits (restore);
        ``create_pd_session`` is how a component gets a new one.
        """
        pd = ProtectionDomain(name, ram_quota, cap_quota, ram=self.ram, badges=self.next_badge,
                              fault_counts=self.fault_counts, session_quota=session_quota)
        self._pds.append(pd)
        return pd

    def create_pd_session(self, creator: ProtectionDomain, name: str) -> ProtectionDomain:
        """Genode's ``Pd_connection``: a PD paid with session quota from ``creator``.

        The new PD holds Genode's PD session quota (RAM and caps), spendable
        but not transferable, and can exchange quota only after
        ``ref_account``; its capability lands in ``creator``'s space.
        """
        pd = creator.open_session(name, PD_SESSION_RAM_QUOTA, PD_SESSION_CAP_QUOTA)
        self._pds.append(pd)
        return pd

    def revoke(self, obj: object) -> None:
        """Remove every selector naming ``obj`` from every PD's space (refunding the caps).

        A freed or destroyed object must not stay reachable under a stale
        selector anywhere, wherever its capability was handed to.
        """
        for pd in self._pds:
            for selector in pd.cap_space.selectors(obj):
                pd.cap_space.remove(selector)

    def pds(self) -> list[ProtectionDomain]:
        """PDs created so far."""
        return list(self._pds)

    def create_rom(self, name: str, data: bytes | bytearray | memoryview) -> RomDataspace:
        """A read-only dataspace holding ``data`` (page-rounded, at least one page).

        ROMs are core's own memory, charged to nobody; ``OutOfRam`` if
        physical RAM cannot hold them.
        """
        view = memoryview(data).cast("B")
        size = max(round_page(len(view)), 1 << PAGE_SHIFT)
        frames = self.ram.alloc(size >> PAGE_SHIFT)
        buf = self.ram.buffer
        for i, frame in enumerate(frames):
            chunk = view[i << PAGE_SHIFT : (i + 1) << PAGE_SHIFT]
            off = frame << PAGE_SHIFT
            buf[off : off + len(chunk)] = chunk
        rom = RomDataspace(self.next_badge(), size, self.ram, frames, name)
        self._roms.append(rom)
        return rom

    def roms(self) -> list[RomDataspace]:
        """ROM dataspaces created so far."""
        return list(self._roms)

    def create_region_map(self, size: int) -> RegionMap:
        """A new, empty region map of ``size`` bytes (page-rounded)."""
        return RegionMap(size, self.ram, self.next_badge, fault_counts=self.fault_counts)

    def destroy_region_map(self, rm: RegionMap) -> None:
        """Genode's ``Rm_session::destroy``: detach everything, invalidate its dataspace.

        Regions elsewhere holding the map's dataspace become reserved
        (accesses fault there, as at a freed dataspace) until detached.
        Destroying a map twice is a no-op.
        """
        rm.destroy()
