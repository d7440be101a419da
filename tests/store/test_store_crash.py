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


def test_sigkilled_writer_leaves_a_consistent_store(tmp_path: Path) -> None:
    path = tmp_path / "s"
    Store.create(path).close()
    rng = random.Random(2024)
    last_printed = 0
    committed_total = 0
    for _round in range(15):
        proc = start_writer(path)
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate()
        assert proc.returncode == -signal.SIGKILL, err.decode()
        printed = [int(x) for x in out.split() if x.isdigit()]
        committed_total += len(printed)
        if printed:
            last_printed = printed[-1]
        check_store(path, last_printed)
    assert committed_total > 15  # the kills really interrupted a busy writer


def test_sigint_at_random_points_never_damages_a_committed_checkpoint(tmp_path: Path) -> None:
    """Ctrl-C arrives as KeyboardInterrupt wherever the writer is: in a put, in the
    commit, just after COMMIT returned, in gc. Whatever it interrupts, every checkpoint
    it had committed stays, verifies and reads back exactly; later ones never
    deduplicate against data that is not there."""
    path = tmp_path / "s"
    Store.create(path).close()
    rng = random.Random(7)
    last_printed = 0
    interrupted = 0
    for _round in range(20):
        proc = start_writer(path)
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGINT)
        out, _err = proc.communicate(timeout=60)
        interrupted += proc.returncode != 0
        printed = [int(x) for x in out.split() if x.isdigit()]
        if printed:
            last_printed = printed[-1]
        check_store(path, last_printed)
    assert interrupted >= 15, "the interrupts did not land while the writer was busy"
