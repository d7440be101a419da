"""Restoring a checkpoint into a fresh machine.

The target is rebuilt through the same runtime that recorded it, object by
object in object-id order: RAM and ROM with their contents from the store,
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
from .tracking import Arming, Strategy


@dataclass
class Restored:
    machine: Machine
    component: Component
    runtime: Runtime
    checkpoint_id: int
    log_lines: int
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
            runtime.rom(component, obj["name"], bytes(data), oid=oid, label=obj.get("label"))
            live.add(oid)
        elif kind == "pd":
            runtime.restore_pd_session(component, oid, obj["name"], obj["ram_quota"],
                                       obj["cap_quota"], tuple(obj["session_quota"]))
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
            context = runtime.signal_context(component, receiver, oid=oid)
            if obj.get("freed"):
                runtime.signal_free(component, context)
        else:
            raise ValueError(f"unknown object kind {kind!r}")
    runtime.next_oid = rt["next_oid"]

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

    # Reference accounts (a PD's own account first), then every capability space.
    sessions = [o for o in manifest["objects"] if o["kind"] == "pd"]
    _restore_reference_accounts(runtime, sessions)
    _install_selectors(runtime, pd.cap_space, manifest["selectors"], comp["next_selector"])
    for obj in sessions:
        _install_selectors(runtime, _pd(runtime, obj["oid"]).cap_space, obj["selectors"],
                           obj["next_selector"])

    # Pending signals, in delivery order (each receiver has its own order).
    receivers = [o for o in manifest["objects"] if o["kind"] == "receiver"]
    for oid in [*manifest["signals"]["pending"], *(p for r in receivers for p in r["pending"])]:
        pending = runtime.core_object(oid)
        assert isinstance(pending, SignalContext)
        pending.submit()

    # Threads.
    scheduler = machine.scheduler
    scheduler.run_queue.clear()
    threads: dict[int, Thread] = {}
    for entry in manifest["threads"]:
        stack = tuple(entry["stack"]) if entry["stack"] else None
        thread = component.create_thread(entry.get("registers") or {}, stack=stack,
                                         name=entry["name"], tid=entry["tid"])
        thread.instructions = entry["instructions"]
        scheduler.run_queue.remove(thread)
        thread.state = ThreadState(entry["state"])
        if thread.state is ThreadState.EXITED:
            thread.registers = None
        threads[thread.tid] = thread
        blocker = entry["blocker"]
        if blocker is not None and blocker["kind"] == "join":
            thread.block(JoinWait(blocker["tid"]))
        elif blocker is not None and blocker["kind"] == "stopped":
            thread.block(FaultStop(blocker["report"]))
    component.next_tid = comp["next_tid"]
    for tid in manifest["signals"]["waiters"]:
        thread = threads[tid]
        thread.block(SignalWait())
        pd.signal_receiver.wait(thread)
    for entry in receivers:
        receiver = runtime.core_object(entry["oid"])
        assert isinstance(receiver, SignalReceiver)
        for tid in entry["waiters"]:
            threads[tid].block(SignalWait(receiver))
            receiver.wait(threads[tid])
    for tid in manifest["sleepers"]:
        thread = threads[tid]
        blocker = next(e["blocker"] for e in manifest["threads"] if e["tid"] == tid)
        scheduler.sleep(thread, blocker["deadline_ns"])
    for entry in manifest["faulters"]:
        thread = threads[entry["tid"]]
        rm = _fault_map(runtime, entry["map"])
        fault = Fault(FaultType(entry["type"]), entry["addr"])
        thread.block(FaultWait(rm, fault))
        rm.enqueue(thread, fault)
    for tid in manifest["run_queue"]:
        scheduler.run_queue.append(threads[tid])
    if m["slice"] is not None:
        scheduler.carry(threads[m["slice"]["tid"]], m["slice"]["left"])

    # Time and instruction counts.
    component.cpu.counter.instructions = comp["cpu_instructions"]
    machine.retired_instructions = m["instructions"] - comp["cpu_instructions"]
    scheduler.idle_ns = m["idle_ns"]
    component.log_lines = comp["log_lines"]
    component.log_tail.extend(comp.get("log_tail", ()))  # checkpoints before tails had none
    return Restored(machine, component, runtime, checkpoint_id, comp["log_lines"], live, loader)


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
