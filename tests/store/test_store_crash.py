"""Crash safety: SIGKILL a writer at random points; the store stays consistent."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from crash_writer import OBJECTS, expected

from rtcr.store import Store

HERE = Path(__file__).parent


def _check(path: Path, last_printed: int) -> list[int]:
    store = Store.open(path)
    try:
        ids = store.ids()
        if ids:
            assert ids == list(range(ids[0], ids[-1] + 1)), ids
            assert ids[-1] >= last_printed
        report = store.verify()
        assert report.ok, (report.corrupt, report.store_errors)
        for cid in ids:
            cp = store.load(cid)
            assert cp.manifest == {"cid": cid}
            assert cp.objects() == OBJECTS
        if ids:  # full content check of the newest and of the oldest survivor
            for cid in {ids[0], ids[-1]}:
                cp = store.load(cid)
                for key, n in OBJECTS.items():
                    for i in range(n):
                        assert cp.page(key, i) == expected(cid, key, i), (cid, key, i)
        registered = {f"{p:06d}.pack" for (p,) in store.backend.conn().execute(
            "SELECT id FROM packs")}
        assert {p.name for p in (path / "packs").iterdir()} == registered  # no orphans
        return ids
    finally:
        store.close()


def test_sigkilled_writer_leaves_a_consistent_store(tmp_path: Path) -> None:
    path = tmp_path / "s"
    Store.create(path).close()
    rng = random.Random(2024)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(HERE), os.environ.get("PYTHONPATH", "")]))
    last_printed = 0
    committed_total = 0
    for _round in range(15):
        proc = subprocess.Popen([sys.executable, str(HERE / "crash_writer.py"), str(path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate()
        assert proc.returncode == -signal.SIGKILL, err.decode()
        printed = [int(x) for x in out.split() if x.isdigit()]
        committed_total += len(printed)
        if printed:
            last_printed = printed[-1]
        _check(path, last_printed)
    assert committed_total > 15  # the kills really interrupted a busy writer
