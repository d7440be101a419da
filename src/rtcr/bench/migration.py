"""Migration and lazy-restore figures: what `rtcr bench` and bench_migrate.py measure.

The target fills its memory with random words (no codec shrinks it, so
every page costs its size on the wire and in the store), then writes one
word in a fraction of its pages per interval, on pages spread over all of
it. Each migration is one `rtcr serve --once` and one `rtcr run
--migrate-to` on loopback, two processes as on two hosts; the source's
`--summary-json` says the downtime (stopped at the source until running at
the receiver), the total time, the bytes sent and the rounds. The
receiver is ended once the source is done: its run after the migration is
not measured. The source's staging budget holds a whole image, so that
pre-copy's first round is copied in its pause and sent while the target
runs (with less, a round that does not fit is sent with the target
stopped). Stop-and-copy is the baseline every ratio divides by.

Lazy against eager restore: one checkpoint right after the fill (every
page in it; the target says "filled"), restored both ways in this process, and run to the end with
every page back (the lazy one's last pages loaded after the run):
*first* is `Session.resume` to the first restored instruction.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rtcr.checkpoint import Session
from rtcr.store import Store
from rtcr.toolchain import compile_component

RTCR = [sys.executable, "-m", "rtcr"]
#: Each row of the table: its label and the `rtcr run` options that choose it.
MODES: dict[str, tuple[str, ...]] = {
    "stop-and-copy": ("--migrate-mode", "stop-and-copy"),
    "pre-copy": ("--migrate-mode", "pre-copy"),
    "pre-copy, no auto-converge": ("--migrate-mode", "pre-copy", "--no-auto-converge"),
    "post-copy": ("--migrate-mode", "post-copy"),
}
BASELINE = "stop-and-copy"
#: Per mille of the pages the target writes per interval.
FRACTIONS = (10, 100, 500)
#: Instructions the fill takes per MiB, about: the migration starts after it.
FILL_INSTRUCTIONS_PER_MB = 2_500_000
#: Instructions after the fill before the migration starts (some intervals run first).
AFTER_FILL = 20_000_000
#: RAM beyond the target's buffer (code, stack, heap).
RAM_HEADROOM_MB = 16
_SECRET = "a benchmark's shared secret, 32 bytes\n"
_TIMEOUT = 1800

TARGET = r"""
#include <rtcr.h>
#define PAGES (TARGET_MB * 256UL)
int main(void)
{
    long ds = rtcr_ram_alloc(PAGES * 4096UL);
    unsigned long *buf = (unsigned long *)rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, -1, RTCR_W);
    unsigned long x = 88172645463325252UL, sum = 0;
    for (unsigned long i = 0; i < PAGES * 512; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        buf[i] = x;
    }
    rtcr_printf("filled\n");
    unsigned long dirty = PAGES * DIRTY_PERMILLE / 1000;
    unsigned long step = dirty ? PAGES / dirty : PAGES;
    for (unsigned long round = 1; round <= ROUNDS; round++) {
        for (unsigned long i = 0, page = round % step; i < dirty; i++, page += step)
            buf[(page % PAGES) * 512] = round + page;
        for (unsigned long spin = 0; spin < 200000; spin++)
            sum += buf[(spin % 64) * 512];
    }
    rtcr_printf("sum %lx\n", sum);
    return 0;
}
"""


def migration_point(target_mb: int) -> int:
    return target_mb * FILL_INSTRUCTIONS_PER_MB + AFTER_FILL


def rounds_for(target_mb: int) -> int:
    """Intervals the target runs: enough to outlast a pre-copy of its size."""
    return max(600, target_mb * 20)


def build_target(work: Path, target_mb: int, permille: int, rounds: int) -> Path:
    source = work / "random_target.c"
    source.write_text(TARGET)
    return compile_component(
        [source], work / f"target-{target_mb}-{permille}-{rounds}.elf",
        extra_flags=(f"-DTARGET_MB={target_mb}", f"-DDIRTY_PERMILLE={permille}",
                     f"-DROUNDS={rounds}"))


def _serve(work: Path, secret: Path) -> tuple[subprocess.Popen[str], str]:
    err = work / f"serve-{time.monotonic_ns()}.err"
    process = subprocess.Popen(
        [*RTCR, "serve", "--listen", "127.0.0.1:0", "--store", str(work / err.stem),
         "--secret-file", str(secret), "--once"],
        stdout=subprocess.DEVNULL, stderr=err.open("w"), text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"serving migrations on (\S+) ", err.read_text())
        if found:
            return process, found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"rtcr serve did not start: {err.read_text()}")


def migrate_once(elf: Path, work: Path, target_mb: int, mode: str) -> dict[str, Any]:
    """One migration of ``elf`` as the row ``mode`` of `MODES` says: the source's
    `migration` summary object."""
    secret = work / "secret"
    secret.write_text(_SECRET)
    receiver, address = _serve(work, secret)
    summary = work / "source.json"
    summary.unlink(missing_ok=True)
    try:
        done = subprocess.run(
            [*RTCR, "run", str(elf), "--ram", f"{target_mb + RAM_HEADROOM_MB}M",
             "--migrate-to", address, "--migrate-at", str(migration_point(target_mb)),
             *MODES[mode], "--secret-file", str(secret),
             "--staging-budget", f"{target_mb + RAM_HEADROOM_MB}M",
             "--summary-json", str(summary)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=_TIMEOUT)
    finally:
        receiver.kill()
        receiver.wait()
    report = json.loads(summary.read_text()) if summary.exists() else {}
    if done.returncode != 0 or report.get("outcome") != "migrated":
        raise RuntimeError(f"{mode} of a {target_mb} MiB target did not migrate: "
                           f"{done.stderr.strip()}")
    migration: dict[str, Any] = report["migration"]
    return migration


def migrations(work: Path, target_mb: int, permille: int,
               tick: Callable[[str], None] = lambda what: None) -> dict[str, Any]:
    """Every mode for one size and fraction; ratios against stop-and-copy."""
    elf = build_target(work, target_mb, permille, rounds_for(target_mb))
    image = target_mb << 20
    modes: dict[str, Any] = {}
    for mode in MODES:
        tick(f"migration: {target_mb} MiB, {permille / 10:g} % dirty, {mode}")
        m = migrate_once(elf, work, target_mb, mode)
        m["sent_per_image"] = m["bytes_sent"] / image
        modes[mode] = m
    base = modes[BASELINE]
    for m in modes.values():
        m["downtime_ratio"] = m["downtime_ms"] / base["downtime_ms"]
        m["total_ratio"] = m["total_ms"] / base["total_ms"]
    return {"target_mb": target_mb, "permille": permille, "modes": modes}


def _restore_once(store: Store, cid: int, lazy: bool) -> tuple[float, float]:
    """Seconds to the first restored instruction and to the end with every page back."""
    started = time.perf_counter()
    session = Session.resume(store, cid, log_sink=lambda component, line: None,
                             checkpoint=False, lazy=lazy)
    first = time.perf_counter() - started
    session.run()
    if session.lazy is not None:
        session.lazy.finish()
    return first, time.perf_counter() - started


def restores(work: Path, target_mb: int, permille: int = 100, rounds: int = 20,
             repeat: int = 1) -> dict[str, Any]:
    """Lazy against eager restore of the filled target (medians of ``repeat``, alternated)."""
    elf = build_target(work, target_mb, permille, rounds)
    with tempfile.TemporaryDirectory(prefix="restores-", dir=work) as tmp, \
            Store.create(Path(tmp) / "store") as store:
        filled: list[str] = []
        session = Session.start(elf, ram_quota=(target_mb + RAM_HEADROOM_MB) << 20,
                                store=store, log_sink=lambda component, line: filled.append(line))
        session.run(stop_when=lambda: bool(filled), final_checkpoint=True)
        cid = store.newest()
        assert cid is not None
        del session
        runs: dict[str, list[tuple[float, float]]] = {"eager": [], "lazy": []}
        for _ in range(repeat):
            for kind in runs:
                runs[kind].append(_restore_once(store, cid, kind == "lazy"))
    out: dict[str, Any] = {"target_mb": target_mb, "permille": permille}
    for kind, timings in runs.items():
        firsts = sorted(f for f, _ in timings)
        ends = sorted(e for _, e in timings)
        out[kind] = {"first_ms": firsts[len(firsts) // 2] * 1000,
                     "complete_s": ends[len(ends) // 2]}
    out["first_ratio"] = out["lazy"]["first_ms"] / out["eager"]["first_ms"]
    out["complete_ratio"] = out["lazy"]["complete_s"] / out["eager"]["complete_s"]
    return out


def run_migration(sizes: list[int], fractions: list[int], work: Path,
                  tick: Callable[[str], None] = lambda what: None) -> dict[str, Any]:
    """The migration section of `rtcr bench`: every size × fraction × mode, and restores."""
    out: dict[str, Any] = {"sizes": sizes, "fractions": fractions, "migrations": [],
                           "restores": []}
    for size in sizes:
        for permille in fractions:
            out["migrations"].append(migrations(work, size, permille, tick))
        tick(f"lazy and eager restore: {size} MiB")
        out["restores"].append(restores(work, size))
    return out


def migration_lines(results: dict[str, Any]) -> list[str]:
    """The figures as the rows of two markdown tables."""
    md = ["| target | dirty/interval | mode | rounds | throttle | downtime ms | total ms "
          f"| sent / image | downtime / {BASELINE} | total / {BASELINE} |",
          "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for entry in results["migrations"]:
        for mode, m in entry["modes"].items():
            throttle = f"{m['throttle_percent']} %" if "throttle_percent" in m else ""
            md.append(f"| {entry['target_mb']} MiB | {entry['permille'] / 10:g} % | {mode} | "
                      f"{m['rounds']} | {throttle} | {m['downtime_ms']:.1f} | "
                      f"{m['total_ms']:.1f} | "
                      f"{m['sent_per_image']:.2f} | {m['downtime_ratio']:.3f} | "
                      f"{m['total_ratio']:.3f} |")
    md += ["", "| target | first instr. eager ms | lazy ms | lazy / eager | complete eager s "
           "| lazy s | lazy / eager |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results["restores"]:
        md.append(f"| {r['target_mb']} MiB | {r['eager']['first_ms']:.1f} | "
                  f"{r['lazy']['first_ms']:.1f} | {r['first_ratio']:.3f} | "
                  f"{r['eager']['complete_s']:.2f} | {r['lazy']['complete_s']:.2f} | "
                  f"{r['complete_ratio']:.3f} |")
    return md
