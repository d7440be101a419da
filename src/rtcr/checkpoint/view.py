"""What a checkpoint holds, for people: the view ``rtcr show`` prints and ``rtcr diff`` compares.

`describe` turns a stored manifest (``image.capture``) into plain data
named for a reader rather than for the restorer: threads with what they
wait for, the component's address space as the tree of region maps it is
(rights ANDed on the way down, as the pager sees them, and what each region
holds), the dataspaces, signals and queued faults. `compare` puts two such
views side by side. Both are pure functions of their inputs, so the JSON a
script reads is exactly what the terminal shows.
"""

from __future__ import annotations

from typing import Any

from rtcr.abi import STACK_AREA_BASE
from rtcr.checkpoint.image import object_key
from rtcr.core import MAX_NESTING, FaultType
from rtcr.core.quota import format_bytes
from rtcr.store import Checkpoint, CheckpointInfo
from rtcr.store.format import ZERO_PAGE, page_hash

View = dict[str, Any]

#: The registers every thread line shows; ``--registers`` shows all.
SUMMARY_REGISTERS = ("rip", "rsp")

#: The object id of the component's address space (the first object the runtime records).
ADDRESS_SPACE_OID = 0


def _rights(writeable: bool, executable: bool) -> str:
    return "r" + ("w" if writeable else "-") + ("x" if executable else "-")


def _waits_for(blocker: dict[str, Any] | None) -> str | None:
    if blocker is None:
        return None
    kind = blocker["kind"]
    if kind == "sleep":
        return f"sleep until {blocker['deadline_ns']:,} ns"
    if kind == "join":
        return f"join of thread {blocker['tid']}"
    if kind == "stopped":
        return f"nothing (stopped: {blocker['report']})"
    if kind == "fault":
        return "a fault to be resolved"
    return "a signal"


class _Objects:
    """The manifest's objects by id, and what a region holding one of them is called."""

    def __init__(self, manifest: dict[str, Any],
                 threads: list[dict[str, Any]] | None = None) -> None:
        """``threads``: the component whose stacks are named (default: the target's)."""
        self.by_oid: dict[int, dict[str, Any]] = {o["oid"]: o for o in manifest["objects"]}
        self.stacks = {t["stack"][0]: t["name"]
                       for t in (manifest["threads"] if threads is None else threads)
                       if t["stack"]}

    def holds(self, oid: int, at: int) -> str:
        obj = self.by_oid.get(oid)
        if obj is None:
            return f"object {oid} (not in the checkpoint)"
        kind = obj["kind"]
        if kind == "rom":
            return f"ROM {obj['name']}"
        if kind == "rm":
            return f"region map {oid}"
        if at in self.stacks:
            return f"stack of {self.stacks[at]}"
        state = ", freed" if obj.get("freed") else ", sealed" if obj.get("sealed") else ""
        return f"RAM {oid} ({format_bytes(obj['size'])}{state})"

    def tree(self, oid: int, base: int, writeable: bool, executable: bool,
             depth: int) -> list[dict[str, Any]]:
        """The regions of map ``oid`` seen at ``base``, with the rights ANDed from above."""
        rm = self.by_oid[oid]
        out: list[dict[str, Any]] = []
        for start, size, offset, ds_oid, w, x in sorted(rm["regions"]):
            w, x = w and writeable, x and executable
            at = base + start
            entry: dict[str, Any] = {"start": at, "end": at + size, "offset": offset,
                                     "rights": _rights(w, x), "oid": ds_oid,
                                     "holds": self.holds(ds_oid, at)}
            inner = self.by_oid.get(ds_oid)
            if inner is not None and inner["kind"] == "rm" and depth > 0:
                entry["regions"] = [r for r in self.tree(ds_oid, at - offset, w, x, depth - 1)
                                    if r["end"] > at and r["start"] < at + size]
            out.append(entry)
        return out


def object_names(manifest: dict[str, Any]) -> dict[str, str]:
    """Store key -> what a person calls the memory object (``.text of c``, ``stack of main``).

    A program's segments are the objects the loader makes before the main
    thread's stack: read-only ones are ``.text`` (executable) or
    ``.rodata``, writable ones ``.data`` (with the ``.bss``). Any other RAM
    is named by where it is attached first (``RAM 0x10000 (4 KiB)``).

    Empty for a manifest that is no runtime image (a store holds any JSON).
    """
    if not isinstance(manifest.get("objects"), list) or not isinstance(
            manifest.get("threads"), list):
        return {}
    objects = _Objects(manifest)
    attached: dict[int, tuple[int, bool]] = {}  # oid -> (address, executable) of its first region
    if ADDRESS_SPACE_OID in objects.by_oid:  # absolute addresses, through nested region maps
        pending = objects.tree(ADDRESS_SPACE_OID, 0, True, True, MAX_NESTING)
        while pending:
            region = pending.pop(0)
            attached.setdefault(region["oid"], (region["start"], region["rights"][2] == "x"))
            pending[:0] = region.get("regions", [])
    for rm in manifest["objects"]:
        if rm["kind"] == "rm":
            for start, _size, _offset, ds_oid, _w, x in sorted(rm["regions"]):
                attached.setdefault(ds_oid, (start, x))
    # The loader makes the program's segments first, then the main thread's stack.
    stacks = [oid for oid, (at, _x) in attached.items() if at in objects.stacks]
    program_below = min(stacks, default=0)
    names: dict[str, str] = {}
    for oid, obj in objects.by_oid.items():
        if obj["kind"] not in ("ram", "rom"):
            continue
        at, executable = attached.get(oid, (-1, False))
        if obj["kind"] == "rom":
            # The loader names a program's read-only segments "NAME:segmentN".
            program, _, _segment = obj["name"].rpartition(":")
            section = ".text" if executable else ".rodata"
            name = f"{section} of {program}" if program else f"ROM {obj['name']}"
        elif oid < program_below and at >= 0:
            name = f".data of {manifest['component']['name']}"
        elif at >= 0 and at not in objects.stacks:
            name = f"RAM {at:#x} ({format_bytes(obj['size'])})"
        else:
            name = objects.holds(oid, at)
        names[object_key(oid)] = name
    return names


def _threads(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    threads = []
    for t in entries:
        registers = t.get("registers") or {}
        threads.append({
            "tid": t["tid"], "name": t["name"], "state": t["state"],
            "waits_for": _waits_for(t["blocker"]),
            "stack": None if t["stack"] is None else [t["stack"][0], t["stack"][0] + t["stack"][1]],
            "instructions": t["instructions"],
            "registers": dict(sorted(registers.items())),
        })
    return threads


def _children(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The components the target started (and they started): who, in which PD, how far."""
    names = [manifest["component"]["name"],
             *(e["component"]["name"] for e in manifest.get("children", []))]
    out = []
    for entry in manifest.get("children", []):
        part = entry["component"]
        objects = _Objects(manifest, entry["threads"])
        pd = objects.by_oid[part["pd"]]
        maps = {bool(o.get("stack_area")): o["oid"] for o in manifest["objects"]
                if o["kind"] == "rm" and o.get("pd") == part["pd"]}
        out.append({
            # creator None: started by the runtime itself (a scenario's start node)
            "name": part["name"], "pd": part["pd"],
            "creator": None if part["creator"] is None else names[part["creator"]],
            "ram_quota": pd["ram_quota"], "cap_quota": pd["cap_quota"],
            "exit_code": part["exit_code"], "crash": part["crash"],
            "log_lines": part["log_lines"], "log_tail": part["log_tail"],
            "threads": _threads(entry["threads"]),
            "address_space": [] if False not in maps
            else objects.tree(maps[False], 0, True, True, MAX_NESTING),
            "stack_area": [] if True not in maps
            else objects.tree(maps[True], STACK_AREA_BASE, True, True, MAX_NESTING),
        })
    return out


def component_tree(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every component of the image, each right after its creator: name, depth, creator.

    A format-2 image (one component, no exit values) is a tree of one.

    The target and a scenario's other start nodes (started by the runtime,
    ``creator`` None) are at depth 0; a child is one deeper than its creator.
    """
    parts = [manifest["component"], *(e["component"] for e in manifest.get("children", []))]
    creators = [None, *(p["creator"] for p in parts[1:])]
    out: list[dict[str, Any]] = []

    def visit(index: int, depth: int) -> None:
        creator = creators[index]
        out.append({"name": parts[index]["name"], "depth": depth,
                    "creator": None if creator is None else parts[creator]["name"],
                    "exit_code": parts[index].get("exit_code")})  # format 2: none
        for child, of in enumerate(creators):
            if of == index and child:
                visit(child, depth + 1)

    for index, creator in enumerate(creators):
        if creator is None:
            visit(index, 0)
    return out


def describe(manifest: dict[str, Any], info: CheckpointInfo) -> View:
    """The reader's view of one checkpoint (the target's, then each child's part)."""
    objects = _Objects(manifest)
    machine = manifest["machine"]
    threads = _threads(manifest["threads"])
    dataspaces = [{k: v for k, v in o.items() if k != "regions"}
                  for o in manifest["objects"] if o["kind"] in ("ram", "rom", "rm")]
    for o in dataspaces:
        if o["oid"] == ADDRESS_SPACE_OID:
            o["name"] = "address space"
    address_space: list[dict[str, Any]] = []
    if ADDRESS_SPACE_OID in objects.by_oid:
        # Nested maps as deep as core lets them nest (MAX_NESTING: the one limit).
        address_space = objects.tree(ADDRESS_SPACE_OID, 0, True, True, MAX_NESTING)
    return {
        "checkpoint": {"id": info.id, "parent": info.parent, "instructions": info.instructions,
                       "virtual_time_ns": machine["instructions"] + machine["idle_ns"],
                       "strategy": info.strategy,
                       "granularity": manifest["runtime"]["granularity"]},
        "component": dict(manifest["component"]),
        "threads": threads,
        "address_space": address_space,
        "dataspaces": dataspaces,
        "signals": {
            "contexts": [{"oid": o["oid"], "receiver": o["receiver"]}
                         for o in manifest["objects"] if o["kind"] == "signal"],
            "pending": list(manifest["signals"]["pending"]),
            "waiters": list(manifest["signals"]["waiters"]),
        },
        "faults": [{"map": f["map"], "component": f.get("component", 0), "tid": f["tid"],
                    "type": FaultType(f["type"]).name, "addr": f["addr"]}
                   for f in manifest["faulters"]],
        "children": _children(manifest),
        "tree": component_tree(manifest),
    }


def _flat_regions(regions: list[dict[str, Any]]) -> dict[tuple[int, int], str]:
    out: dict[tuple[int, int], str] = {}
    for r in regions:
        out[(r["start"], r["end"])] = f"{r['rights']} {r['holds']}"
        out.update(_flat_regions(r.get("regions", [])))
    return out


def _log_between(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The LOG lines printed after checkpoint ``a`` up to ``b``, as far as ``b``'s tail has them."""
    between = b["log_lines"] - a["log_lines"]
    tail = b.get("log_tail", [])
    return list(tail[len(tail) - min(max(between, 0), len(tail)):])


def compare(a: View, b: View, pages_changed: dict[str, int]) -> View:
    """What changed from view ``a`` to view ``b``; ``pages_changed``: pages per memory object."""
    threads_a = {t["tid"]: t for t in a["threads"]}
    threads_b = {t["tid"]: t for t in b["threads"]}
    threads: list[dict[str, Any]] = []
    for tid in sorted(threads_a.keys() | threads_b.keys()):
        ta, tb = threads_a.get(tid), threads_b.get(tid)
        if ta is None or tb is None:
            t = tb if ta is None else ta
            assert t is not None
            threads.append({"tid": tid, "name": t["name"],
                            "change": "added" if ta is None else "gone"})
            continue
        registers = {name: [ta["registers"].get(name), value]
                     for name, value in tb["registers"].items()
                     if ta["registers"].get(name) != value}
        if registers or ta["state"] != tb["state"]:
            threads.append({"tid": tid, "name": tb["name"], "change": "changed",
                            "state": [ta["state"], tb["state"]], "registers": registers})
    regions_a, regions_b = _flat_regions(a["address_space"]), _flat_regions(b["address_space"])
    objects_a = {o["oid"] for o in a["dataspaces"]}
    objects_b = {o["oid"] for o in b["dataspaces"]}
    return {
        "from": a["checkpoint"]["id"], "to": b["checkpoint"]["id"],
        "instructions": b["checkpoint"]["instructions"] - a["checkpoint"]["instructions"],
        "virtual_time_ns": b["checkpoint"]["virtual_time_ns"] - a["checkpoint"]["virtual_time_ns"],
        "log_lines": b["component"]["log_lines"] - a["component"]["log_lines"],
        "log": _log_between(a["component"], b["component"]),
        "pages_changed": {k: n for k, n in sorted(pages_changed.items()) if n},
        "objects_added": sorted(objects_b - objects_a),
        "objects_gone": sorted(objects_a - objects_b),
        "regions_added": [{"start": s, "end": e, "what": regions_b[(s, e)]}
                          for s, e in sorted(regions_b.keys() - regions_a.keys())],
        "regions_gone": [{"start": s, "end": e, "what": regions_a[(s, e)]}
                         for s, e in sorted(regions_a.keys() - regions_b.keys())],
        "threads": threads,
    }


def pages_changed(a: Checkpoint, b: Checkpoint) -> dict[str, int]:
    """Pages per memory object whose content differs between two checkpoints.

    Compared by content hash, so a page written back to what it was does not
    count; a page a checkpoint never stored is the zero page. An object only
    one of them has counts all its non-zero pages.
    """
    zero = page_hash(ZERO_PAGE)
    out: dict[str, int] = {}
    keys_a, keys_b = a.objects(), b.objects()
    for key in sorted(keys_a.keys() | keys_b.keys()):
        ha = _hashes(a, key) if key in keys_a else {}
        hb = _hashes(b, key) if key in keys_b else {}
        out[key] = sum(1 for i in ha.keys() | hb.keys()
                       if ha.get(i, zero) != hb.get(i, zero))
    return out


def _hashes(cp: Checkpoint, key: str) -> dict[int, bytes]:
    table = cp.table(key)
    return {index: table.hash_at(pos) for pos, index in enumerate(table.index_list())}
