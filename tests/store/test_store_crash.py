"""Crash safety: SIGKILL a writer at random points; the store stays consistent."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from crash_writer import check_store

from rtcr.store import Store

HERE = Path(__file__).parent


def start_writer(path: Path) -> subprocess.Popen[bytes]:
    """The crash writer on ``path``, once it is ready to write."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(HERE), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, str(HERE / "crash_writer.py"), str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    return proc


def interrupt_rounds(path: Path, sig: signal.Signals, rounds: int, seed: int,
                     max_delay: float) -> list[tuple[int, list[int], bytes]]:
    """Start the writer, let it run a random while, send ``sig``; check the store each round.

    Returns (exit status, ids it printed as committed, stderr) per round.
    """
    Store.create(path).close()
    rng = random.Random(seed)
    last_printed = 0
    out: list[tuple[int, list[int], bytes]] = []
    for _round in range(rounds):
        proc = start_writer(path)
        time.sleep(rng.uniform(0.0, max_delay))
        proc.send_signal(sig)
        stdout, err = proc.communicate(timeout=60)
        printed = [int(x) for x in stdout.split() if x.isdigit()]
        if printed:
            last_printed = printed[-1]
        check_store(path, last_printed)
        out.append((proc.returncode, printed, err))
    return out


def test_sigkilled_writer_leaves_a_consistent_store(tmp_path: Path) -> None:
    rounds = interrupt_rounds(tmp_path / "s", signal.SIGKILL, 15, 2024, 0.25)
    for code, _printed, err in rounds:
        assert code == -signal.SIGKILL, err.decode()
    assert sum(len(printed) for _c, printed, _e in rounds) > 15  # a busy writer was killed


def test_sigint_at_random_points_never_damages_a_committed_checkpoint(tmp_path: Path) -> None:
    """Ctrl-C arrives as KeyboardInterrupt wherever the writer is: in a put, in the
    commit, just after COMMIT returned, in gc. Whatever it interrupts, every checkpoint
    it had committed stays, verifies and reads back exactly; later ones never
    deduplicate against data that is not there."""
    rounds = interrupt_rounds(tmp_path / "s", signal.SIGINT, 20, 7, 0.3)
    assert sum(code != 0 for code, _p, _e in rounds) >= 15, "the interrupts missed the writer"
