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

Every component of the target's tree is served here too: a child runs in
one of the target's PD sessions and its creator's parent is its parent, so
its objects are recorded under the same object ids and a checkpoint holds
the whole tree. In a scenario the runtime is the parent of every start
node's component (`adopt_component`) and routes their services.

Object ids, not core badges or capability selectors, name objects in
checkpoints: they are assigned by the runtime in request order and restored
with the rest of its state, so a chain of checkpoints can continue across a
restore.

Why one module of this size: it is the Parent interface the target calls,
and each call both forwards to core and records the object; splitting the
recording from the forwarding would put every call in two places.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rtcr.core import (
    Dataspace,
    Fault,
    ProtectionDomain,
    RamDataspace,
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
from rtcr.errors import Denied, InvalidDataspace
from rtcr.machine.parent import Child, drop_capabilities, stack_area_of

from .services import Services
from .tracking import Arming, Strategy, TrackedRam


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
    scope: int | None = None  # PD object id of the scenario component it is a module of


@dataclass
class RamRecord:
    oid: int
    size: int
    tracked: TrackedRam
    sealed: bool = False
    pd: int | None = None  # object id of the PD session it is charged to; None: the target's


@dataclass
class PdRecord:
    """A PD session the target opened (Genode's ``Pd_connection``)."""

    oid: int
    pd: ProtectionDomain


@dataclass
class RegionMapRecord:
    oid: int
    rm: RegionMap
    handler: int | None = None  # object id of the signal context
    regions: list[RegionRecord] = field(default_factory=list)
    destroyed: bool = False
    pd: int | None = None  # object id of the PD session whose address space (or stack area) it is
    stack_area: bool = False


@dataclass
class SignalRecord:
    oid: int
    context: SignalContext
    receiver: int | None = None  # object id of its receiver; None: the PD's own
    freed: bool = False
    pd: int | None = None  # object id of the PD whose own receiver it is at; None: the target's


@dataclass
class ReceiverRecord:
    oid: int
    receiver: SignalReceiver


ObjectRecord = RomRecord | RamRecord | RegionMapRecord | SignalRecord | ReceiverRecord | PdRecord

ADDRESS_SPACE_OID = 0
OWN_PD_OID = -1  # the target's own PD: described by the image's component, not an object


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
    """Implements the machine's `Parent` interface for the target and its tree.

    In a scenario, the runtime is the parent of every start node's component
    (the first is the target, the others are adopted, see `adopt_component`).
    """

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
        self.services: Services | None = None  # a scenario's (None: no services)
        # What every checkpoint records as its provenance (`provenance.Provenance.as_json`);
        # the session sets it, None records none.
        self.provenance: dict[str, Any] | None = None

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

    def adopt_address_space(self, child: Child) -> None:
        """Record the target's own region map (selector 1) before anything is attached."""
        space = child.pd.address_space
        # RM_DATASPACE(RTCR_ADDRESS_SPACE) hands the target this map's managed dataspace.
        self._remember(RegionMapRecord(ADDRESS_SPACE_OID, space), space, space.dataspace())
        # Its own PD, named when the target passes it on (Env::pd_session_cap).
        self._remember(PdRecord(OWN_PD_OID, child.pd), child.pd)

    def adopt_component(self, component: Child) -> None:
        """Record a further component the runtime itself starts (a scenario's start node).

        Its PD is an object like a PD session's, so everything it allocates names it.
        """
        self._remember(PdRecord(self._oid(None), component.pd), component.pd)
        self.pd_address_space(component, component.pd)

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

    def pd_records(self) -> list[PdRecord]:
        """The PD sessions the target opened (not its own PD)."""
        return [r for r in self.objects.values()
                if isinstance(r, PdRecord) and r.oid != OWN_PD_OID]

    def _owner(self, child: Child, pd: ProtectionDomain | None) -> tuple[ProtectionDomain,
                                                                           int | None]:
        """The PD a call acts on (None: the caller's own) and its object id (None: the target's).

        A child of the target runs in one of the target's PD sessions, so its
        own PD has an object id like any other session.
        """
        pd = pd or child.pd
        record = self.record_of(pd)
        if not isinstance(record, PdRecord):
            raise Denied(f"{pd!r} is not a PD session of this component")
        return pd, None if record.oid == OWN_PD_OID else record.oid

    def region_map_records(self) -> list[RegionMapRecord]:
        return [r for r in self.objects.values() if isinstance(r, RegionMapRecord)]

    # -- tracking -----------------------------------------------------------
    def allocate_ram(self, child: Child, size: int, *, oid: int | None = None,
                     pd: ProtectionDomain | None = None,
                     arming: Arming = Arming.AT_ONCE) -> RamRecord:
        """Allocate RAM on `pd` (None: the target's PD), behind tracked managed dataspaces.

        ``arming`` says when its parts are attached (see `tracking.Arming`).
        """
        owner, pd_oid = self._owner(child, pd)
        ram = owner.alloc_ram(size)
        # The target must only ever hold the managed dataspace.
        for selector in owner.cap_space.selectors(ram):
            owner.cap_space.remove(selector)
        core = child.machine.core
        count = 1 if self.strategy is Strategy.FULL else 2
        maps = tuple(core.create_region_map(ram.size) for _ in range(count))
        tracked = TrackedRam(ram, maps, self.strategy, self.granularity, arming=arming)
        record = RamRecord(self._oid(oid), ram.size, tracked, pd=pd_oid)
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
    def rom(self, child: Child, name: str, data: bytes, *, oid: int | None = None,
            label: str | None = None) -> Dataspace:
        rom = child.machine.core.create_rom(name, data)
        scope = None if label is None else self._rom_scope(child)
        self._remember(RomRecord(self._oid(oid), name, rom, label, scope), rom)
        return rom

    def _rom_scope(self, child: Child) -> int | None:
        """Whose ROM modules `child` opens: those of the component the runtime started it
        under (a child has its creator's), by PD object id (None: the target's)."""
        top = child
        while top.creator is not None:
            top = top.creator
        return self._owner(top, None)[1]

    def provide_roms(self, child: Child) -> None:
        """The ROM modules `child` may open, as objects of their own from the start.

        A checkpoint then holds them as it holds the program's segments, so a
        restored component opens a ROM it had not opened before the checkpoint
        just as the original would have.
        """
        for name, data in sorted(child.roms.items()):
            self.rom(child, name, data, label=name)

    def rom_session(self, child: Child, name: str) -> Dataspace:
        scope = self._rom_scope(child)
        for record in self.objects.values():
            if isinstance(record, RomRecord) and record.label == name and record.scope == scope:
                return record.rom
        if name not in child.roms:
            raise Denied(f"{child.name} has no ROM named {name!r}")
        return self.rom(child, name, child.roms[name], label=name)

    def ram_alloc(self, child: Child, size: int, *,
                  pd: ProtectionDomain | None = None) -> Dataspace:
        ds = self.allocate_ram(child, size, pd=pd).tracked.managed.dataspace()
        if pd is not None and pd is not child.pd:
            # The PD pays a cap for its dataspace, as core charges it for its own RAM.
            pd.cap_space.insert(ds)
        return ds

    def _owned_ram(self, child: Child, ds: Dataspace, pd: ProtectionDomain | None,
                   what: str) -> tuple[RamRecord, RamDataspace, ProtectionDomain]:
        """The record and real RAM of `ds`; `Denied` unless `pd` owns it, before any change."""
        owner, _ = self._owner(child, pd)
        record = self._ram_record(ds)
        ram = record.tracked.ram
        if ram is None:
            raise Denied(f"RAM object {record.oid} was already freed")
        owner.check_owner(ram, what)
        return record, ram, owner

    def ram_free(self, child: Child, ds: Dataspace, *,
                 pd: ProtectionDomain | None = None) -> None:
        record, ram, owner = self._owned_ram(child, ds, pd, "free")
        if self.before_free is not None:
            self.before_free(record)
        record.tracked.release()
        owner.free_ram(ram)
        child.machine.core.revoke(ds)

    def ram_of(self, child: Child, ds: Dataspace) -> RamDataspace:
        ram = self._ram_record(ds).tracked.ram
        if ram is None:
            raise InvalidDataspace(f"{ds!r} was already freed")
        return ram

    def pd_session(self, child: Child, name: str) -> ProtectionDomain:
        pd = child.machine.core.create_pd_session(child.pd, name)
        self._remember(PdRecord(self._oid(None), pd), pd)
        return pd

    def pd_address_space(self, child: Child, pd: ProtectionDomain, *,
                         oid: int | None = None) -> RegionMap:
        _, pd_oid = self._owner(child, pd)  # a PD of this target's
        space = pd.address_space
        if id(space) not in self._by_core_object:
            self._remember(RegionMapRecord(self._oid(oid), space, pd=pd_oid), space,
                           space.dataspace())
        return space

    def pd_stack_area(self, child: Child, pd: ProtectionDomain, *,
                      oid: int | None = None) -> RegionMap:
        _, pd_oid = self._owner(child, pd)
        area = stack_area_of(pd)
        if id(area) not in self._by_core_object:
            self._remember(RegionMapRecord(self._oid(oid), area, pd=pd_oid, stack_area=True),
                           area, area.dataspace())
        return area

    def child_started(self, child: Child) -> None:
        # The child runs in one of the target's PD sessions; its requests are served here
        # too, so its objects are the runtime's and checkpoints hold the whole tree.
        self.pd_address_space(child, child.pd)
        self.pd_stack_area(child, child.pd)

    def restore_pd_session(self, child: Child, oid: int, name: str, ram_quota: int,
                           cap_quota: int,
                           session_quota: tuple[int, int] | None) -> ProtectionDomain:
        """Recreate a PD session with the limits it had; nobody pays for it again.

        ``session_quota`` None: the PD of a scenario's component (no session).
        """
        pd = child.machine.core.create_pd(name, ram_quota, cap_quota,
                                          session_quota=session_quota)
        self._remember(PdRecord(oid, pd), pd)
        return pd

    def ram_seal(self, child: Child, ds: Dataspace, *, revoke: bool = False,
                 pd: ProtectionDomain | None = None) -> None:
        record, ram, owner = self._owned_ram(child, ds, pd, "seal")
        record.sealed = True
        if revoke:
            owner.seal_ram(ram, revoke=True)
            for rm_record in self.region_map_records():
                for region in rm_record.regions:
                    if region.ds_oid == record.oid:
                        region.writeable = False

    def rm_create(self, child: Child, size: int, *, oid: int | None = None) -> RegionMap:
        rm = child.machine.core.create_region_map(size)
        self._remember(RegionMapRecord(self._oid(oid), rm), rm, rm.dataspace())
        return rm

    def rm_destroy(self, child: Child, rm: RegionMap) -> None:
        record = self._region_map_record(rm)
        if record.oid == ADDRESS_SPACE_OID:
            raise Denied("a component cannot destroy its own address space")
        child.machine.core.destroy_region_map(rm)
        drop_capabilities(child, rm)
        record.destroyed = True
        record.regions.clear()

    def rm_dataspace(self, child: Child, rm: RegionMap) -> Dataspace:
        self._region_map_record(rm)
        return rm.dataspace()

    def attach(self, child: Child, rm: RegionMap, ds: Dataspace, *, size: int, offset: int,
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

    def detach(self, child: Child, rm: RegionMap, at: int) -> None:
        rm_record = self._region_map_record(rm)
        region = rm.detach(at)
        rm_record.regions = [r for r in rm_record.regions if r.start != region.start]

    def fault_handler(self, child: Child, rm: RegionMap,
                      context: SignalContext | None) -> None:
        record = self._region_map_record(rm)
        rm.fault_handler(context)
        record.handler = None if context is None else self.record_of(context).oid

    def fault(self, child: Child, rm: RegionMap) -> Fault:
        self._region_map_record(rm)
        return rm.fault()

    def signal_receiver(self, child: Child, *, oid: int | None = None) -> SignalReceiver:
        receiver = SignalReceiver(child.machine.core.next_badge)
        self._remember(ReceiverRecord(self._oid(oid), receiver), receiver)
        return receiver

    def signal_context(self, child: Child, receiver: SignalReceiver | None = None, *,
                       oid: int | None = None) -> SignalContext:
        _, pd_oid = self._owner(child, None)
        if receiver is None:
            context, receiver_oid = child.pd.signal_receiver.create_context(), None
        else:
            record = self.record_of(receiver)
            assert isinstance(record, ReceiverRecord)
            context, receiver_oid = receiver.create_context(), record.oid
        self._remember(SignalRecord(self._oid(oid), context, receiver_oid,
                                    pd=None if receiver_oid is not None else pd_oid), context)
        return context

    def signal_free(self, child: Child, context: SignalContext) -> None:
        record = self.record_of(context)
        assert isinstance(record, SignalRecord)
        context.receiver.dissolve(context)
        child.machine.core.revoke(context)
        record.freed = True

    def announce(self, child: Child, name: str, obj: Dataspace | SignalContext) -> None:
        self.record_of(obj)  # handed out here
        if self.services is None:
            raise Denied(f"{child.name} cannot announce {name!r}: services are routed only "
                         "in a scenario (rtcr run SCENARIO.config)")
        self.services.announce(child.name, name, obj)

    def request(self, child: Child, name: str) -> Dataspace | SignalContext:
        if self.services is None:
            raise Denied(f"{child.name} has no route to a service {name!r}: services are "
                         "routed only in a scenario (rtcr run SCENARIO.config)")
        return self.services.request(child.name, name)

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
        if isinstance(record, PdRecord):
            return record.pd
        return record.context

    def dataspace_of(self, oid: int) -> Dataspace:
        obj = self.core_object(oid)
        if isinstance(obj, RegionMap):
            return obj.dataspace()
        assert isinstance(obj, Dataspace)
        return obj


__all__ = ["ADDRESS_SPACE_OID", "OWN_PD_OID", "PdRecord", "RamRecord", "ReceiverRecord",
           "RegionMapRecord", "RegionRecord", "RomRecord", "Runtime", "SignalRecord", "Strategy"]
