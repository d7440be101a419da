"""rtcr core: Genode-style dataspaces, region maps, pager, faults and signals.

Pure Python and independent of the CPU emulator: the machine calls
``pager.resolve`` on TLB fills and ``pager.reflect`` on the ones that fail;
core calls back into the machine only to flush (``AddressSpace.flush``).
"""

from rtcr.core.capability import CapabilitySpace
from rtcr.core.core import Core
from rtcr.core.dataspace import Dataspace, RamDataspace, RomDataspace
from rtcr.core.fault import NO_FAULT, Fault, FaultCounts, FaultType, Verdict, WalkFailure
from rtcr.core.pager import (
    RESOLVED,
    Mapping,
    Reflection,
    Step,
    Unhandled,
    Unresolved,
    host_read,
    host_write,
    reflect,
    resolve,
    resume,
    translate,
)
from rtcr.core.pd import ADDRESS_SPACE_SIZE, NULL_GUARD, ProtectionDomain
from rtcr.core.quota import Quota, format_bytes
from rtcr.core.ram import PhysicalRam
from rtcr.core.region_map import (
    MAX_NESTING,
    AddressSpace,
    Faulter,
    FaultHandler,
    FaultTicket,
    ManagedDataspace,
    Region,
    RegionMap,
    SynchronousHandler,
)
from rtcr.core.signal import SignalContext, SignalReceiver, SignalWaiter
from rtcr.core.types import (
    FULL_RIGHTS,
    PAGE_MASK,
    PAGE_SHIFT,
    PAGE_SIZE,
    RWX_EXEC,
    RWX_READ,
    RWX_WRITE,
    Access,
    Range,
    Rights,
    page_aligned,
    round_page,
    trunc_page,
)

__all__ = [
    "ADDRESS_SPACE_SIZE",
    "FULL_RIGHTS",
    "MAX_NESTING",
    "NO_FAULT",
    "NULL_GUARD",
    "PAGE_MASK",
    "PAGE_SHIFT",
    "PAGE_SIZE",
    "RESOLVED",
    "RWX_EXEC",
    "RWX_READ",
    "RWX_WRITE",
    "Access",
    "AddressSpace",
    "CapabilitySpace",
    "Core",
    "Dataspace",
    "Fault",
    "FaultCounts",
    "FaultHandler",
    "FaultTicket",
    "FaultType",
    "Faulter",
    "ManagedDataspace",
    "Mapping",
    "PhysicalRam",
    "ProtectionDomain",
    "Quota",
    "RamDataspace",
    "Range",
    "Reflection",
    "Region",
    "RegionMap",
    "Rights",
    "RomDataspace",
    "SignalContext",
    "SignalReceiver",
    "SignalWaiter",
    "Step",
    "SynchronousHandler",
    "Unhandled",
    "Unresolved",
    "Verdict",
    "WalkFailure",
    "format_bytes",
    "host_read",
    "host_write",
    "page_aligned",
    "reflect",
    "resolve",
    "resume",
    "round_page",
    "translate",
    "trunc_page",
]
