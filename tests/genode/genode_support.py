"""Running the project's Genode components under the checkpoint runtime."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rtcr.checkpoint import Session, SessionResult
from rtcr.store import Store

ROOT = Path(__file__).resolve().parents[2]
COMPONENTS = Path(__file__).resolve().parent / "components"
EXAMPLES = ROOT / "examples" / "genode"


def rtcr(*args: str) -> subprocess.CompletedProcess[str]:
    """`rtcr ARGS` in a process of its own, its output captured."""
    return subprocess.run([sys.executable, "-m", "rtcr", *args], capture_output=True,
                          text=True, timeout=600, check=False)

Build = Callable[[str], Path]  # the genode_component fixture: name -> ELF


@dataclass
class Run:
    lines: list[str]
    result: SessionResult
    digest: str


class Capture:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.labelled: list[str] = []  # "[component] line", as `rtcr run` prints them

    def __call__(self, component: object, line: str) -> None:
        self.lines.append(line)
        self.labelled.append(f"[{getattr(component, 'name', '?')}] {line}")


class TreeRun:
    """A run of components under the runtime: labelled LOG, result and final memory."""

    def __init__(self, session: Session, capture: Capture, result: SessionResult) -> None:
        self.session = session
        self.lines = capture.labelled
        self.result = result
        self.digest = session.memory_digest()
        self.ids = [c.id for c in result.checkpoints]


def assert_restores_exactly(reference: TreeRun, store: Store, checkpoint: int) -> None:
    """Restored from ``checkpoint``, the run goes on as ``reference`` did, to the byte."""
    capture = Capture()
    session = Session.resume(store, checkpoint, log_sink=capture, checkpoint=False)
    again = TreeRun(session, capture, session.run())
    assert again.lines == reference.lines[session.restored_log_lines:], checkpoint
    assert (again.result.outcome, again.result.exit_code) == (
        reference.result.outcome, reference.result.exit_code), checkpoint
    assert again.result.instructions == reference.result.instructions, checkpoint
    assert again.digest == reference.digest, checkpoint


def run(elf: Path, *, roms: dict[str, bytes] | None = None, store: Store | None = None,
        every: int | None = None, ram: int = 8 << 20) -> Run:
    capture = Capture()
    session = Session.start(elf, ram_quota=ram, roms=roms, store=store, log_sink=capture)
    result = session.run(every=every)
    return Run(capture.lines, result, session.memory_digest())


def resume(store: Store, checkpoint: int) -> tuple[Run, int]:
    """A restored run and the number of LOG lines printed before its checkpoint."""
    capture = Capture()
    session = Session.resume(store, checkpoint, log_sink=capture, checkpoint=False)
    result = session.run()
    return Run(capture.lines, result, session.memory_digest()), session.restored_log_lines


def assert_every_checkpoint_restores(reference: Run, store: Store, ids: list[int]) -> None:
    """Each restored run prints the rest of the reference's LOG and ends in its state."""
    for cid in ids:
        again, before = resume(store, cid)
        assert again.lines == reference.lines[before:], cid
        assert (again.result.outcome, again.result.exit_code) == (
            reference.result.outcome, reference.result.exit_code), cid
        assert again.result.instructions == reference.result.instructions, cid
        assert again.digest == reference.digest, cid
