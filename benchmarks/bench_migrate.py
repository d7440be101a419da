"""Live migration: pre-copy against stop-and-copy, as ratios measured in the same run.

A 64 MiB target (`concurrent_target.c`) writes 1 %, 10 % or 50 % of its
pages per interval. For each fraction, one `rtcr serve --once` and one
`rtcr run --migrate-to` on loopback per mode; the source's `--summary-json`
says the downtime (stopped at the source until running at the receiver),
the total time, the bytes sent and the rounds. Printed: the absolutes, and
pre-copy's downtime, total time and bytes as ratios to stop-and-copy's;
bytes sent per image byte for both.

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

HERE = Path(__file__).parent
RTCR = [sys.executable, "-m", "rtcr"]
MODES = ("stop-and-copy", "pre-copy")


def build(work: Path, target_mb: int, permille: int, rounds: int) -> Path:
    return compile_component(
        [HERE / "concurrent_target.c"], work / f"target-{target_mb}-{permille}.elf",
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
        at = 50_000_000
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
