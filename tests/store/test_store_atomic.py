"""Atomic commit: an aborted checkpoint leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_helpers import rand_page, snapshot, write

from rtcr.store import Store


def test_exception_inside_with_leaves_nothing_visible_and_no_orphan_files(
    tmp_path: Path,
) -> None:
    store = Store.create(tmp_path / "s")
    first = write(store, {"m": 4}, {("m", i): rand_page(i) for i in range(4)})
    before = sorted(p.name for p in (tmp_path / "s" / "packs").iterdir())
    with pytest.raises(RuntimeError), store.begin(parent=first) as w:
        w.declare("m", 4)
        for i in range(4):
            w.put_page("m", i, rand_page(("new", i)))
        raise RuntimeError("target crashed mid-checkpoint")
    assert [i.id for i in store.checkpoints()] == [first]
    assert sorted(p.name for p in (tmp_path / "s" / "packs").iterdir()) == before
    assert store.stats().blobs == 4
    assert store.verify().ok
    # the aborted id is not consumed
    assert write(store, {"m": 4}, {}, parent=first) == first + 1


def test_leaving_with_without_commit_aborts(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    with store.begin() as w:
        w.declare("m", 1)
        w.put_page("m", 0, rand_page(0))
    assert store.checkpoints() == []
    assert list((tmp_path / "s" / "packs").iterdir()) == []


def test_aborted_checkpoint_is_invisible_after_reopen(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    first = write(store, {"m": 2}, {("m", 0): rand_page(0)})
    expected = snapshot(store, first)
    w = store.begin(parent=first)
    w.declare("m", 2)
    w.put_page("m", 0, rand_page(1))
    w.abort()
    store.close()
    store = Store.open(tmp_path / "s")
    assert store.ids() == [first]
    assert snapshot(store, first) == expected


def test_orphaned_pack_of_an_uncommitted_write_is_removed_by_the_next_writer(
        tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    write(store, {"m": 1}, {("m", 0): rand_page(0)})
    store.close()
    orphan = tmp_path / "s" / "packs" / "000002.pack"
    orphan.write_bytes(b"half-written page data")
    store = Store.open(tmp_path / "s")
    assert orphan.exists()
    store.begin(parent=store.ids()[0]).abort()
    assert not orphan.exists()
    assert (tmp_path / "s" / "packs" / "000001.pack").exists()
    assert store.verify().ok
