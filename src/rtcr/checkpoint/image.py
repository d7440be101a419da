"""The checkpoint image: everything but memory contents, as plain JSON data.

`capture` turns a paused machine plus the runtime's records into a
manifest; `restorer` turns a manifest plus page contents back into a
machine. Only explicit, portable values go in: register values by name,
object ids, selectors, virtual addresses, virtual time. No host addresses,
no wall-clock time, no unicorn-internal layout.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rtcr.abi import ADDRESS_SPACE_SELECTOR
from rtcr.core import ProtectionDomain, RegionMap
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

FORMAT = 3
"""Image layout version: 2 added the x87 registers, tag, pointers and the data segment
selectors to every thread (a format-1 image lacks them and is refused, not guessed);
3 holds a component tree: the target's children, and every reference to a thread
outside its own component's part as [component index, thread id]."""

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


def _objects(runtime: Runtime, index: dict[int, int]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for oid, record in sorted(runtime.objects.items()):
        if isinstance(record, RomRecord):
            out.append({"oid": oid, "kind": "rom", "name": record.name, "size": record.rom.size,
                        "label": record.label, "scope": record.scope})
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
                        "freed": record.freed, "pd": record.pd})
        elif isinstance(record, PdRecord):
            if oid != OWN_PD_OID:  # the target's own PD is the image's "component"
                out.append(_pd_session(record, runtime))
        elif isinstance(record, ReceiverRecord):
            out.append({"oid": oid, "kind": "receiver",
                        "pending": [runtime.record_of(ctx).oid
                                    for ctx in record.receiver.pending_queue()],
                        "waiters": _thread_refs((w for w in record.receiver.waiters()
                                                 if isinstance(w, Thread)), index)})
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


def _reference_account(pd: ProtectionDomain, runtime: Runtime) -> int | None:
    """The object id of ``pd``'s reference account (None: not set). It is set once, so
    whether it is set is state a component observes: the component's own PD's too."""
    ref = pd.reference_account
    return None if ref is None else runtime.record_of(ref).oid


def _pd_session(record: PdRecord, runtime: Runtime) -> dict[str, Any]:
    """A PD session: its limits (transfers are in them), account and capability space."""
    pd = record.pd
    # Only a session has a stack area; a scenario component's PD is none (no session quota).
    return {"oid": record.oid, "kind": "pd", "name": pd.name, "ram_quota": pd.ram_quota(),
            "cap_quota": pd.cap_quota(),
            "session_quota": None if pd.stack_area is None else list(pd.session_quota),
            "ref": _reference_account(pd, runtime),
            "selectors": _selectors(pd.cap_space, runtime),
            "next_selector": pd.cap_space.next_selector}


def _faulters(runtime: Runtime, index: dict[int, int]) -> list[dict[str, Any]]:
    """Every queued faulter, map by map, in queue order."""
    out: list[dict[str, Any]] = []
    maps: list[tuple[int, RegionMap]] = [(r.oid, r.rm) for r in runtime.region_map_records()]
    maps += [(r.oid, r.tracked.parts_map) for r in runtime.ram_records()]
    for oid, rm in maps:
        for faulter, fault in rm.faulters():
            assert isinstance(faulter, Thread), "host faulters never outlive an access"
            out.append({"map": oid, "component": index[id(faulter.component)],
                        "tid": faulter.tid, "type": int(fault.type), "addr": fault.addr})
    return out


def _services(runtime: Runtime) -> dict[str, Any] | None:
    """A scenario's services: who provides what, the routes, and what was announced."""
    services = runtime.services
    if services is None:
        return None
    announced = []
    for (provider, name), obj in sorted(services.announced.items()):
        record = runtime.record_of(obj)  # a map's record: its managed dataspace was announced
        announced.append([provider, name, record.oid,
                          1 if isinstance(record, RegionMapRecord) else 0])
    return {"provides": {c: list(s) for c, s in sorted(services.provides.items())},
            "routes": [[c, s, p] for (c, s), p in sorted(services.routes.items())],
            "announced": announced}


def _thread_refs(threads: Iterable[Thread], index: dict[int, int]) -> list[list[int]]:
    """[component index, thread id] of each of `threads` of the image's components (tids
    are per component; a thread of a component under another parent is not the image's)."""
    return [[index[id(t.component)], t.tid] for t in threads if id(t.component) in index]


def _component(component: Component) -> dict[str, Any]:
    """What every component has: its counters, LOG state and how it ended (a scenario's
    target may end while the other start nodes' components run on)."""
    return {"name": component.name, "next_tid": component.next_tid,
            "cpu_instructions": component.cpu.counter.instructions,
            "log_lines": component.log_lines, "log_tail": list(component.log_tail),
            "exit_code": component.exit_code, "crash": component.crash}


def _threads(component: Component, runtime: Runtime) -> list[dict[str, Any]]:
    threads = []
    for tid, thread in sorted(component.threads.items()):
        entry: dict[str, Any] = {"tid": tid, "name": thread.name, "state": thread.state.value,
                                 "blocker": _blocker(thread, runtime),
                                 "stack": list(thread.stack) if thread.stack else None,
                                 "instructions": thread.instructions}
        if thread.state is not ThreadState.EXITED:
            entry["registers"] = component.cpu.registers_of(thread)
        threads.append(entry)
    return threads


def _signals(component: Component, runtime: Runtime) -> dict[str, list[int]]:
    """The pending contexts and waiting threads of the component's own signal receiver."""
    receiver = component.pd.signal_receiver
    return {"pending": [runtime.record_of(ctx).oid for ctx in receiver.pending_queue()],
            "waiters": [w.tid for w in receiver.waiters() if isinstance(w, Thread)]}


def _child(child: Component, runtime: Runtime, index: dict[int, int]) -> dict[str, Any]:
    """A component besides the target: one a component started (creator: its index), or
    one the runtime started as a scenario's start node (creator: None); its PD is an object."""
    exit_signal = child.exit_signal
    creator = None if child.creator is None else index[id(child.creator)]
    return {"component": {**_component(child), "creator": creator,
                          "pd": runtime.record_of(child.pd).oid,
                          "exit_signal": None if exit_signal is None
                          else runtime.record_of(exit_signal).oid},
            "threads": _threads(child, runtime),
            "signals": _signals(child, runtime)}


def capture(machine: Machine, component: Component, runtime: Runtime) -> Manifest:
    """Describe a paused machine completely, except for memory contents.

    `component` is the target; every other component the runtime serves is
    one it (or a child of it) started, or another start node of its
    scenario, and is described with it: one image, one pause, for all of
    them. Components of the machine under another parent are not its own.
    """
    scheduler = machine.scheduler
    members = [c for c in machine.components if c.parent is runtime]
    assert members[0] is component, "the target is the runtime's first component"
    index = {id(c): number for number, c in enumerate(members)}
    caps = component.pd.cap_space
    slice_state = scheduler.slice_state()
    if slice_state is not None:
        assert scheduler.carried is not None
        carried = scheduler.carried[0].component
        slice_state = ({**slice_state, "component": index[id(carried)]}
                       if id(carried) in index else None)
    return {
        "format": FORMAT,
        "machine": {
            "ram_size": machine.core.ram.size,
            "quantum": scheduler.quantum,
            "instructions": machine.instructions,
            "idle_ns": scheduler.idle_ns,
            "slice": slice_state,
        },
        "runtime": {"strategy": runtime.strategy.value, "granularity": runtime.granularity,
                    "next_oid": runtime.next_oid, "services": _services(runtime)},
        "component": {
            **_component(component),
            "ram_quota": component.pd.ram_quota(),
            "cap_quota": component.pd.cap_quota(),
            "ref": _reference_account(component.pd, runtime),
            "next_selector": caps.next_selector,
        },
        "objects": _objects(runtime, index),
        "selectors": _selectors(caps, runtime),
        "signals": _signals(component, runtime),
        "threads": _threads(component, runtime),
        "children": [_child(child, runtime, index) for child in members[1:]],
        "faulters": _faulters(runtime, index),
        "run_queue": _thread_refs((t for t in scheduler.run_queue
                                   if t.state is ThreadState.RUNNABLE), index),
        "sleepers": _thread_refs(scheduler.sleepers(), index),
        **({} if runtime.provenance is None else {PROVENANCE_KEY: runtime.provenance}),
    }
