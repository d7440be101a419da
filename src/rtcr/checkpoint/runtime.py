"""The checkpoint/restore runtime: the target's parent.

The runtime serves the target's sessions by forwarding to core, and records
what a restore needs: every object the target created (RAM, ROM, region
maps, signal contexts) under a stable *object id*, and every region *as the
target asked for it*. RAM is handed out as a managed dataspace in which the
runtime attaches the real memory for dirty tracking (`tracking`); the
target cannot tell the difference, because a read-only attach downgrades
rights without changing contents or addresses.

Object ids, not core badges or capability selectors, name objects in
checkpoints: they are assigned by the runtime in request order and restored
with the rest of its state, so a chain of checkpoints can continue across a
restore.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rtcr.core import (
    MAX_NESTING,
    Dataspace,
    Fault,
    ManagedDataspace,
    Range,
    RegionMap,
    RomDataspace,
    SignalContext,
    SignalReceiver,
)
from rtcr.errors import Denied
from rtcr.machine.thread import FaultWait, Thread

from .tracking import Strategy, TrackedRam

if TYPE_CHECKING:
    from rtcr.machine import Component

log = logging.getLogger("rtcr.checkpoint")


@dataclass
class RegionRecord:
    """One attach, as the target asked for it."""

    rm: int  # object id of the region map
    start: int
    size: int
    offset: int
    ds: int  # object id of the attached dataspace's owner object
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
        self._by_managed_map: dict[int, RamRecord] = {}
        self.next_oid = ADDRESS_SPACE_OID + 1
        self.tracking_faults = 0

    # -- bookkeeping --------------------------------------------------------
    def _oid(self, restored: int | None) -> int:
        """The object id of a new object: the next one, or the one it had (restore)."""
        if restored is not None:
            return restored
        oid = self.next_oid
        self.next_oid += 1
        return oid

    def _remember(self, record: ObjectRecord, core_object: object) -> None:
        self.objects[record.oid] = record
        self._by_core_object[id(core_object)] = record

    def adopt_address_space(self, child: Component) -> None:
        """Record the target's own region map (selector 1) before anything is attached."""
        record = RegionMapRecord(ADDRESS_SPACE_OID, child.pd.address_space)
        self._remember(record, child.pd.address_space)
        # RM_DATASPACE(RTCR_ADDRESS_SPACE) hands the target this map's managed dataspace.
        self._by_core_object[id(child.pd.address_space.dataspace())] = record

    def record_of(self, core_object: object) -> ObjectRecord:
        record = self._by_core_object.get(id(core_object))
        if record is None:
            raise Denied(f"{core_object!r} was not handed out by this runtime")
        return record

    def _region_map_record(self, rm: RegionMap) -> RegionMapRecord:
        record = self.record_of(rm)
        assert isinstance(record, RegionMapRecord)
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
    def track(self, child: Component, size: int, *, oid: int | None = None) -> RamRecord:
        """Allocate RAM for the target and wrap it in a tracked managed dataspace."""
        ram = child.pd.alloc_ram(size)
        # The target must only ever hold the managed dataspace.
        for selector in child.pd.cap_space.selectors(ram):
            child.pd.cap_space.remove(selector)
        core = child.machine.core
        managed = core.create_region_map(ram.size)
        banks = ((core.create_region_map(ram.size), core.create_region_map(ram.size))
                 if self.banked else None)
        tracked = TrackedRam(ram, managed, self.strategy, self.granularity, banks)
        record = RamRecord(self._oid(oid), ram.size, tracked)
        self._remember(record, managed.dataspace())
        for rm in tracked.maps():
            rm.fault_handler(self._on_tracking_fault)
            self._by_managed_map[id(rm)] = record
        return record

    def _on_tracking_fault(self, managed: RegionMap) -> None:
        record = self._by_managed_map[id(managed)]
        hook = self.before_upgrade
        before = None if hook is None else (lambda part: hook(record, part))
        for faulter, fault in managed.faulters():
            if record.tracked.handle(fault, before):
                self.tracking_faults += 1
            elif isinstance(faulter, Thread):
                self._reflect_to_target(record, managed, faulter, fault)

    def _reflect_to_target(self, record: RamRecord, managed: RegionMap, thread: Thread,
                           fault: Fault) -> None:
        """A fault tracking cannot resolve (a write to sealed RAM, an access to freed
        RAM) belongs to the target: reflect it where core would have without the
        runtime -- to the map holding the region through which the thread reached
        this RAM, in that map's coordinates.
        """
        found = _map_above(thread.component.pd.address_space, thread.fault_address,
                           record.tracked.managed)
        if found is None:
            log.warning("illegal %s at address %#x of RAM object %d",
                        fault.type.name, fault.addr, record.oid)
            return
        rm, addr = found
        managed.cancel_fault(thread)
        target_fault = Fault(fault.type, addr)
        thread.blocker = FaultWait(rm, target_fault)
        rm.enqueue_fault(thread, target_fault)

    def rearm(self) -> None:
        for record in self.ram_records():
            record.tracked.rearm()

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
        return self.track(child, size).tracked.managed.dataspace()

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
        if record.tracked.ram is None:
            raise Denied(f"RAM object {record.oid} was already freed")
        child.pd.seal_ram(record.tracked.ram)
        record.sealed = True

    def rm_create(self, child: Component, size: int, *, oid: int | None = None) -> RegionMap:
        rm = child.machine.core.create_region_map(size)
        record = RegionMapRecord(self._oid(oid), rm)
        self._remember(record, rm)
        self._by_core_object[id(rm.dataspace())] = record
        return rm

    def rm_dataspace(self, child: Component, rm: RegionMap) -> Dataspace:
        self._region_map_record(rm)
        return rm.dataspace()

    def attach(self, child: Component, rm: RegionMap, ds: Dataspace, *, size: int, offset: int,
               at: int | None, executable: bool, writeable: bool) -> Range:
        rm_record = self._region_map_record(rm)
        ds_record = self.record_of(ds)
        rng = rm.attach(ds, size=size, offset=offset, at=at, executable=executable,
                        writeable=writeable)
        rm_record.regions.append(RegionRecord(rm_record.oid, rng.start, rng.size, offset,
                                              ds_record.oid, writeable, executable))
        return rng

    def detach(self, child: Component, rm: RegionMap, at: int) -> None:
        rm_record = self._region_map_record(rm)
        region = rm.region_at(at)
        rm.detach(at)
        if region is not None:
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


def _map_above(space: RegionMap, address: int | None,
               managed: RegionMap) -> tuple[RegionMap, int] | None:
    """Walk `address` of `space` down to `managed`: the map (and address in it) one level up."""
    if address is None:
        return None
    rm, addr = space, address
    for _ in range(MAX_NESTING):
        region = rm.region_at(addr)
        if region is None or not isinstance(region.dataspace, ManagedDataspace):
            return None
        inner = region.dataspace.region_map
        if inner is managed:
            return rm, addr
        rm, addr = inner, addr - region.start + region.offset
    return None


__all__ = ["ADDRESS_SPACE_OID", "ManagedDataspace", "RamRecord", "ReceiverRecord",
           "RegionMapRecord", "RegionRecord", "RomRecord", "Runtime", "SignalRecord",
           "Strategy"]
