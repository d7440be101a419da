"""Helpers of the checkpoint/restore acceptance tests: reference runs and restore checks."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rtcr.checkpoint import PREFETCH_PAGES, Session, SessionResult, Strategy
from rtcr.errors import StoreError
from rtcr.store import Store

HERE = Path(__file__).resolve().parent
COMPONENTS = HERE / "components"
ROOT = HERE.parent.parent
RTCR = [sys.executable, "-m", "rtcr"]

EXAMPLE_NAMES = ("abi_garbage", "counter", "exec_fault", "hello", "kvstore", "life", "ro_fault",
                 "seal", "self_pager", "signals", "sort", "threads")
COMPONENT_NAMES = ("shared_threads", "pager", "sig_sleep", "ram_churn", "x87", "jit", "remap",
                   "clock", "pd_ref")
STRATEGIES = tuple(Strategy)


class Lines:
    """A log sink collecting the component's LOG lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, component: object, line: str) -> None:
        self.lines.append(line)


@dataclass(frozen=True)
class Outcome:
    """Everything the defining test compares: output, exit code, memory, instructions."""

    lines: tuple[str, ...]
    exit_code: int
    digest: str
    instructions: int
    outcome: str


def finish(session: Session, sink: Lines, **run: Any) -> tuple[Outcome, SessionResult]:
    result = session.run(**run)
    return Outcome(tuple(sink.lines), result.exit_code, session.memory_digest(),
                   result.instructions, result.outcome.value), result


_references: dict[tuple[Path, int], Outcome] = {}


def reference(elf: Path, ram_quota: int = 16 << 20) -> Outcome:
    """The uninterrupted run of `elf` (no store), cached per process."""
    key = (elf, ram_quota)
    if key not in _references:
        sink = Lines()
        session = Session.start(elf, ram_quota=ram_quota, log_sink=sink)
        _references[key] = finish(session, sink)[0]
    return _references[key]


def checkpointed_run(elf: Path, store: Store, *, every: int,
                     strategy: Strategy = Strategy.RO_ATTACH, granularity: int = 1,
                     ram_quota: int = 16 << 20) -> tuple[Outcome, SessionResult]:
    sink = Lines()
    session = Session.start(elf, ram_quota=ram_quota, strategy=strategy,
                            granularity=granularity, store=store, log_sink=sink)
    return finish(session, sink, every=every)


def restored_run(store: Store, cid: int, *, strategy: Strategy | None = None,
                 granularity: int | None = None, checkpoint: bool = False,
                 lazy: bool = False, prefetch_pages: int = PREFETCH_PAGES,
                 **run: Any) -> tuple[Outcome, SessionResult, int]:
    """Restore `cid` in a fresh machine and run it to its end.

    Returns the outcome (lines: only those logged after the restore), the
    result and the number of lines the original had logged at the checkpoint.
    """
    sink = Lines()
    session = Session.resume(store, cid, strategy=strategy, granularity=granularity,
                             log_sink=sink, checkpoint=checkpoint, lazy=lazy,
                             prefetch_pages=prefetch_pages)
    outcome, result = finish(session, sink, **run)
    return outcome, result, session.restored_log_lines


def assert_continues(ref: Outcome, got: Outcome, log_lines: int, what: str) -> None:
    """A restored run's end equals the uninterrupted run's end."""
    assert got.outcome == ref.outcome, f"{what}: outcome"
    assert list(got.lines) == list(ref.lines[log_lines:]), f"{what}: output after the checkpoint"
    assert got.exit_code == ref.exit_code, f"{what}: exit code"
    assert got.instructions == ref.instructions, f"{what}: instruction count"
    assert got.digest == ref.digest, f"{what}: final memory"


def assert_all_restore(store: Store, ref: Outcome, ids: list[int] | None = None, *,
                       strategy: Strategy | None = None,
                       granularity: int | None = None) -> list[dict[str, Any]]:
    """Restore every checkpoint (or `ids`) and check it continues like `ref`; the manifests."""
    manifests = []
    for cid in ids if ids is not None else store.ids():
        manifest = store.load(cid).manifest
        got, _, log_lines = restored_run(store, cid, strategy=strategy, granularity=granularity)
        assert log_lines == manifest["component"]["log_lines"]
        assert_continues(ref, got, log_lines, f"checkpoint {cid}")
        manifests.append(manifest)
    return manifests


def every_for(instructions: int, checkpoints: int = 10) -> int:
    """An interval giving about `checkpoints` checkpoints."""
    return max(1, instructions // checkpoints)


def odd_every(instructions: int) -> int:
    """An odd interval, not aligned with anything, giving 5-15 checkpoints."""
    if 5 <= instructions // 777_777 <= 15:
        return 777_777
    return max(1, (instructions // 9) | 1)  # odd, about 9 checkpoints


def blocker_kinds(manifest: dict[str, Any]) -> set[str]:
    return {t["blocker"]["kind"] for t in manifest["threads"] if t["blocker"]}


def rtcr(*args: str | int | os.PathLike[str], timeout: float = 120,
         **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run the rtcr command line in a subprocess."""
    return subprocess.run([*RTCR, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, **kw)


def tagged(ref: Outcome, name: str) -> list[str]:
    """The reference's LOG lines as `rtcr` prints them on stdout."""
    return [f"[{name}] {line}" for line in ref.lines]


def committed(store_dir: Path) -> list[int]:
    """The committed checkpoints of a store another process may be writing to."""
    if not (store_dir / "store.sqlite").exists():
        return []
    try:
        with Store.open(store_dir) as store:
            return store.ids()
    except StoreError:
        return []
