"""Basic store behaviour: create/open, round trip, listing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from store_helpers import ZERO, rand_page, text_page, write

from rtcr.errors import InvalidArgument, StoreError, UnknownCheckpoint
from rtcr.store import PAGE_SIZE, Store


def test_round_trip_returns_manifest_objects_and_pages(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    pages = {("ds:1", 0): rand_page(1), ("ds:1", 3): text_page(2), ("ds:9", 1): rand_page(3)}
    manifest = {"threads": [{"rip": 4096, "regs": [1, 2]}], "name": "counter", "x": None}
    cid = write(store, {"ds:1": 4, "ds:9": 2}, pages, manifest=manifest,
                instructions=1234, dirty_pages=3, pause_us=17.5, strategy="ro-attach")
    store.close()

    store = Store.open(tmp_path / "s")
    cp = store.load(cid)
    assert cid == 1
    assert cp.manifest == manifest
    assert cp.objects() == {"ds:1": 4, "ds:9": 2}
    assert cp.page("ds:1", 0) == pages["ds:1", 0]
    assert cp.page("ds:1", 3) == pages["ds:1", 3]
    assert cp.page("ds:1", 1) == ZERO
    assert list(cp.pages("ds:1")) == [(0, pages["ds:1", 0]), (3, pages["ds:1", 3])]
    assert list(cp.pages("ds:9")) == [(1, pages["ds:9", 1])]
    [info] = store.checkpoints()
    assert (info.id, info.parent, info.instructions, info.pages, info.dirty_pages,
            info.pause_us, info.strategy, info.created) == (1, None, 1234, 3, 3, 17.5,
                                                              "ro-attach", 1)
    assert info.raw_bytes == 3 * PAGE_SIZE
    assert 0 < info.bytes < info.raw_bytes


def test_ids_increase_from_one_and_newest_is_the_last(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    assert store.newest() is None
    ids = [write(store, {"m": 1}, {("m", 0): text_page(i)},
                 parent=None if i == 0 else i) for i in range(3)]
    assert ids == [1, 2, 3]
    assert store.newest() == 3
    assert [i.created for i in store.checkpoints()] == [1, 2, 3]


def test_create_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "junk").write_text("x")
    with pytest.raises(StoreError, match="not empty"):
        Store.create(tmp_path)


def test_open_reports_missing_directory_and_non_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(tmp_path / "nope")
    with pytest.raises(StoreError, match="is not an rtcr store"):
        Store.open(tmp_path)
    (tmp_path / "store.sqlite").write_bytes(b"")
    with pytest.raises(StoreError, match="is not an rtcr store"):
        Store.open(tmp_path)


def test_open_reports_garbage_database_as_store_error(tmp_path: Path) -> None:
    (tmp_path / "store.sqlite").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="unreadable or corrupt"):
        Store.open(tmp_path)


def test_open_refuses_a_newer_format_version(tmp_path: Path) -> None:
    Store.create(tmp_path / "s").close()
    db = sqlite3.connect(tmp_path / "s" / "store.sqlite")
    db.execute("UPDATE meta SET value='99' WHERE key='format'")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="format 99 is newer"):
        Store.open(tmp_path / "s")


def test_unknown_parent_and_unknown_load_raise_unknown_checkpoint(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    with pytest.raises(UnknownCheckpoint):
        store.begin(parent=5)
    with pytest.raises(UnknownCheckpoint):
        store.load(1)
    # the failed begin released the writer lock
    assert write(store, {"m": 1}, {}) == 1


def test_put_page_validates_key_index_and_size(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    with store.begin() as w:
        w.declare("m", 2)
        with pytest.raises(InvalidArgument):
            w.put_page("m", 0, b"short")
        with pytest.raises(InvalidArgument):
            w.put_page("m", 2, ZERO)
        with pytest.raises(InvalidArgument):
            w.put_page("other", 0, ZERO)
        with pytest.raises(InvalidArgument):
            w.declare("m", 2)
        with pytest.raises(InvalidArgument):
            w.commit({1: "non-string key"})  # type: ignore[dict-item]
        w.put_page("m", 1, bytearray(rand_page(0)))
        assert w.commit({}) == 1
    assert store.load(1).page("m", 1) == rand_page(0)


def test_second_concurrent_writer_is_refused(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    other = Store.open(tmp_path / "s")
    with store.begin() as w:
        with pytest.raises(StoreError, match="already being written"):
            store.begin()
        with pytest.raises(StoreError, match="busy"):
            other.begin()
        w.commit({})
    assert write(other, {}, {}) == 2


def test_readers_do_not_see_an_uncommitted_checkpoint(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    reader = Store.open(tmp_path / "s")
    with store.begin() as w:
        w.declare("m", 1)
        w.put_page("m", 0, rand_page(1))
        assert reader.checkpoints() == []
        w.commit({})
    assert [i.id for i in reader.checkpoints()] == [1]
