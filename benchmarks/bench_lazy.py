"""Lazy against eager restore: time to the first restored instruction and to the end.

A 64 MiB and a 256 MiB target (concurrent_target.c) write every page in
their first round and are checkpointed there (the image holds every page);
each is then restored eagerly and lazily from that checkpoint, in the same
run, and continued to its end. Two continuations: one that rewrites every
page (the worst case for a lazy restore: every page faults once more) and
one that writes 10 % of them. Printed: the absolutes and the lazy / eager
ratios; both restores must print the same output after the same number of
instructions.

    .venv/bin/python benchmarks/bench_lazy.py [--sizes 64,256] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from rtcr.checkpoint import Session
from rtcr.store import Store
from rtcr.toolchain import compile_component

HERE = Path(__file__).parent
WORKLOADS = {"rewrites every page": 1000, "writes 10 % of pages": 100}


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, component: object, line: str) -> None:
        self.lines.append(line)


def build(work: Path, target_mb: int, permille: int) -> Path:
    # Round 1 writes every page (the checkpoint is taken after it); round 2
    # writes `permille` of them after the restore (LATER_PERMILLE).
    return compile_component(
        [HERE / "concurrent_target.c"], work / f"lazy-{target_mb}-{permille}.elf",
        extra_flags=(f"-DTARGET_MB={target_mb}", "-DDIRTY_PERMILLE=1000", "-DROUNDS=2",
                     "-DSPIN=200000", f"-DLATER_PERMILLE={permille}"))


def checkpoint_after_round_one(elf: Path, store: Store, ram_quota: int) -> int:
    """Checkpoint right where the target prints its first line (after round 1)."""
    at: list[int] = []
    probe = Session.start(elf, ram_quota=ram_quota,
                          log_sink=lambda _c, _l: at.append(probe.machine.instructions))
    probe.run()
    session = Session.start(elf, ram_quota=ram_quota, store=store, log_sink=Lines())
    session.run(max_instructions=at[0], final_checkpoint=True)
    newest = store.newest()
    assert newest is not None
    return newest


def restore_once(store: Store, cid: int, lazy: bool) -> tuple[float, float, list[str], int]:
    """Seconds to the first instruction and to the end, the output, the instructions."""
    sink = Lines()
    started = time.perf_counter()
    session = Session.resume(store, cid, log_sink=sink, checkpoint=False, lazy=lazy)
    first = time.perf_counter() - started
    result = session.run()
    return first, time.perf_counter() - started, sink.lines, result.instructions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="64,256", help="target sizes in MiB")
    parser.add_argument("--repeat", type=int, default=3, help="restores of each kind (median)")
    args = parser.parse_args()
    print(f"{'target':>7} {'continuation':<22} {'first instr. ms':>26} {'to the end s':>24}")
    print(f"{'':>7} {'':<22} {'eager':>8} {'lazy':>8} {'ratio':>8} "
          f"{'eager':>7} {'lazy':>7} {'ratio':>8}")
    with tempfile.TemporaryDirectory(prefix="rtcr-lazy-") as tmp:
        work = Path(tmp)
        for size in (int(s) for s in args.sizes.split(",")):
            for label, permille in WORKLOADS.items():
                elf = build(work, size, permille)
                with Store.create(work / f"store-{size}-{permille}") as store:
                    cid = checkpoint_after_round_one(elf, store, (size + 16) << 20)
                    runs: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
                    outputs = set()
                    for _ in range(args.repeat):
                        for lazy in (False, True):
                            first, end, lines, instructions = restore_once(store, cid, lazy)
                            runs[lazy].append((first, end))
                            outputs.add((tuple(lines), instructions))
                    assert len(outputs) == 1, "lazy and eager restores ran differently"
                first_e = statistics.median(f for f, _ in runs[False])
                first_l = statistics.median(f for f, _ in runs[True])
                end_e = statistics.median(e for _, e in runs[False])
                end_l = statistics.median(e for _, e in runs[True])
                print(f"{size:>4} MiB {label:<22} {first_e * 1000:>8.1f} {first_l * 1000:>8.1f} "
                      f"{first_l / first_e:>8.3f} {end_e:>7.2f} {end_l:>7.2f} "
                      f"{end_l / end_e:>8.3f}")


if __name__ == "__main__":
    main()
