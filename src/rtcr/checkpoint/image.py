"""The checkpoint image: everything but memory contents, as plain JSON data.

`capture` turns a paused machine plus the runtime's records into a
manifest; `restorer` turns a manifest plus page contents back into a
machine. Only explicit, portable values go in: register values by name,
object ids, selectors, virtual addresses, virtual time. No host addresses,
no wall-clock time, no unicorn-internal layout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rtcr.abi import ADDRESS_SPACE_SELECTOR
from rtcr.core import RegionMap
from rtcr.errors import Denied
from rtcr.machine import FaultStop, FaultWait, JoinWait, SignalWait, SleepUntil, Thread, ThreadState

from .provenance import MANIFEST_KEY as PROVENANCE_KEY
from .runtime import (
    OWN_PD_OID,
    PdRecord,
    RamRecord,
    ReceiverRecord,
    RegionMapRecord,
    RomRecord,
    Runtime,
    SignalRecord,
)

if TYPE_CHECKING:
    from rtcr.core import CapabilitySpace
    from rtcr.machine import Component, Machine

FORMAT = 2
"""Image layout version: 2 added the x87 registers, tag, pointers and the data segment
selectors to every thread (a format-1 image lacks them and is refused, not guessed)."""

Manifest = dict[str, Any]


def object_key(oid: int) -> str:
    """The store key of a memory object."""
    return f"obj:{oid}"


def _blocker(thread: Thread, runtime: Runtime) -> dict[str, Any] | None:
    blocker = thread.blocker
    if blocker is None:
        return None
    if isinstance(blocker, FaultWait):
        return {"kind": "fault"}
    if isinstance(blocker, FaultStop):
        return {"kind": "stopped", "report": blocker.report}
    if isinstance(blocker, SignalWait):
        return {"kind": "signal"}
    if isinstance(blocker, SleepUntil):
        return {"kind": "sleep", "deadline_ns": blocker.deadline_ns}
    if isinstance(blocker, JoinWait):
        return {"kind": "join", "tid": blocker.tid}
    raise AssertionError(f"unknown blocker {blocker!r}")


def _objects(runtime: Runtime) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for oid, record in sorted(runtime.objects.items()):
        if isinstance(record, RomRecord):
            out.append({"oid": oid, "kind": "rom", "name": record.name, "size": record.rom.size,
                        "label": record.label})
        elif isinstance(record, RamRecord):
            out.append({"oid": oid, "kind": "ram", "size": record.size,
                        "sealed": record.sealed, "freed": record.tracked.freed,
                        "pd": record.pd})
        elif isinstance(record, RegionMapRecord):
            out.append({"oid": oid, "kind": "rm", "size": record.rm.size,
                        "handler": record.handler,
                        "destroyed": record.destroyed, "pd": record.pd,
                        "stack_area": record.stack_area,
                        "regions": [[r.start, r.size, r.offset, r.ds_oid, r.writeable,
                                     r.executable]
                                    for r in record.regions]})
        elif isinstance(record, SignalRecord):
            out.append({"oid": oid, "kind": "signal", "receiver": record.receiver,
                        "freed": record.freed})
        elif isinstance(record, PdRecord):
            if oid != OWN_PD_OID:  # the target's own PD is the image's "component"
                out.append(_pd_session(record, runtime))
        elif isinstance(record, ReceiverRecord):
            out.append({"oid": oid, "kind": "receiver",
                        "pending": [runtime.record_of(ctx).oid
                                    for ctx in record.receiver.pending_queue()],
                        "waiters": [w.tid for w in record.receiver.waiters()
                                    if isinstance(w, Thread)]})
    return out


def _selectors(caps: CapabilitySpace, runtime: Runtime) -> list[list[int]]:
    """[selector, object id, 1 if it names a map's managed dataspace] of a capability space."""
    out: list[list[int]] = []
    for selector, obj in caps.items():
        if selector == ADDRESS_SPACE_SELECTOR:
            continue
        record = runtime.record_of(obj)
        out.append([selector, record.oid,
                    1 if isinstance(record, RegionMapRecord) and obj is not record.rm else 0])
    return out


def _pd_session(record: PdRecord, runtime: Runtime) -> dict[str, Any]:
    """A PD session: its limits (transfers are in them), account and capability space."""
    pd = record.pd
    ref = pd.reference_account
    return {"oid": record.oid, "kind": "pd", "name": pd.name, "ram_quota": pd.ram_quota(),
            "cap_quota": pd.cap_quota(), "session_quota": list(pd.session_quota),
            "ref": None if ref is None else runtime.record_of(ref).oid,
            "selectors": _selectors(pd.cap_space, runtime),
            "next_selector": pd.cap_space.next_selector}


def _faulters(runtime: Runtime) -> list[dict[str, Any]]:
    """Every queued faulter, map by map, in queue order."""
    out: list[dict[str, Any]] = []
    maps: list[tuple[int, RegionMap]] = [(r.oid, r.rm) for r in runtime.region_map_records()]
    maps += [(r.oid, r.tracked.parts_map) for r in runtime.ram_records()]
    for oid, rm in maps:
        for faulter, fault in rm.faulters():
            assert isinstance(faulter, Thread), "host faulters never outlive an access"
            out.append({"map": oid, "tid": faulter.tid, "type": int(fault.type),
                        "addr": fault.addr})
    return out


def capture(machine: Machine, component: Component, runtime: Runtime) -> Manifest:
    """Describe a paused machine completely, except for memory contents."""
    if component.children:
        raise Denied(f"{component.name} started children: checkpoints of a component tree "
                     "are not supported yet (the image holds one component)")
    scheduler = machine.scheduler
    caps = component.pd.cap_space
    selectors = _selectors(caps, runtime)
    receiver = component.pd.signal_receiver
    threads = []
    for tid, thread in sorted(component.threads.items()):
        entry: dict[str, Any] = {"tid": tid, "name": thread.name, "state": thread.state.value,
                                 "blocker": _blocker(thread, runtime),
                                 "stack": list(thread.stack) if thread.stack else None,
                                 "instructions": thread.instructions}
        if thread.state is not ThreadState.EXITED:
            entry["registers"] = component.cpu.registers_of(thread)
        threads.append(entry)
    return {
        "format": FORMAT,
        "machine": {
            "ram_size": machine.core.ram.size,
            "quantum": scheduler.quantum,
            "instructions": machine.instructions,
            "idle_ns": scheduler.idle_ns,
            "slice": scheduler.slice_state(),
        },
        "runtime": {"strategy": runtime.strategy.value, "granularity": runtime.granularity,
                    "next_oid": runtime.next_oid},
        "component": {
            "name": component.name,
            "ram_quota": component.pd.ram_quota(),
            "cap_quota": component.pd.cap_quota(),
            "next_selector": caps.next_selector,
            "next_tid": component.next_tid,
            "cpu_instructions": component.cpu.counter.instructions,
            "log_lines": component.log_lines,
            "log_tail": list(component.log_tail),
        },
        "objects": _objects(runtime),
        "selectors": selectors,
        "signals": {
            "pending": [runtime.record_of(ctx).oid for ctx in receiver.pending_queue()],
            "waiters": [w.tid for w in receiver.waiters() if isinstance(w, Thread)],
        },
        "threads": threads,
        "faulters": _faulters(runtime),
        "run_queue": [t.tid for t in scheduler.run_queue if t.state is ThreadState.RUNNABLE],
        "sleepers": [t.tid for t in scheduler.sleepers()],
        **({} if runtime.provenance is None else {PROVENANCE_KEY: runtime.provenance}),
    }
