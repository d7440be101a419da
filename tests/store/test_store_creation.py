"""A store appears whole or not at all; what an interrupted creation left is replaced."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from store_helpers import rand_page, write

from rtcr.errors import StoreError
from rtcr.store import Store, creation
from rtcr.store.format import CREATING_SUFFIX


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def test_a_creation_that_fails_midway_leaves_nothing(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(work: Path) -> None:
        work.mkdir()
        (work / "packs").mkdir()
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(creation, "_build", broken)
    with pytest.raises(StoreError, match="cannot create store"):
        Store.create(tmp_path / "s")
    assert list(tmp_path.iterdir()) == []


def test_the_leftover_of_a_killed_creation_is_removed_by_the_next(tmp_path: Path) -> None:
    leftover = tmp_path / f".s{CREATING_SUFFIX}-{_dead_pid()}-1"
    leftover.mkdir()
    (leftover / "store.sqlite").write_bytes(b"")
    store = Store.open_or_create(tmp_path / "s")
    assert not leftover.exists()
    assert write(store, {"m": 1}, {("m", 0): rand_page(0)}) == 1


def test_a_creation_in_progress_in_another_process_is_left_alone(tmp_path: Path) -> None:
    busy = tmp_path / f".s{CREATING_SUFFIX}-{os.getpid()}-1"
    busy.mkdir()
    Store.create(tmp_path / "s").close()
    assert busy.exists()


def test_what_an_interrupted_in_place_creation_left_is_replaced(tmp_path: Path) -> None:
    # rtcr 0.1 created stores in place: a kill left a database without metadata
    path = tmp_path / "s"
    path.mkdir()
    (path / "packs").mkdir()
    (path / "store.lock").touch()
    sqlite3.connect(path / "store.sqlite").execute("CREATE TABLE meta(key, value)").connection \
        .commit()
    with pytest.raises(StoreError, match="no format version"):
        Store.open(path)
    store = Store.open_or_create(path)
    assert store.ids() == []
    assert write(store, {"m": 1}, {("m", 0): rand_page(0)}) == 1


def test_a_store_with_checkpoints_is_never_taken_for_a_leftover(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    write(store, {"m": 1}, {("m", 0): rand_page(0)})
    store.close()
    assert not creation.interrupted_creation(tmp_path / "s")
    assert Store.open_or_create(tmp_path / "s").ids() == [1]
