"""Subprocess for the crash-safety test: writes checkpoints forever (until killed).

Usage: python crash_writer.py STORE_DIR
Checkpoint c stores the pages chosen by ``random.Random(c)`` with contents
``content(c, key, index)``; every 5th checkpoint it also runs gc(keep=3).
It prints each committed id (flushed) as soon as commit() returns.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from store_helpers import ZERO, rand_page, text_page

from rtcr.store import Store

OBJECTS = {"ds:a": 48, "ds:b": 16}


def written(cid: int) -> list[tuple[str, int]]:
    everything = [(k, i) for k, n in OBJECTS.items() for i in range(n)]
    if cid == 1:
        return everything
    return random.Random(cid).sample(everything, 12)


def content(cid: int, key: str, index: int) -> bytes:
    kind = (cid + index) % 4
    if kind == 0:
        return rand_page((cid, key, index))
    if kind == 1:
        return text_page((cid, key, index))
    if kind == 2:
        return text_page("shared")  # deduplicated across the store
    return ZERO


def expected(cid: int, key: str, index: int) -> bytes:
    """What page (key, index) holds in checkpoint cid of the linear chain 1..cid."""
    for c in range(cid, 0, -1):
        if (key, index) in written(c):
            return content(c, key, index)
    return ZERO


def check_store(path: Path, last_printed: int) -> list[int]:
    """The store after an interrupted writer: consistent, nothing committed lost."""
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
        # What the killed writer left goes with the next writer's begin.
        store.begin(parent=ids[-1] if ids else None).abort()
        registered = {f"{p:06d}.pack" for (p,) in store.backend.conn().execute(
            "SELECT id FROM packs")}
        on_disk = {p.name for p in (path / "packs").iterdir()}
        assert on_disk == registered, (sorted(on_disk), sorted(registered))  # no orphans
        return ids
    finally:
        store.close()


def main() -> None:
    store = Store.open(sys.argv[1])
    print("ready", flush=True)
    while True:
        parent = store.newest()
        with store.begin(parent) as w:
            cid = w.id
            for key, n in OBJECTS.items():
                w.declare(key, n)
            for key, index in written(cid):
                w.put_page(key, index, content(cid, key, index))
            assert w.commit({"cid": cid}, instructions=cid * 1000) == cid
        print(cid, flush=True)
        if cid % 5 == 0:
            store.gc(keep=3)
            print(f"gc {cid}", flush=True)


if __name__ == "__main__":
    main()
