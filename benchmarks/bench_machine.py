"""The machine's speed: guest MIPS vs bare unicorn, reflected-fault cost, TLB refills, profile.

Usage: .venv/bin/python benchmarks/bench_machine.py [--repeat R] [--fault-pages N]
                                                    [--tracking-sizes MiB,...]
                                                    [--profile-top K]

In one run, on the same ELFs (compiled with `rtcr.toolchain` into a temp dir):

1. Guest MIPS of a compute-bound (life, sort) and a memory-bound (kvstore)
   example under the rtcr machine in its normal, deterministic mode
   (`Machine.run`), against the same ELF on a bare unicorn instance with
   flat memory (segments `mem_map`ped, a minimal Python syscall hook for
   LOG/EXIT/RAM_ALLOC/ATTACH). Both runs execute the same instructions (the
   outputs are compared); the instruction count comes from the machine.
   The issue's goal is a ratio of at least 0.5.
2. The cost of one fault reflected to a guest pager thread: a component
   touches N pages of an empty sub region map whose handler thread attaches
   a page per fault, against the same component with the map pre-attached.
   Also the cost of one dirty-tracking fault the checkpoint runtime resolves
   synchronously (ro-attach vs full strategy on the pre-attached variant).
3. TLB refills on the memory-bound workload: unicorn TLB-fill hook calls
   (answered by the C software TLB or by Python) and fills that reached the
   Python pager (counted by an observer of the CPU's fill hook), per
   million guest instructions and per second.
4. Where the time goes for the memory-bound case, and for the guest-handled
   faults: cProfile's top entries.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from unicorn import UC_ARCH_X86, UC_HOOK_INSN, UC_MODE_64, UC_PROT_ALL, Uc
from unicorn import x86_const as x86

from rtcr.abi import Errno, Syscall
from rtcr.bench import micro
from rtcr.checkpoint import Outcome, Session, Strategy
from rtcr.core import Access, FaultType
from rtcr.machine import Machine, Status, load_elf
from rtcr.machine.cpu import observing_fills
from rtcr.toolchain import compile_component

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PAGE = 4096

FAULT_SOURCE = r"""
#include <rtcr.h>

/* PAGES and PREMAPPED come from -D flags. */
static long rm, ram;

static void pager(void *arg)
{
	(void)arg;
	for (;;) {
		rtcr_signal_wait();
		for (;;) {
			struct rtcr_fault f;
			if (rtcr_fault(rm, &f) != 0 || f.type == RTCR_FAULT_NONE)
				break;
			unsigned long page = f.addr & ~(RTCR_PAGE_SIZE - 1);
			if (rtcr_attach(rm, ram, RTCR_PAGE_SIZE, page, (long)page, RTCR_W) < 0)
				rtcr_exit(3);
		}
	}
}

int main(void)
{
	ram = rtcr_ram_alloc(PAGES * RTCR_PAGE_SIZE);
	rm = rtcr_rm_create(PAGES * RTCR_PAGE_SIZE);
	long sig = rtcr_signal_context();
	if (ram < 0 || rm < 0 || sig < 0 || rtcr_fault_handler(rm, sig) != 0)
		return 1;
	if (PREMAPPED && rtcr_attach(rm, ram, 0, 0, 0, RTCR_W) != 0)
		return 2;
	rtcr_thread_create(pager, 0, 0);
	long base = rtcr_attach(RTCR_ADDRESS_SPACE, rtcr_rm_dataspace(rm), 0, 0, RTCR_ANYWHERE,
		RTCR_W);
	volatile unsigned char *p = (volatile unsigned char *)base;
	for (unsigned long i = 0; i < PAGES; i++)
		p[i * RTCR_PAGE_SIZE] = (unsigned char)(i + 1);
	unsigned long sum = 0;
	for (unsigned long i = 0; i < PAGES; i++)
		sum += p[i * RTCR_PAGE_SIZE];
	rtcr_printf("touched %lu pages, sum %lu\n", (unsigned long)PAGES, sum);
	return 0;
}
"""


# -- running ----------------------------------------------------------------------------

class RtcrRun:
    def __init__(self, elf: Path, ram_quota: int = 16 << 20) -> None:
        self.lines: list[str] = []
        self.machine = Machine(ram_quota + (16 << 20),
                               log_sink=lambda _c, line: self.lines.append(line))
        self.component = self.machine.load(elf, ram_quota=ram_quota)
        started = time.perf_counter()
        self.result = self.machine.run()
        self.seconds = time.perf_counter() - started
        if self.result.status is not Status.FINISHED or self.component.exit_code != 0:
            raise SystemExit(f"{elf.name}: {self.result.status} {self.result.diagnostic} "
                             f"{self.component.crash or ''}")

    @property
    def instructions(self) -> int:
        return int(self.result.instructions)


def bare_unicorn(elf: Path) -> tuple[float, list[str]]:
    """Run `elf` on a bare unicorn with flat memory; (seconds, LOG lines)."""
    image = load_elf(elf)
    uc = Uc(UC_ARCH_X86, UC_MODE_64)
    for seg in image.segments:
        uc.mem_map(seg.vaddr, seg.size, UC_PROT_ALL)
        uc.mem_write(seg.vaddr + seg.data_offset, seg.data)
    stack_top, stack_size = 0x7FFF_0000, 1 << 20
    uc.mem_map(stack_top - stack_size, stack_size, UC_PROT_ALL)
    uc.reg_write(x86.UC_X86_REG_RSP, stack_top)
    lines: list[str] = []
    sizes: dict[int, int] = {}
    heap = [0x1000_0000]
    args = (x86.UC_X86_REG_RDI, x86.UC_X86_REG_RSI, x86.UC_X86_REG_RDX)

    def syscall(uc: Uc, _user: object) -> None:
        number = uc.reg_read(x86.UC_X86_REG_RAX)
        a = [uc.reg_read(r) for r in args]
        ret = 0
        if number == Syscall.EXIT:
            uc.emu_stop()
        elif number == Syscall.LOG:
            lines.append(bytes(uc.mem_read(a[0], a[1])).decode(errors="replace").rstrip("\n"))
        elif number == Syscall.RAM_ALLOC:
            ret = 2 + len(sizes)
            sizes[ret] = -(-a[0] // PAGE) * PAGE
        elif number == Syscall.ATTACH and a[1] in sizes:
            ret = heap[0]
            uc.mem_map(ret, sizes[a[1]], UC_PROT_ALL)
            heap[0] += sizes[a[1]] + PAGE
        elif number in (Syscall.RAM_AVAIL, Syscall.CAPS_AVAIL):
            ret = 1 << 20
        else:
            ret = -Errno.ENOSYS
        uc.reg_write(x86.UC_X86_REG_RAX, ret & (1 << 64) - 1)

    uc.hook_add(UC_HOOK_INSN, syscall, None, 1, 0, x86.UC_X86_INS_SYSCALL)
    started = time.perf_counter()
    uc.emu_start(image.entry, 0)
    return time.perf_counter() - started, lines


class FillCounter:
    """Counts the fills that reached the Python fill path (a `FillObserver`)."""

    def __init__(self) -> None:
        self.calls = 0

    def filled(self, vaddr: int, access: Access, faults: int, ns: int) -> None:
        self.calls += 1


@contextmanager
def counting_python_fills() -> Iterator[list[int]]:
    """Count fills of the Python fill path on the CPUs created while the block runs."""
    counter = FillCounter()
    calls = [0]
    with observing_fills(counter):
        yield calls
        calls[0] = counter.calls


# -- the sections -------------------------------------------------------------------------

def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.rjust(w) if i else c.ljust(w)
                        for i, (c, w) in enumerate(zip(row, widths, strict=True))))


def mips_section(elves: dict[str, Path], repeat: int) -> None:
    rows = []
    for name, elf in elves.items():
        rtcr_runs: list[RtcrRun] = []
        bare_runs: list[tuple[float, list[str]]] = []
        for _ in range(repeat):  # interleaved, so that host noise hits both alike
            rtcr_runs.append(RtcrRun(elf))
            bare_runs.append(bare_unicorn(elf))
        instructions = rtcr_runs[0].instructions
        rtcr_s = min(r.seconds for r in rtcr_runs)
        bare_s = min(seconds for seconds, _ in bare_runs)
        same = "yes" if all(lines == rtcr_runs[0].lines for _, lines in bare_runs) else "NO"
        rtcr_mips = instructions / rtcr_s / 1e6
        bare_mips = instructions / bare_s / 1e6
        rows.append([name, f"{instructions / 1e6:.1f}", f"{rtcr_mips:.0f}", f"{bare_mips:.0f}",
                     f"{rtcr_mips / bare_mips:.2f}", same])
    table("guest MIPS: rtcr machine (deterministic) vs bare unicorn, flat memory (best of "
          f"{repeat})", ["workload", "M instr", "rtcr MIPS", "bare MIPS", "ratio", "same output"],
          rows)


def fault_section(tmp: Path, pages: int, repeat: int) -> Path:
    """Print the fault costs; return the ELF of the faulting variant."""
    src = tmp / "faults.c"
    src.write_text(FAULT_SOURCE)
    quota = pages * PAGE + (8 << 20)
    elves = {mode: compile_component([src], tmp / f"faults_{mode}.elf",
                                     extra_flags=[f"-DPAGES={pages}UL",
                                                  f"-DPREMAPPED={int(mode == 'premapped')}"])
             for mode in ("faulting", "premapped")}
    runs = {mode: [RtcrRun(elf, ram_quota=quota) for _ in range(repeat)]
            for mode, elf in elves.items()}
    faulting, premapped = runs["faulting"][0], runs["premapped"][0]
    assert faulting.lines == premapped.lines, (faulting.lines, premapped.lines)
    guest_faults = faulting.machine.core.fault_counts.get(FaultType.WRITE)
    t_fault = min(r.seconds for r in runs["faulting"])
    t_base = min(r.seconds for r in runs["premapped"])
    per_fault = (t_fault - t_base) / max(1, guest_faults) * 1e6

    def session_seconds(strategy: Strategy) -> tuple[float, int]:
        timings = []
        tracking = 0
        for _ in range(repeat):
            session = Session.start(elves["premapped"], ram_quota=quota, strategy=strategy,
                                    log_sink=lambda _c, _l: None)
            result = session.run()
            if result.outcome is not Outcome.EXITED:
                raise SystemExit(f"session: {result.outcome} {result.diagnostic}")
            timings.append(result.wall_seconds)
            tracking = result.faults["write"] + result.faults["read"]
        return min(timings), tracking

    t_full, _ = session_seconds(Strategy.FULL)
    t_ro, tracking_faults = session_seconds(Strategy.RO_ATTACH)
    per_tracking = (t_ro - t_full) / max(1, tracking_faults) * 1e6
    table(f"reflected faults ({pages} pages touched, best of {repeat})",
          ["fault kind", "faults", "with faults s", "without s", "µs per fault"],
          [["guest pager thread (signal, rtcr_fault, attach)", str(guest_faults),
            f"{t_fault:.3f}", f"{t_base:.3f}", f"{per_fault:.1f}"],
           ["runtime ro-attach tracking (synchronous, Python)", str(tracking_faults),
            f"{t_ro:.3f}", f"{t_full:.3f}", f"{per_tracking:.1f}"]])
    return elves["faulting"]


def tlb_section(name: str, elf: Path) -> None:
    with counting_python_fills() as python_fills:
        run = RtcrRun(elf)
    tlb = getattr(run.component.cpu, "tlb", None)
    hits, misses = (int(tlb.hits), int(tlb.misses)) if tlb is not None else (0, python_fills[0])
    hook_calls = hits + misses
    per_m = run.instructions / 1e6
    rows = [["unicorn TLB-fill hook calls", f"{hook_calls:,}", f"{hook_calls / per_m:,.0f}",
             f"{hook_calls / run.seconds:,.0f}"],
            ["  answered by the C software TLB", f"{hits:,}", f"{hits / per_m:,.0f}",
             f"{hits / run.seconds:,.0f}"],
            ["  reached Python (Cpu._tlb_fill)", f"{python_fills[0]:,}",
             f"{python_fills[0] / per_m:,.1f}", f"{python_fills[0] / run.seconds:,.0f}"]]
    table(f"TLB refills, {name} ({run.instructions / 1e6:.1f} M instructions, "
          f"{run.seconds:.3f} s with counting)", ["fills", "count", "per M instr", "per s"],
          rows)


def profile_section(name: str, elf: Path, top: int, ram_quota: int = 16 << 20) -> None:
    profiler = cProfile.Profile()
    lines: list[str] = []
    machine = Machine(ram_quota + (16 << 20), log_sink=lambda _c, line: lines.append(line))
    machine.load(elf, ram_quota=ram_quota)
    profiler.enable()
    machine.run()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    print(f"\nwhere the time goes, {name} (cProfile, sorted by own time, top {top})")
    body = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(body) if line.lstrip().startswith("ncalls"))
    total = next((line for line in body if "function calls" in line), "")
    print(f"  {total.strip()}")
    for line in body[start:]:
        if line.strip():
            print("  " + line.replace(str(ROOT) + "/", "").rstrip())


def tracking_section(tmp: Path, sizes: list[int], touch: int, repeat: int) -> None:
    result = micro.tracking_fault_cost(sizes, touch, repeat, tmp)
    bare = result["bare"]
    rows = [[f"{row['object_mib']} MiB", str(row["faults"]), f"{row['fill_us_median']:.2f}",
             f"{row['fill_us_p99']:.2f}", f"{row['over_bare_hook']:.1f}",
             f"{row['by_difference_us']:.2f}", f"{row['by_difference_over_bare_hook']:.1f}"]
            for row in result["sizes"]]
    table(f"ro-attach write fault through the runtime ({touch} pages per object, "
          f"{repeat} runs); bare Python fill hook {bare['hook_us_median']:.2f} µs in-hook, "
          f"{bare['per_fault_us_median']:.2f} µs by difference",
          ["object", "faults", "fill µs median", "p99", "× bare hook", "by difference µs",
           "× bare hook"], rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fault-pages", type=int, default=4096)
    parser.add_argument("--profile-top", type=int, default=15,
                        help="functions to list per profile (0: no profiles)")
    parser.add_argument("--tracking-sizes", default="1,4,16,64,256,1024",
                        help="RAM object sizes in MiB for the tracking-fault table ('' skips)")
    parser.add_argument("--tracking-touch", type=int, default=2048)
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_machine_") as tmpdir:
        tmp = Path(tmpdir)
        elves = {name: compile_component([EXAMPLES / f"{name}.c"], tmp / f"{name}.elf")
                 for name in ("life", "sort", "kvstore")}
        print(f"python {sys.version.split()[0]}; quantum 200k instructions; "
              "1 virtual ns per instruction")
        if options.tracking_sizes:
            tracking_section(tmp, [int(v) for v in options.tracking_sizes.split(",")],
                             options.tracking_touch, options.repeat)
        mips_section(elves, options.repeat)
        faulting = fault_section(tmp, options.fault_pages, options.repeat)
        tlb_section("kvstore", elves["kvstore"])
        if options.profile_top > 0:
            profile_section("kvstore", elves["kvstore"], options.profile_top)
            profile_section(f"{options.fault_pages} guest-handled faults", faulting,
                            options.profile_top,
                            ram_quota=options.fault_pages * PAGE + (8 << 20))


if __name__ == "__main__":
    main()
