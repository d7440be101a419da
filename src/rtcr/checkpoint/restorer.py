"""Restoring a checkpoint into a fresh machine.

The target and every component of its tree are rebuilt through the same
runtime that recorded them: PD sessions and the children running in them
first, then object by object in object-id order: RAM and ROM with their contents from the store,
region maps with their regions at the same addresses (nested ones too),
signal contexts, then the capability space with the same selectors, then
the threads with their registers and blocked states, queued exactly where
they were (faulter queues, signal waiters, sleepers, run queue). Faulting
threads are put back on their fault queues without notifying the handler
again: the handler was told before the checkpoint.

With ``lazy`` the RAM contents are left to a `LazyLoader` (see `lazy`):
the target starts once everything else is back. The image is a
`PageSource`: a checkpoint of a store (`StoredPages`), or one arriving
over a post-copy migration's connection.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Any

from rtcr.core import (
    PAGE_SHIFT,
    PAGE_SIZE,
    CapabilitySpace,
    Dataspace,
    Fault,
    FaultType,
    ProtectionDomain,
    RegionMap,
    SignalContext,
    SignalReceiver,
)
from rtcr.core.quota import format_bytes
from rtcr.errors import CorruptCheckpoint, InvalidArgument, StoreError
from rtcr.machine import FaultStop, FaultWait, JoinWait, Machine, SignalWait, Thread, ThreadState
from rtcr.machine.component import Component, LogSink, print_log
from rtcr.store.native import address

from .image import FORMAT, object_key
from .lazy import LazyLoader, PageSource
from .runtime import RamRecord, RegionMapRecord, Runtime
from .services import Services
from .tracking import Arming, Strategy


@dataclass
class Restored:
    machine: Machine
    component: Component
    runtime: Runtime
    checkpoint_id: int
    log_lines: int  # printed before the checkpoint, by every component of the tree
    objects: set[int]
    lazy: LazyLoader | None = None  # the RAM still to load (a lazy restore)


def restore(checkpoint: PageSource, checkpoint_id: int, *, strategy: Strategy | None = None,
            granularity: int | None = None, log_sink: LogSink = print_log,
            banked: bool = False, lazy: bool = False,
            segments: dict[str, bytes] | None = None,
            ram_quota: int | None = None) -> Restored:
    """Rebuild checkpoint ``checkpoint_id`` in a fresh machine.

    ``segments`` replace the stored content of the ROMs of those names (a
    restore onto a rebuilt binary: its read-only segments). ``ram_quota``
    gives the component a RAM quota other than the one it had (the
    machine's RAM grows with it); it may not be less than the RAM the
    component's live dataspaces use.
    """
    manifest = checkpoint.manifest
    if manifest.get("format") != FORMAT:
        raise StoreError(f"checkpoint {checkpoint_id} has image format "
                         f"{manifest.get('format')!r}; this rtcr reads format {FORMAT}")
    if lazy and (strategy or Strategy(manifest["runtime"]["strategy"])) is Strategy.FULL:
        raise InvalidArgument("a lazy restore needs ro-attach or detach tracking: full "
                              "tracking copies every page at every checkpoint, so every "
                              "page would have to be loaded first (add --strategy ro-attach)")
    try:
        return _restore(checkpoint, checkpoint_id, manifest, strategy, granularity, log_sink,
                        banked, lazy, segments or {}, ram_quota)
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise CorruptCheckpoint(checkpoint_id, f"inconsistent image: {error!r}") from error


def _new_quota(manifest: dict[str, Any], checkpoint_id: int, ram_quota: int) -> int:
    """``ram_quota``, if the component's live RAM (its own, not its PD sessions') fits in it."""
    used = sum(-(-o["size"] // PAGE_SIZE) * PAGE_SIZE for o in manifest["objects"]
               if o["kind"] == "ram" and o.get("pd") is None and not o["freed"])
    if ram_quota < used:
        raise InvalidArgument(f"a RAM quota of {format_bytes(ram_quota)} is less than the "
                              f"{format_bytes(used)} the component uses at checkpoint "
                              f"{checkpoint_id}: give at least {format_bytes(used)}")
    return ram_quota


def _restore(checkpoint: PageSource, checkpoint_id: int, manifest: dict[str, Any],
             strategy: Strategy | None, granularity: int | None,
             log_sink: LogSink, banked: bool, lazy: bool,
             segments: dict[str, bytes], ram_quota: int | None) -> Restored:
    m, comp = manifest["machine"], manifest["component"]
    rt = manifest["runtime"]
    runtime = Runtime(strategy or Strategy(rt["strategy"]),
                      granularity or int(rt["granularity"]), banked=banked)
    quota = comp["ram_quota"] if ram_quota is None else _new_quota(manifest, checkpoint_id,
                                                                   ram_quota)
    machine = Machine(m["ram_size"] + max(0, quota - comp["ram_quota"]), quantum=m["quantum"],
                      log_sink=log_sink)
    component = machine.create_component(comp["name"], ram_quota=quota,
                                         cap_quota=comp["cap_quota"], parent=runtime)
    runtime.adopt_address_space(component)
    pd = component.pd

    # PD sessions first, then the children running in some of them, in the order they
    # were started: every object below is then created on behalf of its component.
    sessions = [o for o in manifest["objects"] if o["kind"] == "pd"]
    for obj in sessions:
        quota = obj["session_quota"]
        runtime.restore_pd_session(component, obj["oid"], obj["name"], obj["ram_quota"],
                                   obj["cap_quota"], None if quota is None else tuple(quota))
    components = [component]
    for entry in manifest["children"]:
        part = entry["component"]
        pd_of = _pd(runtime, part["pd"])
        components.append(machine.add_component(part["name"], pd_of, runtime)
                          if part["creator"] is None  # a scenario's start node
                          else machine.adopt_child(components[part["creator"]], part["name"],
                                                   pd_of))
    in_pd = {runtime.record_of(c.pd).oid: c for c in components[1:]}

    # Objects, in creation order, with their memory: one native scatter per object,
    # every page verified against its content hash on the way.
    ram_base = address(machine.core.ram.buffer)
    loader = LazyLoader(checkpoint, checkpoint_id, ram_base) if lazy else None
    live: set[int] = set()
    sealed: list[RamRecord] = []
    for obj in manifest["objects"]:
        oid, kind = obj["oid"], obj["kind"]
        if kind == "rom":
            given = segments.get(obj["name"]) if obj.get("label") is None else None
            data = bytearray(obj["size"]) if given is None else bytearray(given)
            if data and given is None:
                checkpoint.scatter(object_key(oid), address(data),
                                   array("Q", range(0, len(data), PAGE_SIZE)))
            scope = component if obj["scope"] is None else in_pd[obj["scope"]]
            runtime.rom(scope, obj["name"], bytes(data), oid=oid, label=obj["label"])
            live.add(oid)
        elif kind == "pd":
            continue
        elif kind == "ram":
            owner = pd if obj.get("pd") is None else _pd(runtime, obj["pd"])
            record = runtime.allocate_ram(component, obj["size"], oid=oid, pd=owner,
                                          arming=Arming.BY_LOADER if lazy else Arming.ON_DEMAND)
            ram = record.tracked.ram
            assert ram is not None and ram.frames is not None
            if obj["freed"]:
                record.tracked.release()
                owner.free_ram(ram)
                continue
            if loader is not None:
                loader.add(record, object_key(oid))
            else:
                checkpoint.scatter(object_key(oid), ram_base,  # (fresh frames are zero)
                                   array("Q", [frame << PAGE_SHIFT for frame in ram.frames]),
                                   zeroed=True)
            if obj["sealed"]:
                sealed.append(record)
            live.add(oid)
        elif kind == "rm":
            if oid == 0:
                continue
            if obj.get("pd") is not None and obj.get("stack_area"):
                runtime.pd_stack_area(component, _pd(runtime, obj["pd"]), oid=oid)
            elif obj.get("pd") is not None:  # a PD session's address space, there already
                runtime.pd_address_space(component, _pd(runtime, obj["pd"]), oid=oid)
            else:
                runtime.rm_create(component, obj["size"], oid=oid)
        elif kind == "receiver":
            runtime.signal_receiver(component, oid=oid)
        elif kind == "signal":
            at = obj.get("receiver")
            receiver = None if at is None else runtime.core_object(at)
            assert receiver is None or isinstance(receiver, SignalReceiver)
            # A context at a PD's own receiver is created by the component of that PD.
            creator = component if obj.get("pd") is None else in_pd[obj["pd"]]
            context = runtime.signal_context(creator, receiver, oid=oid)
            if obj.get("freed"):
                runtime.signal_free(component, context)
        else:
            raise ValueError(f"unknown object kind {kind!r}")
    runtime.next_oid = rt["next_oid"]
    runtime.services = _services(runtime, rt["services"])

    # Regions and fault handlers, once every object exists.
    for obj in manifest["objects"]:
        if obj["kind"] != "rm":
            continue
        target = runtime.core_object(obj["oid"])
        assert isinstance(target, RegionMap)
        for start, size, offset, ds_oid, writeable, executable in obj["regions"]:
            runtime.attach(component, target, runtime.dataspace_of(ds_oid), size=size,
                           offset=offset, at=start, executable=executable, writeable=writeable)
        if obj["handler"] is not None:
            handler = runtime.core_object(obj["handler"])
            assert isinstance(handler, SignalContext)
            runtime.fault_handler(component, target, handler)
    # Seals after the regions, which carry their effective rights already; the
    # real RAM is never sealed: the runtime emulates a seal for later attaches.
    for record in sealed:
        record.sealed = True
    # Destroyed maps last: the regions holding them elsewhere become reserved.
    for obj in manifest["objects"]:
        if obj["kind"] == "rm" and obj.get("destroyed"):
            destroyed = runtime.core_object(obj["oid"])
            assert isinstance(destroyed, RegionMap)
            runtime.rm_destroy(component, destroyed)

    # Reference accounts (a PD's own account first; the component's PD is accounted
    # from the start, so its own comes last), then every capability space.
    _restore_reference_accounts(runtime, sessions)
    if comp.get("ref") is not None:  # (images before it was kept have none)
        pd.ref_account(_pd(runtime, comp["ref"]))
    _install_selectors(runtime, pd.cap_space, manifest["selectors"], comp["next_selector"])
    for obj in sessions:
        _install_selectors(runtime, _pd(runtime, obj["oid"]).cap_space, obj["selectors"],
                           obj["next_selector"])

    # Every component's part: the root's at the top of the image, each child's in its entry.
    parts: list[Part] = [(component, comp, manifest["threads"], manifest["signals"]),
             *((child, e["component"], e["threads"], e["signals"])
               for child, e in zip(components[1:], manifest["children"], strict=True))]

    # Pending signals, in delivery order (each receiver has its own order).
    receivers = [o for o in manifest["objects"] if o["kind"] == "receiver"]
    for oid in [*(p for *_, signals in parts for p in signals["pending"]),
                *(p for r in receivers for p in r["pending"])]:
        pending = runtime.core_object(oid)
        assert isinstance(pending, SignalContext)
        pending.submit()

    _restore_threads(machine, runtime, manifest, parts, receivers)

    # Time, instruction counts, LOG state, and how the children ended or will report it.
    for owner_component, part, _, _ in parts:
        owner_component.cpu.counter.instructions = part["cpu_instructions"]
        owner_component.log_lines = part["log_lines"]
        owner_component.log_tail.extend(part["log_tail"])
        owner_component.exit_code, owner_component.crash = part["exit_code"], part["crash"]
    for child, entry in zip(components[1:], manifest["children"], strict=True):
        part = entry["component"]
        if part["exit_signal"] is not None:
            exit_signal = runtime.core_object(part["exit_signal"])
            assert isinstance(exit_signal, SignalContext)
            child.exit_signal = exit_signal
    machine.retired_instructions = m["instructions"] - sum(c.cpu.counter.instructions
                                                           for c in components)
    machine.scheduler.idle_ns = m["idle_ns"]
    log_lines = sum(c.log_lines for c in components)
    return Restored(machine, component, runtime, checkpoint_id, log_lines, live, loader)


def _services(runtime: Runtime, entry: dict[str, Any] | None) -> Services | None:
    """A scenario's services as they were; what was announced is named by object id."""
    if entry is None:
        return None
    services = Services({c: tuple(s) for c, s in entry["provides"].items()},
                        {(c, s): p for c, s, p in entry["routes"]})
    for provider, name, oid, managed in entry["announced"]:
        obj = runtime.dataspace_of(oid) if managed else runtime.core_object(oid)
        assert isinstance(obj, Dataspace | SignalContext)
        services.announced[provider, name] = obj
    return services


#: A component's part of the image: the component, its counters, threads and PD receiver.
Part = tuple[Component, dict[str, Any], list[dict[str, Any]], dict[str, Any]]


def _restore_threads(machine: Machine, runtime: Runtime, manifest: dict[str, Any],
                     parts: list[Part], receivers: list[dict[str, Any]]) -> None:
    """Every component's threads, each queued exactly where it was.

    Signal waiters, sleepers, faulters (without telling the handler again:
    it was told before the checkpoint), the run queue and the carried slice.
    """
    scheduler = machine.scheduler
    scheduler.run_queue.clear()
    threads: dict[tuple[int, int], Thread] = {}
    blockers: dict[tuple[int, int], dict[str, Any] | None] = {}
    for number, (owner_component, part, entries, signals) in enumerate(parts):
        for entry in entries:
            threads[number, entry["tid"]] = _thread(owner_component, entry)
            blockers[number, entry["tid"]] = entry["blocker"]
        owner_component.next_tid = part["next_tid"]
        for tid in signals["waiters"]:
            thread = threads[number, tid]
            thread.block(SignalWait())
            owner_component.pd.signal_receiver.wait(thread)
    for entry in receivers:
        receiver = runtime.core_object(entry["oid"])
        assert isinstance(receiver, SignalReceiver)
        for ref in entry["waiters"]:
            waiter = threads[_ref(ref)]
            waiter.block(SignalWait(receiver))
            receiver.wait(waiter)
    for ref in manifest["sleepers"]:
        blocker = blockers[_ref(ref)]
        assert blocker is not None
        scheduler.sleep(threads[_ref(ref)], blocker["deadline_ns"])
    for entry in manifest["faulters"]:
        thread = threads[entry["component"], entry["tid"]]
        rm = _fault_map(runtime, entry["map"])
        fault = Fault(FaultType(entry["type"]), entry["addr"])
        thread.block(FaultWait(rm, fault))
        rm.enqueue(thread, fault)
    for ref in manifest["run_queue"]:
        scheduler.run_queue.append(threads[_ref(ref)])
    if manifest["machine"]["slice"] is not None:
        carried = manifest["machine"]["slice"]
        scheduler.carry(threads[carried["component"], carried["tid"]], carried["left"])


def _thread(component: Component, entry: dict[str, Any]) -> Thread:
    """A thread with its registers and state, on no queue yet (a join or stop blocks it)."""
    stack = tuple(entry["stack"]) if entry["stack"] else None
    thread = component.create_thread(entry.get("registers") or {}, stack=stack,
                                     name=entry["name"], tid=entry["tid"])
    thread.instructions = entry["instructions"]
    component.machine.scheduler.run_queue.remove(thread)
    thread.state = ThreadState(entry["state"])
    if thread.state is ThreadState.EXITED:
        thread.registers = None
    blocker = entry["blocker"]
    if blocker is not None and blocker["kind"] == "join":
        thread.block(JoinWait(blocker["tid"]))
    elif blocker is not None and blocker["kind"] == "stopped":
        thread.block(FaultStop(blocker["report"]))
    return thread


def _ref(ref: list[int]) -> tuple[int, int]:
    """A thread reference of the image: (component index, thread id)."""
    number, tid = ref
    return number, tid


def _pd(runtime: Runtime, oid: int) -> ProtectionDomain:
    pd = runtime.core_object(oid)
    if not isinstance(pd, ProtectionDomain):
        raise ValueError(f"object {oid} is not a PD")
    return pd


def _restore_reference_accounts(runtime: Runtime, sessions: list[dict[str, Any]]) -> None:
    """Set each PD session's reference account, a reference's own before it is named."""
    done: set[int] = set()

    def restore(obj: dict[str, Any], chain: tuple[int, ...]) -> None:
        oid, ref = obj["oid"], obj["ref"]
        if oid in done or ref is None:
            return
        if oid in chain:
            raise ValueError(f"PD {oid}: its reference accounts form a cycle")
        for other in sessions:
            if other["oid"] == ref:
                restore(other, (*chain, oid))
        _pd(runtime, oid).ref_account(_pd(runtime, ref))
        done.add(oid)

    for obj in sessions:
        restore(obj, ())


def _install_selectors(runtime: Runtime, caps: CapabilitySpace, entries: list[list[int]],
                       next_selector: int) -> None:
    """Put every object back under the selector it had; selectors go on from there."""
    for selector, oid, managed in entries:
        obj = runtime.core_object(oid)
        if managed:
            assert isinstance(obj, RegionMap)
            obj = obj.dataspace()
        caps.insert_at(selector, obj)
    caps.advance_to(next_selector)


def _fault_map(runtime: Runtime, oid: int) -> RegionMap:
    record = runtime.objects[oid]
    if isinstance(record, RamRecord):
        return record.tracked.parts_map
    assert isinstance(record, RegionMapRecord)
    return record.rm
