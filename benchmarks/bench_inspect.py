#!/usr/bin/env python3
"""How long `rtcr inspect` takes on a store of many checkpoints (the goal: 20,000 well under 1 s).

Builds a store of N checkpoints cheaply: a few real ones written through
`Store.begin`, then the rest as copies of the last one's record in one
transaction, each with its own valid checksums (so `rtcr verify` accepts
every one), forked every `--fork-every` checkpoints the way restores of
older checkpoints fork a store. Then times, in this process, `rtcr
inspect` in its forms (table, --json, --tree, --last, --branch, --tag),
and as the baseline the bare SQL read of every record. Prints seconds and
the ratio to the baseline.

    python benchmarks/bench_inspect.py [--checkpoints 20000] [--fork-every 1000] [--dir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from rtcr.cli import cli
from rtcr.store import Store
from rtcr.store.format import DB_NAME, INFO_COLUMNS, INFO_FIELDS, record_checksum

SEED_CHECKPOINTS = 3


def build(path: Path, count: int, fork_every: int) -> None:
    """A store of ``count`` checkpoints; every ``fork_every``-th forks from far back."""
    with Store.create(path) as store:
        parent: int | None = None
        for n in range(SEED_CHECKPOINTS):
            with store.begin(parent) as w:
                w.declare("ram:1", 1)
                w.put_page("ram:1", 0, n.to_bytes(8, "little") * 512)
                parent = w.commit({"n": n}, instructions=n * 1000, strategy="ro-attach")
        assert parent is not None
        store.tag("seeded", parent)
    conn = sqlite3.connect(path / DB_NAME, isolation_level=None)
    try:
        row = conn.execute(f"SELECT {INFO_COLUMNS}, manifest_hash, table_hash FROM checkpoints "
                           "WHERE id=?", (SEED_CHECKPOINTS,)).fetchone()
        info, mhash, thash = list(row[:INFO_FIELDS]), row[INFO_FIELDS], row[INFO_FIELDS + 1]
        (manifest,) = conn.execute("SELECT json FROM manifests WHERE cid=?",
                                   (SEED_CHECKPOINTS,)).fetchone()
        objects = conn.execute("SELECT key, npages, fresh, indices, hashes, locations FROM "
                               "objects WHERE cid=?", (SEED_CHECKPOINTS,)).fetchall()
        conn.execute("BEGIN")
        records, manifests, tables = [], [], []
        for cid in range(SEED_CHECKPOINTS + 1, count + 1):
            parent = cid - 1 if cid % fork_every else max(1, cid - fork_every // 2)
            info[0], info[1], info[2], info[10] = cid, parent, cid * 1000, cid
            records.append((*info, mhash, thash, record_checksum(tuple(info), mhash, thash)))
            manifests.append((cid, manifest))
            tables += [(cid, *o) for o in objects]
        conn.executemany(f"INSERT INTO checkpoints({INFO_COLUMNS}, manifest_hash, table_hash, "
                         f"checksum) VALUES ({','.join('?' * (INFO_FIELDS + 3))})", records)
        conn.executemany("INSERT INTO manifests(cid, json) VALUES (?,?)", manifests)
        conn.executemany("INSERT INTO objects(cid, key, npages, fresh, indices, hashes, "
                         "locations) VALUES (?,?,?,?,?,?,?)", tables)
        conn.execute("UPDATE meta SET value=? WHERE key='last_id'", (str(count),))
        conn.execute("UPDATE meta SET value=? WHERE key='seq'", (str(count),))
        conn.execute("COMMIT")
    finally:
        conn.close()


def timed(args: list[str], repeat: int) -> float:
    """Best wall time of ``rtcr ARGS`` in this process, its output discarded."""
    best = float("inf")
    for _ in range(repeat):
        sink = io.StringIO()
        started = time.perf_counter()
        with contextlib.redirect_stdout(sink):
            try:
                cli.main(args, standalone_mode=False)
            except SystemExit as exc:
                if exc.code:
                    raise
        best = min(best, time.perf_counter() - started)
    return best


def baseline(path: Path, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        conn = sqlite3.connect(path / DB_NAME)
        conn.execute(f"SELECT {INFO_COLUMNS} FROM checkpoints ORDER BY id").fetchall()
        conn.close()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", type=int, default=20_000)
    parser.add_argument("--fork-every", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None)
    opts = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="rtcr-bench-inspect-", dir=opts.dir))
    try:
        store = root / "store"
        started = time.perf_counter()
        build(store, opts.checkpoints, opts.fork_every)
        print(f"built {opts.checkpoints:,} checkpoints in {time.perf_counter() - started:.1f} s")
        base = baseline(store, opts.repeat)
        print(f"{'baseline: SQL read of every record':<40} {base:8.3f} s")
        for form in ([], ["--json"], ["--tree"], ["--tree", "--json"], ["--last", "20"],
                     ["--branch", "2"], ["--tag", "*"]):
            seconds = timed(["inspect", str(store), *form], opts.repeat)
            label = " ".join(["inspect", *form])
            print(f"{label:<40} {seconds:8.3f} s  {seconds / base:7.1f}× the baseline")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
