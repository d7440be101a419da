"""Shared helpers for the store tests."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rtcr.store import PAGE_SIZE, Store

if TYPE_CHECKING:
    import pytest

ZERO = bytes(PAGE_SIZE)


def rand_page(seed: object) -> bytes:
    """Incompressible, deterministic page."""
    out = b""
    counter = 0
    while len(out) < PAGE_SIZE:
        out += hashlib.blake2b(f"{seed}/{counter}".encode(), digest_size=64).digest()
        counter += 1
    return out[:PAGE_SIZE]


def text_page(seed: object) -> bytes:
    """Compressible, deterministic page."""
    line = f"page {seed}: the quick brown fox jumps over the lazy dog\n".encode()
    return (line * (PAGE_SIZE // len(line) + 1))[:PAGE_SIZE]


def write(
    store: Store,
    objects: dict[str, int],
    pages: dict[tuple[str, int], bytes],
    parent: int | None = None,
    manifest: dict[str, Any] | None = None,
    fresh: frozenset[str] = frozenset(),
    **info: Any,
) -> int:
    with store.begin(parent) as w:
        for key, n in objects.items():
            w.declare(key, n, fresh=key in fresh)
        for (key, idx), data in pages.items():
            w.put_page(key, idx, data)
        return w.commit(manifest if manifest is not None else {"n": len(pages)}, **info)


def snapshot(store: Store, cid: int) -> dict[str, Any]:
    """Everything a restore would read from checkpoint ``cid``."""
    cp = store.load(cid)
    objs = cp.objects()
    return {
        "manifest": cp.manifest,
        "objects": objs,
        "pages": {k: [cp.page(k, i) for i in range(n)] for k, n in objs.items()},
    }


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """Run ``rtcr ARGS`` in-process through the real entry point."""
    from rtcr.cli import main

    monkeypatch.setattr(sys, "argv", ["rtcr", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out = capsys.readouterr()
    return code, out.out, out.err


def build_sample(path: Path) -> dict[int, dict[str, Any]]:
    """A small store with a chain of 4 checkpoints exercising every kind of page.

    Returns the snapshot of every checkpoint.
    """
    rng = random.Random(7)
    store = Store.create(path)
    objs = {"ds:1": 24, "ds:2": 8}
    pages: dict[tuple[str, int], bytes] = {}
    for i in range(24):
        kind = i % 4
        pages["ds:1", i] = (rand_page(("a", i)) if kind == 0 else text_page(i) if kind == 1
                            else ZERO if kind == 2 else text_page("dup"))
    for i in range(8):
        pages["ds:2", i] = rand_page(("b", i))
    parent = write(store, objs, pages, manifest={"regs": [1, 2, 3], "cid": 1})
    for step in range(2, 5):
        changed = {("ds:1", rng.randrange(24)): rand_page(("c", step, j)) for j in range(4)}
        changed["ds:2", step] = text_page(("s", step))
        parent = write(store, objs, changed, parent=parent, manifest={"cid": step})
    snaps = {c: snapshot(store, c) for c in store.ids()}
    store.close()
    return snaps


def edit_page_table(path: Path, cid: int, key: str, index: int,
                    new_hash: bytes | None = None) -> None:
    """Damage checkpoint ``cid``'s table of ``key`` behind the store's back: drop the entry
    for page ``index``, or (with ``new_hash``) give it another content hash."""
    db = sqlite3.connect(path / "store.sqlite")
    indices, hashes, locations = db.execute(
        "SELECT indices, hashes, locations FROM objects WHERE cid=? AND key=?",
        (cid, key)).fetchone()
    idx = array("I")
    idx.frombytes(indices)
    at = list(idx).index(index)
    if new_hash is None:
        del idx[at]
        hashes = hashes[:16 * at] + hashes[16 * (at + 1):]
        locations = locations[:16 * at] + locations[16 * (at + 1):]
    else:
        hashes = hashes[:16 * at] + new_hash + hashes[16 * (at + 1):]
    db.execute("UPDATE objects SET indices=?, hashes=?, locations=? WHERE cid=? AND key=?",
               (idx.tobytes(), hashes, locations, cid, key))
    db.commit()
    db.close()


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A real, small file system at ``path`` (root only; the test is skipped elsewhere)."""
    import pytest

    path.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"mounting a tmpfs was refused: {proc.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def damage_a_blob_of(path: Path, cid: int) -> None:
    """Flip a byte in the middle of a page blob that checkpoint ``cid`` stored."""
    with Store.open(path) as store:
        blob = next(b for b in store.blobs() if b.owner == cid)
    data = bytearray(blob.path.read_bytes())
    data[blob.offset + blob.length // 2] ^= 0xFF
    blob.path.write_bytes(bytes(data))


def interrupt_after(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
    """Make ``owner.name`` do its work, then raise KeyboardInterrupt (once): Ctrl-C
    delivered where Python would deliver it, right after that call."""
    real = getattr(owner, name)
    fired: list[bool] = []

    def then_interrupt(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        if not fired:
            fired.append(True)
            raise KeyboardInterrupt
        return out

    monkeypatch.setattr(owner, name, then_interrupt)
