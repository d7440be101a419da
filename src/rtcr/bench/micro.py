"""Microbenchmarks: write-fault cost, guest MIPS on bare unicorn, resident memory.

The floor for the write-fault cost is a bare unicorn instance in virtual-TLB
mode whose Python ``UC_HOOK_TLB_FILL`` hook first grants a page read-only
and grants write permission on the write fill (as docs/design.md prescribes;
``mem_protect`` is never used). The same guest loop with a hook that grants
everything at once is the reference; the difference per page is the cost
of one tracked first write.
"""

from __future__ import annotations

import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from unicorn import (
    UC_ARCH_X86,
    UC_HOOK_INSN,
    UC_HOOK_TLB_FILL,
    UC_MODE_64,
    UC_PROT_ALL,
    UC_PROT_EXEC,
    UC_PROT_READ,
    Uc,
)
from unicorn import unicorn_const as ucc
from unicorn import x86_const as x86

from rtcr.abi import Errno, Syscall
from rtcr.core import PAGE_SIZE as PAGE
from rtcr.core import Access
from rtcr.machine.cpu import observing_fills
from rtcr.machine.elf import load_elf

from .stats import median, percentile

_UC_TLB_VIRTUAL = 1


# -- the floor: bare unicorn, virtual TLB, Python fill hook -----------------------------
_CODE = 0x10_0000
_DATA = 0x100_0000


def _touch_code(pages: int) -> bytes:
    """rdi = DATA; rcx = pages; loop: al = [rdi]; al++; [rdi] = al; rdi += 4096; loop."""
    setup = (b"\x48\xc7\xc7" + struct.pack("<i", _DATA)
             + b"\x48\xc7\xc1" + struct.pack("<i", pages))
    body = (b"\x8a\x07"  # mov al, [rdi]
            b"\xfe\xc0"  # inc al
            b"\x88\x07"  # mov [rdi], al
            b"\x48\x81\xc7\x00\x10\x00\x00"  # add rdi, 0x1000
            b"\x48\xff\xc9")  # dec rcx
    rel = -(len(body) + 2)
    return setup + body + b"\x75" + struct.pack("<b", rel) + b"\xf4"  # jnz loop; hlt


def _bare_touch(pages: int, track: bool) -> tuple[float, list[int]]:
    """Run the touch loop once; (seconds, in-hook ns of every write fill when tracking)."""
    uc = Uc(UC_ARCH_X86, UC_MODE_64)
    uc.mem_map(_CODE, 0x1000)
    uc.mem_map(_DATA, pages * PAGE)
    code = _touch_code(pages)
    uc.mem_write(_CODE, code)
    uc.ctl_set_tlb_mode(_UC_TLB_VIRTUAL)
    dirty: set[int] = set()
    samples: list[int] = []
    write = ucc.UC_MEM_WRITE
    clock = time.perf_counter_ns

    def grant_all(uc: Uc, vaddr: int, access: int, entry: Any, _: object) -> bool:
        entry.paddr = vaddr & ~0xFFF
        entry.perms = UC_PROT_ALL
        return True

    def tracking(uc: Uc, vaddr: int, access: int, entry: Any, _: object) -> bool:
        t0 = clock()
        page = vaddr >> 12
        entry.paddr = vaddr & ~0xFFF
        if access == write:
            dirty.add(page)
            entry.perms = UC_PROT_ALL
            samples.append(clock() - t0)
        elif page in dirty:
            entry.perms = UC_PROT_ALL
        else:
            entry.perms = UC_PROT_READ | UC_PROT_EXEC
        return True

    uc.hook_add(UC_HOOK_TLB_FILL, tracking if track else grant_all)
    started = time.perf_counter()
    uc.emu_start(_CODE, _CODE + len(code) - 1)
    elapsed = time.perf_counter() - started
    if track and len(dirty) != pages:
        raise RuntimeError(f"bare tracking saw {len(dirty)} first writes, expected {pages}")
    return elapsed, samples


def bare_fault_cost(pages: int, repeat: int) -> dict[str, Any]:
    """Per-first-write cost on bare unicorn: by difference of runs, and in-hook time."""
    per_fault_us: list[float] = []
    hook_ns: list[int] = []
    for _ in range(repeat):
        plain, _ = _bare_touch(pages, track=False)
        tracked, samples = _bare_touch(pages, track=True)
        per_fault_us.append((tracked - plain) / pages * 1e6)
        hook_ns.extend(samples)
    return {
        "pages": pages,
        "repeat": repeat,
        "per_fault_us_runs": per_fault_us,
        "per_fault_us_median": median(per_fault_us),
        "hook_us_median": _us(median(hook_ns)),
        "hook_us_p99": _us(percentile(hook_ns, 99)),
        "hook_samples": len(hook_ns),
    }


def _us(ns: float | None) -> float | None:
    return None if ns is None else ns / 1000


# -- through the runtime: an explicit observer of the CPU's fill hook ----------------------
class _FaultFills:
    """Collects the duration of every fill that reflected a fault (a `FillObserver`)."""

    def __init__(self) -> None:
        self.ns: list[int] = []

    def filled(self, vaddr: int, access: Access, faults: int, ns: int) -> None:
        if faults:
            self.ns.extend([ns // faults] * faults)


@contextmanager
def timed_fault_path() -> Iterator[dict[str, list[int]]]:
    """Time every fill that resolved a fault on the CPUs created inside the block.

    Yields a dict filled while the context is open: ``fill`` (ns of a whole
    TLB-fill call that reflected a fault, per fault). ``handler`` stays
    empty: the fill is the unit the fault cost is judged by.
    """
    fills = _FaultFills()
    out: dict[str, list[int]] = {"handler": [], "fill": fills.ns}
    with observing_fills(fills):
        yield out


_SPREAD_SOURCE = r"""
#include <rtcr.h>
/* Write one byte in each of TOUCH pages spread evenly over an OBJECT-byte RAM object. */
int main(void)
{
	long ds = rtcr_ram_alloc(OBJECT);
	long at = rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, RTCR_W);
	if (ds < 0 || at < 0)
		return 1;
	rtcr_yield(); /* the measured part starts after the allocation (see tracking_fault_cost) */
	volatile unsigned char *p = (volatile unsigned char *)at;
	unsigned long stride = OBJECT / RTCR_PAGE_SIZE / TOUCH;
	for (unsigned long i = 0; i < TOUCH; i++)
		p[i * stride * RTCR_PAGE_SIZE] = 1;
	return 0;
}
"""


def _spread_run(elf: Path, size: int, strategy: Any) -> tuple[float, int]:
    """Run the spread component; seconds of the run after its allocation, and its write faults."""
    from rtcr.checkpoint import Session

    session = Session.start(elf, ram_quota=size + (1 << 20), strategy=strategy,
                            log_sink=lambda c, line: None)
    records = session.runtime.ram_records
    allocated = session.run(stop_when=lambda: any(r.size == size for r in records()))
    result = session.run()
    if result.exit_code != 0:
        raise RuntimeError(f"tracking benchmark at {size >> 20} MiB: {result.diagnostic}")
    return (result.wall_seconds,
            result.faults.get("write", 0) - allocated.faults.get("write", 0))


def tracking_fault_cost(object_mib: list[int], touch: int, repeat: int,
                        build_dir: Path) -> dict[str, Any]:
    """The ro-attach write fault through the runtime, by object size, against a bare hook.

    For each size a component allocates one RAM object of that size and
    writes one byte in `touch` pages spread over it; every write is a
    tracking fault. Two figures per size: the fill that resolved a fault,
    timed by an observer of the CPU (median over `repeat` runs); and the
    cost *by difference*: the run after the allocation (the component
    yields there, so arming the object's parts is not counted) under
    ro-attach minus the same under `full` (same fills, no faults), per
    fault, best of `repeat` runs each (a run is a few milliseconds: one
    preemption on a busy machine would swamp a median). Both are divided
    by the in-hook time of a bare Python fill hook measured in the same run
    (`bare_fault_cost`).
    """
    from rtcr.checkpoint import Strategy
    from rtcr.toolchain import compile_component

    source = build_dir / "spread.c"
    source.write_text(_SPREAD_SOURCE)
    bare_fault_cost(touch, 1)  # warm-up
    bare = bare_fault_cost(touch, max(repeat, 3))
    rows: list[dict[str, Any]] = []
    for mib in object_mib:
        size = mib << 20
        pages = min(touch, size // PAGE)
        elf = compile_component([source], build_dir / f"spread-{mib}.elf",
                                extra_flags=[f"-DOBJECT={size}UL", f"-DTOUCH={pages}UL"])

        fills = _FaultFills()
        tracked: list[float] = []
        untracked: list[float] = []
        faults = 0
        for _ in range(repeat):
            with observing_fills(fills):
                seconds, faults = _spread_run(elf, size, Strategy.RO_ATTACH)
            tracked.append(seconds)
            untracked.append(_spread_run(elf, size, Strategy.FULL)[0])
        fill_us = _us(median(fills.ns))
        by_difference = (min(tracked) - min(untracked)) / max(1, faults) * 1e6
        hook = bare["hook_us_median"]
        rows.append({"object_mib": mib, "faults": len(fills.ns), "fill_us_median": fill_us,
                     "fill_us_p99": _us(percentile(fills.ns, 99)),
                     "by_difference_us": by_difference,
                     "over_bare_hook": fill_us / hook if fill_us and hook else None,
                     "by_difference_over_bare_hook": by_difference / hook if hook else None})
    return {"touch": touch, "repeat": repeat, "bare": bare, "sizes": rows}


# -- guest MIPS on bare unicorn (flat memory, minimal system calls) ----------------------
_STACK_TOP = 0x7FFF_0000
_STACK_SIZE = 1 << 20
_HEAP_BASE = 0x1000_0000


def bare_run(elf: Path) -> dict[str, Any]:
    """Run a single-threaded component flat on unicorn; seconds inside emu_start, LOG lines."""
    image = load_elf(elf)
    uc = Uc(UC_ARCH_X86, UC_MODE_64)
    for seg in image.segments:
        uc.mem_map(seg.vaddr, seg.size, UC_PROT_ALL)
        uc.mem_write(seg.vaddr + seg.data_offset, seg.data)
    uc.mem_map(_STACK_TOP - _STACK_SIZE, _STACK_SIZE, UC_PROT_ALL)
    uc.reg_write(x86.UC_X86_REG_RSP, _STACK_TOP)
    lines: list[str] = []
    sizes: dict[int, int] = {}
    state: dict[str, Any] = {"cap": 2, "heap": _HEAP_BASE, "exit": None, "error": None}
    regs = (x86.UC_X86_REG_RDI, x86.UC_X86_REG_RSI, x86.UC_X86_REG_RDX)

    def syscall(uc: Uc, _: object) -> None:
        number = uc.reg_read(x86.UC_X86_REG_RAX)
        a0, a1, _a2 = (uc.reg_read(r) for r in regs)
        ret = 0
        if number == Syscall.EXIT:
            state["exit"] = a0 & 0xFFFF_FFFF
            uc.emu_stop()
        elif number == Syscall.LOG:
            lines.append(bytes(uc.mem_read(a0, a1)).decode("utf-8", "replace"))
        elif number == Syscall.RAM_ALLOC:
            ret = int(state["cap"])
            sizes[ret] = (a0 + PAGE - 1) & ~(PAGE - 1)
            state["cap"] = ret + 1
        elif number == Syscall.ATTACH:
            if a1 not in sizes:
                ret = -Errno.ECAP
            else:
                ret = int(state["heap"])
                uc.mem_map(ret, sizes[a1], UC_PROT_ALL)
                state["heap"] = ret + sizes[a1] + PAGE
        elif number in (Syscall.TIME_US, Syscall.SLEEP_US, Syscall.YIELD, Syscall.RAM_FREE,
                        Syscall.DETACH):
            ret = 0
        elif number in (Syscall.RAM_AVAIL, Syscall.CAPS_AVAIL):
            ret = 1 << 30
        else:
            state["error"] = f"system call {number} is not served by the bare runner"
            uc.emu_stop()
        uc.reg_write(x86.UC_X86_REG_RAX, ret & 0xFFFF_FFFF_FFFF_FFFF)

    uc.hook_add(UC_HOOK_INSN, syscall, None, 1, 0, x86.UC_X86_INS_SYSCALL)
    started = time.perf_counter()
    uc.emu_start(image.entry, 0)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "lines": lines, "exit_code": state["exit"],
            "error": state["error"]}


# -- resident memory of a run, in a fresh process ---------------------------------------
def measure_rss(elf: Path, *, ram_quota: int, mode: str, every: int | None,
                store_root: Path, timeout: float = 900) -> dict[str, Any]:
    """Peak RSS of a fresh process running `elf` (mode ``none``: no checkpointing)."""
    cmd = [sys.executable, "-m", "rtcr.bench.micro", str(elf), str(ram_quota), mode,
           str(every or 0), str(store_root)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _rss_child(argv: list[str]) -> None:
    from rtcr.store import Store

    from .modes import BASELINE, MODES

    elf, ram_quota, mode_name, every, root = (Path(argv[0]), int(argv[1]), argv[2],
                                              int(argv[3]), Path(argv[4]))
    idle = _proc_status("VmRSS")
    mode = BASELINE if mode_name == "none" else MODES[mode_name]
    store = None
    if mode_name != "none":
        store = Store.create(tempfile.mkdtemp(prefix="rss-", dir=root) + "/store")
    started = time.perf_counter()
    session = mode.start(elf, ram_quota=ram_quota, granularity=1, store=store,
                         log_sink=lambda c, line: None)
    armed = time.perf_counter() - started
    result = session.run(every=every or None)
    peak = _proc_status("VmHWM")
    if peak is None:  # not Linux: ru_maxrss (which may include a forking parent's)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({
        "mode": mode_name, "ram_quota": ram_quota, "every": every,
        "maxrss_bytes": peak, "idle_rss_bytes": idle,
        "arm_seconds": armed, "run_seconds": result.wall_seconds,
        "instructions": result.instructions, "outcome": result.outcome.value,
        "checkpoints": len(result.checkpoints), "faults": result.faults,
        "target_ram_bytes": sum(r.size for r in session.runtime.ram_records()),
    }))


def _proc_status(field: str) -> int | None:
    """A byte count from /proc/self/status (VmHWM: peak RSS of this process image)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    _rss_child(sys.argv[1:])
