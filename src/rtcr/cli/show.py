"""``rtcr show``: one checkpoint as a reader wants it (threads, address space, objects)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import click

from rtcr.abi import ARGS_ROM
from rtcr.checkpoint.image import object_key
from rtcr.checkpoint.inputs import decode_args
from rtcr.checkpoint.provenance import Provenance, file_sha256, recorded
from rtcr.checkpoint.provenance import describe as describe_provenance_of
from rtcr.checkpoint.view import SUMMARY_REGISTERS, View, describe
from rtcr.store import PAGE_SIZE, Checkpoint, Store

from ._checkpoint_arg import resolve_checkpoint
from ._frames import Symbols, annotate


def _hex(value: int | None) -> str:
    return "-" if value is None else f"{value:#x}"


def _region_lines(regions: list[dict[str, Any]], depth: int) -> list[str]:
    lines = []
    for r in regions:
        at = f" at offset {r['offset']:#x}" if r["offset"] else ""
        lines.append(f"{'  ' * depth}[{r['start']:#014x}, {r['end']:#014x}) {r['rights']} "
                     f"{r['holds']}{at}")
        lines += _region_lines(r.get("regions", []), depth + 1)
    return lines


def provenance_json(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The provenance as ``--json`` gives it (None: not recorded)."""
    provenance = recorded(manifest)
    return None if provenance is None else provenance.as_json()


def inputs_json(checkpoint: Checkpoint) -> dict[str, Any] | None:
    """The inputs the component was started with (None: none were given)."""
    rom = next((o for o in checkpoint.manifest["objects"]
                if o["kind"] == "rom" and o.get("label") == ARGS_ROM), None)
    if rom is None:
        return None
    data = bytearray(rom["size"])
    for index, page in checkpoint.pages(object_key(rom["oid"])):
        data[index * PAGE_SIZE:(index + 1) * PAGE_SIZE] = page
    argv, env, stdin = decode_args(bytes(data))
    return {"argv": argv, "env": env, "stdin_bytes": stdin}


def _inputs_line(inputs: dict[str, Any] | None) -> str:
    if inputs is None:
        return "inputs: none (no arguments, environment or stdin)"
    env = " ".join(shlex.quote(e) for e in inputs["env"]) or "none"
    return (f"inputs: argv {shlex.join(inputs['argv'])}; env {env}; "
            f"stdin {inputs['stdin_bytes']:,} bytes")


def describe_provenance(data: dict[str, Any] | None) -> str:
    return describe_provenance_of(None if data is None else Provenance.from_json(data))


def frame_lines(thread: dict[str, Any]) -> list[str]:
    """rip and the return addresses on the stack, each named if the symbols are known."""
    rip = thread["registers"].get("rip")
    if rip is None:
        return []
    lines = [f"      at   {rip:#x}" + (f" {thread['rip_symbol']}" if thread["rip_symbol"] else "")]
    lines += [f"      from {f['address']:#x}" + (f" {f['symbol']}" if f["symbol"] else "")
              + ("  (stale? its call goes elsewhere)" if f["stale"] else "")
              for f in thread["frames"]]
    return lines


def _thread_lines(threads: list[dict[str, Any]], all_registers: bool) -> list[str]:
    """A line per thread, its frames (the target's threads are annotated) and registers."""
    out = []
    for t in threads:
        regs = t["registers"]
        summary = " ".join(f"{n}={_hex(regs.get(n))}" for n in SUMMARY_REGISTERS)
        waits = f", waits for {t['waits_for']}" if t["waits_for"] else ""
        stack = ("" if t["stack"] is None
                 else f", stack [{t['stack'][0]:#x}, {t['stack'][1]:#x})")
        out.append(f"  {t['tid']} {t['name']}: {t['state']}{waits}; {summary}{stack}")
        if "frames" in t:
            out += frame_lines(t)
        if all_registers:
            names = sorted(regs)
            for i in range(0, len(names), 4):
                out.append("      " + "  ".join(f"{n}={regs[n]:#x}" for n in names[i:i + 4]))
    return out


def _tree_lines(view: View, all_registers: bool) -> list[str]:
    """The component tree, then each other component's threads and maps (one: nothing)."""
    children = view["children"]
    if not children:
        return []
    by_name = {child["name"]: child for child in children}
    out = ["", "component tree:"]
    for node in view["tree"]:
        indent = "  " * (node["depth"] + 1)
        child = by_name.get(node["name"])
        if child is None:
            ended = "" if node["exit_code"] is None else f", exited with {node['exit_code']}"
            out.append(f"{indent}{node['name']} (the target{ended})")
            continue
        state = ("running" if child["exit_code"] is None
                 else f"exited with {child['exit_code']}")
        out.append(f"{indent}{child['name']}: {state}, "
                   f"PD {child['pd']} (RAM {child['ram_quota']:,} bytes, caps "
                   f"{child['cap_quota']:,}), {len(child['threads'])} thread(s), "
                   f"{child['log_lines']:,} LOG lines")
    for child in children:
        out += ["", f"threads of {child['name']}:",
                *_thread_lines(child["threads"], all_registers),
                "", f"address space of {child['name']}:",
                *_region_lines(child["address_space"], 1)]
        if child["stack_area"]:
            out += [f"stack area of {child['name']}:", *_region_lines(child["stack_area"], 1)]
    return out


def _recorded_elf(provenance: Provenance | None) -> Path | None:
    """The ELF the checkpoint was taken of, if it is still where it was, unchanged."""
    binary = None if provenance is None else provenance.binary
    if binary is None or file_sha256(Path(binary.path)) != binary.sha256:
        return None
    return Path(binary.path)


def render(view: View, all_registers: bool) -> str:
    cp, comp = view["checkpoint"], view["component"]
    parent = "none" if cp["parent"] is None else str(cp["parent"])
    out = [f"checkpoint {cp['id']} (parent {parent}) of {comp['name']}: "
           f"{cp['instructions']:,} instructions, virtual time "
           f"{cp['virtual_time_ns'] / 1e9:.6f} s, {cp['strategy']} tracking",
           f"  quota: RAM {comp['ram_quota']:,} bytes, caps {comp['cap_quota']:,}; "
           f"{comp['log_lines']:,} LOG lines before it",
           f"  {describe_provenance(view['provenance'])}",
           f"  {_inputs_line(view['inputs'])}", "", "threads:",
           *_thread_lines(view["threads"], all_registers)]
    if view["symbols_from"] is None and any(t["registers"].get("rip") is not None
                                            for t in view["threads"]):
        out.append("  (addresses unnamed: the checkpointed ELF is gone or was rebuilt; "
                   "--elf PROGRAM.elf names them)")
    out += ["", "address space:", *_region_lines(view["address_space"], 1)]
    out += _tree_lines(view, all_registers)
    out += ["", "objects:"]
    for o in view["dataspaces"]:
        flags = [f for f in ("sealed", "freed", "destroyed") if o.get(f)]
        name = f" {o['name']}" if o.get("name") else ""
        out.append(f"  {o['oid']:>4} {o['kind']:<4} {o['size']:>16,} bytes{name}"
                   + (f" ({', '.join(flags)})" if flags else ""))
    sig = view["signals"]
    out += ["", f"signals: {len(sig['contexts'])} context(s), pending {sig['pending'] or 'none'}, "
                f"waiting threads {sig['waiters'] or 'none'}"]
    for f in view["faults"]:
        who = ("" if f["component"] == 0
               else f" of {view['children'][f['component'] - 1]['name']}")
        out.append(f"fault queued: thread {f['tid']}{who} {f['type']} at {f['addr']:#x} "
                   f"in map {f['map']}")
    tail = comp.get("log_tail", [])
    if tail:
        out += ["", f"last {len(tail)} LOG line(s):", *(f"  {line}" for line in tail)]
    return "\n".join(out)


@click.command("show")
@click.argument("directory", metavar="STORE", type=click.Path(path_type=Path))
@click.argument("checkpoint", metavar="[ID|TAG]", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the whole view as JSON.")
@click.option("--registers", "all_registers", is_flag=True,
              help="Show every register of every thread, not only rip and rsp.")
@click.option("--elf", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=None, metavar="PROGRAM.elf",
              help="Name rip and the return addresses from this ELF's function symbols "
                   "(default: the ELF the checkpoint was taken of, if it is unchanged).")
def command(directory: Path, checkpoint: str | None, as_json: bool,
            all_registers: bool, elf: Path | None) -> None:
    """Show checkpoint ID (or TAG) of STORE (default: the newest).

    Its provenance (the ELF's path, sha256 and build-id, the rtcr,
    guest-ABI and CPU-model versions; "not recorded" for checkpoints of
    older rtcr versions), its inputs (arguments, environment, stdin size),
    its threads (state, what each waits for,
    registers), the component's address space as the tree of region maps it is (rights as the pager
    ANDs them, what each region holds), its objects (size, sealed, freed),
    signals and queued faults.

    Under each thread: where it is (rip) and the return addresses found on
    its stack, innermost first, named function+offset from the symbols of
    the ELF the checkpoint was taken of (if it is still there, unchanged)
    or of --elf.

    \b
    Example:
      rtcr show ck          # the newest checkpoint
      rtcr show ck 3 --registers
      rtcr show ck --elf old/counter.elf   # name addresses from a kept copy
    """
    with Store.open(directory) as store:
        cid = resolve_checkpoint(store, directory, checkpoint)
        loaded = store.load(cid)
        manifest = loaded.manifest
        view = describe(manifest, store.info(cid))
        view["inputs"] = inputs_json(loaded)
        symbols_from = elf if elf is not None else _recorded_elf(recorded(manifest))
        annotate(view, loaded, None if symbols_from is None else Symbols.read(symbols_from))
        view["symbols_from"] = None if symbols_from is None else str(symbols_from)
    view["provenance"] = provenance_json(manifest)
    if as_json:
        click.echo(json.dumps(view, indent=2))
    else:
        click.echo(render(view, all_registers))
