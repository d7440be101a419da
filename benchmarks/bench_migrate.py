"""Live migration: pre-copy against stop-and-copy, as ratios measured in the same run.

A 64 MiB target fills its memory with random words (no codec shrinks it,
so every page costs its size on the wire), then writes one word in 1 %,
10 % or 50 % of its pages per interval (as `concurrent_target.c` does, but
on random pages). For each fraction, one `rtcr serve --once` and one
`rtcr run --migrate-to` on loopback per mode; the source's
`--summary-json` says the downtime (stopped at the source until running at
the receiver), the total time, the bytes sent and the rounds. Printed: the
absolutes, bytes sent per image byte, and pre-copy's downtime, total time
and bytes as ratios to stop-and-copy's.

    .venv/bin/python benchmarks/bench_migrate.py [--target-mb 64] [--fractions 10,100,500]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rtcr.toolchain import compile_component

RTCR = [sys.executable, "-m", "rtcr"]
MODES = ("stop-and-copy", "pre-copy")


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
# Instructions the fill takes, about: the migration starts after it.
FILL_INSTRUCTIONS_PER_MB = 2_500_000


def build(work: Path, target_mb: int, permille: int, rounds: int) -> Path:
    source = work / "random_target.c"
    source.write_text(TARGET)
    return compile_component(
        [source], work / f"target-{target_mb}-{permille}.elf",
        extra_flags=(f"-DTARGET_MB={target_mb}", f"-DDIRTY_PERMILLE={permille}",
                     f"-DROUNDS={rounds}"))


def serve(work: Path, secret: Path) -> tuple[subprocess.Popen[str], str]:
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
        time.sleep(0.05)
    raise SystemExit(f"rtcr serve did not start: {err.read_text()}")


def migrate(elf: Path, work: Path, secret: Path, ram_mb: int, at: int,
            mode: str) -> dict[str, Any]:
    receiver, address = serve(work, secret)
    summary = work / "source.json"
    done = subprocess.run(
        [*RTCR, "run", str(elf), "--ram", f"{ram_mb}M", "--migrate-to", address,
         "--migrate-at", str(at), "--migrate-mode", mode, "--secret-file", str(secret),
         "--summary-json", str(summary)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    receiver.wait(timeout=600)
    report = json.loads(summary.read_text())
    if done.returncode != 0 or report.get("outcome") != "migrated":
        raise SystemExit(f"{mode} did not migrate: {done.stderr.strip()}")
    migration: dict[str, Any] = report["migration"]
    return migration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-mb", type=int, default=64)
    parser.add_argument("--fractions", default="10,100,500",
                        help="per mille of the pages written per interval")
    parser.add_argument("--rounds", type=int, default=600,
                        help="intervals the target runs (it must outlast the pre-copy)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-migrate-"))
    secret = work / "secret"
    secret.write_text("a benchmark's shared secret, 32 bytes\n")
    image = args.target_mb << 20
    print(f"{args.target_mb} MiB target on loopback; ratios are pre-copy / stop-and-copy "
          "of the same run")
    print(f"{'dirty':>6} {'mode':>14} {'rounds':>6} {'downtime ms':>11} {'total ms':>9} "
          f"{'sent/image':>10}")
    for permille in (int(p) for p in args.fractions.split(",")):
        elf = build(work, args.target_mb, permille, args.rounds)
        at = args.target_mb * FILL_INSTRUCTIONS_PER_MB + 20_000_000
        results = {mode: migrate(elf, work, secret, args.target_mb + 16, at, mode)
                   for mode in MODES}
        for mode, m in results.items():
            print(f"{permille / 10:>5.1f}% {mode:>14} {m['rounds']:>6} "
                  f"{m['downtime_ms']:>11.1f} {m['total_ms']:>9.1f} "
                  f"{m['bytes_sent'] / image:>10.3f}")
        base, pre = results["stop-and-copy"], results["pre-copy"]
        print(f"{'':>6} {'ratio':>14} {'':>6} {pre['downtime_ms'] / base['downtime_ms']:>11.3f} "
              f"{pre['total_ms'] / base['total_ms']:>9.3f} "
              f"{pre['bytes_sent'] / base['bytes_sent']:>10.3f}")


if __name__ == "__main__":
    main()
