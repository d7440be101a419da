"""rtcr core: Genode-style dataspaces, region maps, pager, faults and signals.

Pure Python and independent of the CPU emulator: the machine layer calls
``core.pager.resolve`` on TLB fills and registers flush listeners on the
region maps it translates through.
"""

from rtcr.core.capability import CapabilitySpace
from rtcr.core.core import Core
from rtcr.core.dataspace import Dataspace, ManagedDataspace, RamDataspace, RomDataspace
from rtcr.core.fault import NO_FAULT, Fault, Faulter, FaultType
from rtcr.core.pager import Mapping, Pager, Unresolved, resolve
from rtcr.core.pd import ADDRESS_SPACE_SIZE, NULL_GUARD, ProtectionDomain
from rtcr.core.quota import Quota
from rtcr.core.ram import PAGE_SHIFT, PAGE_SIZE, PhysicalRam, round_page
from rtcr.core.range import Range
from rtcr.core.region_map import MAX_NESTING, FaultHandler, FlushListener, Region, RegionMap
from rtcr.core.rights import Access, Rights
from rtcr.core.signal import SignalContext, SignalReceiver, SignalWaiter

__all__ = [
    "ADDRESS_SPACE_SIZE",
    "MAX_NESTING",
    "NO_FAULT",
    "NULL_GUARD",
    "PAGE_SHIFT",
    "PAGE_SIZE",
    "Access",
    "CapabilitySpace",
    "Core",
    "Dataspace",
    "Fault",
    "FaultHandler",
    "FaultType",
    "Faulter",
    "FlushListener",
    "ManagedDataspace",
    "Mapping",
    "Pager",
    "PhysicalRam",
    "ProtectionDomain",
    "Quota",
    "RamDataspace",
    "Range",
    "Region",
    "RegionMap",
    "Rights",
    "RomDataspace",
    "SignalContext",
    "SignalReceiver",
    "SignalWaiter",
    "Unresolved",
    "resolve",
    "round_page",
]
