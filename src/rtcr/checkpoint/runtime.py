"""The checkpoint/restore runtime: the target's parent.

The runtime serves the target's sessions by forwarding to core, and records
what a restore needs: every object the target created (RAM, ROM, region
maps, signal contexts) under a stable *object id*, and every region with
the rights it has. RAM is handed out as a managed dataspace in which the
runtime attaches the real memory for dirty tracking (`tracking`); the
target cannot tell the difference, because a read-only attach downgrades
rights without changing contents or addresses, and every fault that is not
a tracking fault is forwarded by core to the target's map, where the
target would have seen it without the runtime.

Sealing is emulated, not forwarded: core sealing the real RAM would make
the runtime's own writable re-attaches read-only. As Genode's core does
for a sealed dataspace, the runtime attaches the sealed object read-only
from then on; ``revoke`` (existing writable mappings too) is forwarded, as
it takes the dataspace's own writability away for good.

Object ids, not core badges or capability selectors, name objects in
checkpoints: they are assigned by the runtime in request order and restored
with the rest of its state, so a chain of checkpoints can continue across a
restore.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rtcr.core import (
    Dataspace,
    Fault,
    Range,
    RegionMap,
    Rights,
    RomDataspace,
    SignalContext,
    SignalReceiver,
    SynchronousHandler,
    Verdict,
    WalkFailure,
)
from rtcr.errors import Denied
from rtcr.machine.parent import drop_capabilities

from .tracking import Strategy, TrackedRam

if TYPE_CHECKING:
    from rtcr.machine import Component


@dataclass
class RegionRecord:
    """One attach: where, of what, with the rights the region has (after sealing)."""

    rm_oid: int  # object id of the region map
    start: int
    size: int
    offset: int
    ds_oid: int  # object id of the attached dataspace's owner object
    writeable: bool
    executable: bool


@dataclass
class RomRecord:
    oid: int
    name: str
    rom: RomDataspace
    label: str | None = None  # opened as ROM session `label` (ROM_OPEN), else an ELF segment


@dataclass
class RamRecord:
    oid: int
    size: int
    tracked: TrackedRam
    sealed: bool = False


@dataclass
class RegionMapRecord:
    oid: int
    rm: RegionMap
    handler: int | None = None  # object id of the signal context
    regions: list[RegionRecord] = field(default_factory=list)
    destroyed: bool = False


@dataclass
class SignalRecord:
    oid: int
    context: SignalContext
    receiver: int | None = None  # object id of its receiver; None: the PD's own


@dataclass
class ReceiverRecord:
    oid: int
    receiver: SignalReceiver


ObjectRecord = RomRecord | RamRecord | RegionMapRecord | SignalRecord | ReceiverRecord

ADDRESS_SPACE_OID = 0


class _RamPager(SynchronousHandler):
    """The fault handler of one tracked RAM object's maps."""

    __slots__ = ("_before", "record", "runtime")

    def __init__(self, runtime: Runtime, record: RamRecord) -> None:
        self.runtime = runtime
        self.record = record

    def _before_upgrade(self, part: int) -> None:
        hook = self.runtime.before_upgrade
        if hook is not None:
            hook(self.record, part)

    def handle_fault(self, region_map: RegionMap, fault: Fault, reason: WalkFailure,
                     rights: Rights) -> Verdict:
        return self.record.tracked.handle_fault(
            region_map, fault, reason, rights,
            self._before_upgrade if self.runtime.before_upgrade is not None else None)


class Runtime:
    """Implements the machine's `Parent` interface for one target component."""

    def __init__(self, strategy: Strategy = Strategy.RO_ATTACH, granularity: int = 1,
                 *, banked: bool = False) -> None:
        if banked and strategy is not Strategy.RO_ATTACH:
            raise ValueError("concurrent checkpoints need the ro-attach strategy")
        self.strategy = strategy
        self.granularity = granularity
        self.banked = banked
        # Called before a tracked part becomes writable (copy-on-write of a
        # concurrent checkpoint) and before RAM is freed.
        self.before_upgrade: Callable[[RamRecord, int], None] | None = None
        self.before_free: Callable[[RamRecord], None] | None = None
        self.objects: dict[int, ObjectRecord] = {}
        self._by_core_object: dict[int, ObjectRecord] = {}
        self.next_oid = ADDRESS_SPACE_OID + 1

    # -- bookkeeping --------------------------------------------------------
    def _oid(self, restored: int | None) -> int:
        """The object id of a new object: the next one, or the one it had (restore)."""
        if restored is not None:
            return restored
        oid = self.next_oid
        self.next_oid += 1
        return oid

    def _remember(self, record: ObjectRecord, *core_objects: object) -> None:
        self.objects[record.oid] = record
        for core_object in core_objects:
            self._by_core_object[id(core_object)] = record

    def adopt_address_space(self, child: Component) -> None:
        """Record the target's own region map (selector 1) before anything is attached."""
        space = child.pd.address_space
        # RM_DATASPACE(RTCR_ADDRESS_SPACE) hands the target this map's managed dataspace.
        self._remember(RegionMapRecord(ADDRESS_SPACE_OID, space), space, space.dataspace())

    def record_of(self, core_object: object) -> ObjectRecord:
        record = self._by_core_object.get(id(core_object))
        if record is None:
            raise Denied(f"{core_object!r} was not handed out by this runtime")
        return record

    def _region_map_record(self, rm: RegionMap) -> RegionMapRecord:
        record = self.record_of(rm)
        if not isinstance(record, RegionMapRecord) or record.rm is not rm:
            raise Denied(f"{rm!r} is not a region map of this component")
        return record

    def _ram_record(self, ds: Dataspace) -> RamRecord:
        record = self._by_core_object.get(id(ds))
        if not isinstance(record, RamRecord):
            raise Denied(f"{ds!r} is not a RAM dataspace of this component")
        return record

    def ram_records(self) -> list[RamRecord]:
        return [r for r in self.objects.values() if isinstance(r, RamRecord)]

    def region_map_records(self) -> list[RegionMapRecord]:
        return [r for r in self.objects.values() if isinstance(r, RegionMapRecord)]

    # -- tracking -----------------------------------------------------------
    def allocate_ram(self, child: Component, size: int, *, oid: int | None = None,
                     armed: bool = True) -> RamRecord:
        """Allocate RAM for the target and put it behind tracked managed dataspaces.

        ``armed=False`` leaves every part unattached (see `TrackedRam.arm_part`).
        """
        ram = child.pd.alloc_ram(size)
        # The target must only ever hold the managed dataspace.
        for selector in child.pd.cap_space.selectors(ram):
            child.pd.cap_space.remove(selector)
        core = child.machine.core
        count = 1 if self.strategy is Strategy.FULL else 2
        maps = tuple(core.create_region_map(ram.size) for _ in range(count))
        tracked = TrackedRam(ram, maps, self.strategy, self.granularity, armed=armed)
        record = RamRecord(self._oid(oid), ram.size, tracked)
        self._remember(record, *(rm.dataspace() for rm in maps))
        pager = _RamPager(self, record)
        for rm in maps:
            rm.fault_handler(pager)
        return record

    def rearm(self) -> None:
        """Re-arm tracking of every RAM object (a checkpoint took the dirty sets)."""
        for record in self.ram_records():
            record.tracked.swap()

    # -- the Parent interface ------------------------------------------------
    # A restore passes `oid` to recreate an object under the id it had.
    def rom(self, child: Component, name: str, data: bytes, *, oid: int | None = None,
            label: str | None = None) -> Dataspace:
        rom = child.machine.core.create_rom(name, data)
        self._remember(RomRecord(self._oid(oid), name, rom, label), rom)
        return rom

    def rom_session(self, child: Component, name: str) -> Dataspace:
        for record in self.objects.values():
            if isinstance(record, RomRecord) and record.label == name:
                return record.rom
        return self.rom(child, name, child.roms[name], label=name)

    def ram_alloc(self, child: Component, size: int) -> Dataspace:
        return self.allocate_ram(child, size).tracked.managed.dataspace()

    def ram_free(self, child: Component, ds: Dataspace) -> None:
        record = self._ram_record(ds)
        ram = record.tracked.ram
        if ram is None:
            raise Denied(f"RAM object {record.oid} was already freed")
        if self.before_free is not None:
            self.before_free(record)
        record.tracked.release()
        child.pd.free_ram(ram)
        for selector in child.pd.cap_space.selectors(ds):
            child.pd.cap_space.remove(selector)

    def ram_seal(self, child: Component, ds: Dataspace, *, revoke: bool = False) -> None:
        record = self._ram_record(ds)
        ram = record.tracked.ram
        if ram is None:
            raise Denied(f"RAM object {record.oid} was already freed")
        record.sealed = True
        if revoke:
            child.pd.seal_ram(ram, revoke=True)
            for rm_record in self.region_map_records():
                for region in rm_record.regions:
                    if region.ds_oid == record.oid:
                        region.writeable = False

    def rm_create(self, child: Component, size: int, *, oid: int | None = None) -> RegionMap:
        rm = child.machine.core.create_region_map(size)
        self._remember(RegionMapRecord(self._oid(oid), rm), rm, rm.dataspace())
        return rm

    def rm_destroy(self, child: Component, rm: RegionMap) -> None:
        record = self._region_map_record(rm)
        if record.oid == ADDRESS_SPACE_OID:
            raise Denied("a component cannot destroy its own address space")
        child.machine.core.destroy_region_map(rm)
        drop_capabilities(child, rm)
        record.destroyed = True
        record.regions.clear()

    def rm_dataspace(self, child: Component, rm: RegionMap) -> Dataspace:
        self._region_map_record(rm)
        return rm.dataspace()

    def attach(self, child: Component, rm: RegionMap, ds: Dataspace, *, size: int, offset: int,
               at: int | None, executable: bool, writeable: bool) -> Range:
        rm_record = self._region_map_record(rm)
        ds_record = self.record_of(ds)
        if isinstance(ds_record, RamRecord):
            ds = ds_record.tracked.active.dataspace()
            writeable = writeable and not ds_record.sealed
        rng = rm.attach(ds, size=size, offset=offset, at=at, executable=executable,
                        writeable=writeable)
        rm_record.regions.append(RegionRecord(rm_record.oid, rng.start, rng.size, offset,
                                              ds_record.oid, writeable, executable))
        return rng

    def detach(self, child: Component, rm: RegionMap, at: int) -> None:
        rm_record = self._region_map_record(rm)
        region = rm.detach(at)
        rm_record.regions = [r for r in rm_record.regions if r.start != region.start]

    def fault_handler(self, child: Component, rm: RegionMap,
                      context: SignalContext | None) -> None:
        record = self._region_map_record(rm)
        rm.fault_handler(context)
        record.handler = None if context is None else self.record_of(context).oid

    def fault(self, child: Component, rm: RegionMap) -> Fault:
        self._region_map_record(rm)
        return rm.fault()

    def signal_receiver(self, child: Component, *, oid: int | None = None) -> SignalReceiver:
        receiver = SignalReceiver(child.machine.core.next_badge)
        self._remember(ReceiverRecord(self._oid(oid), receiver), receiver)
        return receiver

    def signal_context(self, child: Component, receiver: SignalReceiver | None = None, *,
                       oid: int | None = None) -> SignalContext:
        if receiver is None:
            context, receiver_oid = child.pd.signal_receiver.create_context(), None
        else:
            record = self.record_of(receiver)
            assert isinstance(record, ReceiverRecord)
            context, receiver_oid = receiver.create_context(), record.oid
        self._remember(SignalRecord(self._oid(oid), context, receiver_oid), context)
        return context

    def receiver_records(self) -> list[ReceiverRecord]:
        return [r for r in self.objects.values() if isinstance(r, ReceiverRecord)]

    # -- restore support -------------------------------------------------------
    def core_object(self, oid: int) -> object:
        """The core object a target-visible object id stands for."""
        record = self.objects[oid]
        if isinstance(record, RomRecord):
            return record.rom
        if isinstance(record, RamRecord):
            return record.tracked.managed.dataspace()
        if isinstance(record, RegionMapRecord):
            return record.rm
        if isinstance(record, ReceiverRecord):
            return record.receiver
        return record.context

    def dataspace_of(self, oid: int) -> Dataspace:
        obj = self.core_object(oid)
        if isinstance(obj, RegionMap):
            return obj.dataspace()
        assert isinstance(obj, Dataspace)
        return obj


__all__ = ["ADDRESS_SPACE_OID", "RamRecord", "ReceiverRecord", "RegionMapRecord",
           "RegionRecord", "RomRecord", "Runtime", "SignalRecord", "Strategy"]
