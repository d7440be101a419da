"""A store that cannot be written (no permission, a read-only mount) can be listed,
verified and read; writing to it is refused with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from store_helpers import build_sample, run_cli, snapshot

from rtcr.errors import StoreError
from rtcr.store import Store


@contextmanager
def read_only_mount(source: Path, at: Path) -> Iterator[Path]:
    at.mkdir()
    if os.geteuid() != 0:
        pytest.skip("needs root for a bind mount")
    for args in (["mount", "--bind", str(source), str(at)],
                 ["mount", "-o", "remount,bind,ro", str(at)]):
        proc = subprocess.run(args, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            subprocess.run(["umount", str(at)], check=False)
            pytest.skip(f"a read-only bind mount was refused: {proc.stderr.strip()}")
    try:
        yield at
    finally:
        subprocess.run(["umount", "-l", str(at)], check=False)


@contextmanager
def without_write_permission(path: Path) -> Iterator[Path]:
    if os.geteuid() == 0:
        pytest.skip("root writes regardless of permissions")
    modes = {p: p.stat().st_mode for p in [path, *path.rglob("*")]}
    for p in modes:
        p.chmod(modes[p] & ~0o222)
    try:
        yield path
    finally:
        for p, mode in modes.items():
            p.chmod(mode)


def _reads_everything(path: Path, expected: Mapping[int, object],
                      capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    with Store.open(path) as store:
        assert store.readonly
        assert store.verify().ok
        assert {cid: snapshot(store, cid) for cid in store.ids()} == expected
        with pytest.raises(StoreError, match="read-only"):
            store.begin()
        with pytest.raises(StoreError, match="read-only"):
            store.gc(keep=1)
    for command in (["inspect", str(path), "--json"], ["verify", str(path)]):
        code, _out, err = run_cli(command, capsys, monkeypatch)
        assert code == 0, err


def test_a_read_only_mount_can_be_inspected_verified_and_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    expected = build_sample(tmp_path / "s")
    with read_only_mount(tmp_path / "s", tmp_path / "ro") as ro:
        _reads_everything(ro, expected, capsys, monkeypatch)


def test_a_store_without_write_permission_can_be_inspected_verified_and_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    expected = build_sample(tmp_path / "s")
    with without_write_permission(tmp_path / "s") as ro:
        _reads_everything(ro, expected, capsys, monkeypatch)


# A writer killed before it closed the store: its commits are in store.sqlite-wal,
# not yet in store.sqlite (os._exit skips what closing the database would do).
_KILLED_WRITER = """
import os, sys
sys.path.insert(0, sys.argv[2])
from store_helpers import rand_page, write
from rtcr.store import Store
store = Store.create(sys.argv[1])
parent = None
for step in range(3):
    parent = write(store, {"m": 8}, {("m", step): rand_page(step)}, parent=parent)
os._exit(0)
"""


def _killed_writer(path: Path) -> Path:
    subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(path), str(Path(__file__).parent)],
                   check=True)
    assert (path / "store.sqlite-wal").stat().st_size > 0, "the writer's log was folded in"
    return path


def test_a_read_only_mount_of_a_store_whose_writer_was_killed_lists_every_commit(
        tmp_path: Path) -> None:
    source = _killed_writer(tmp_path / "s")
    with read_only_mount(source, tmp_path / "ro") as ro, Store.open(ro) as store:
        assert store.readonly
        assert store.ids() == [1, 2, 3]
        assert store.verify().ok


def test_a_killed_writers_log_without_its_index_on_a_read_only_mount_is_one_clear_error(
        tmp_path: Path) -> None:
    source = _killed_writer(tmp_path / "s")
    (source / "store.sqlite-shm").unlink()
    with read_only_mount(source, tmp_path / "ro") as ro, \
            pytest.raises(StoreError, match="holds commits its killed writer left"):
        Store.open(ro)
