"""gc: keep the newest N, keep them restorable, free space."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_helpers import edit_page_table, rand_page, snapshot, write

from rtcr.errors import CorruptCheckpoint, InvalidArgument
from rtcr.store import Store


def _packs_size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path / "packs").iterdir())


def _chain(store: Store, n: int) -> list[int]:
    ids: list[int] = []
    parent = None
    for step in range(n):
        pages = ({("m", i): rand_page((0, i)) for i in range(32)} if step == 0
                 else {("m", (step * 7 + j) % 32): rand_page((step, j)) for j in range(8)})
        parent = write(store, {"m": 32, "k": 2}, pages, parent=parent,
                       manifest={"step": step})
        ids.append(parent)
    return ids


def test_gc_keeps_newest_and_they_still_restore(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    ids = _chain(store, 6)
    before = {c: snapshot(store, c) for c in ids[-2:]}
    report = store.gc(keep=2)
    assert report.removed == ids[:-2]
    assert report.flattened == [ids[-2]]
    assert store.ids() == ids[-2:]
    assert store.checkpoints()[0].parent is None  # oldest kept is self-contained
    assert store.checkpoints()[1].parent == ids[-2]
    assert {c: snapshot(store, c) for c in ids[-2:]} == before
    assert store.verify().ok
    store.close()
    reopened = Store.open(tmp_path / "s")
    assert {c: snapshot(reopened, c) for c in ids[-2:]} == before


def test_gc_frees_space_of_unreferenced_blobs(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    _chain(store, 6)
    before = _packs_size(tmp_path / "s")
    report = store.gc(keep=1)
    after = _packs_size(tmp_path / "s")
    # 6*8 changed pages were written after the base; the survivors are one full image
    assert after == 32 * 4096
    assert report.bytes_freed == before - after > 0
    assert store.stats().blobs == 32
    assert store.stats().blob_bytes == sum(i.bytes for i in store.checkpoints())


def test_new_checkpoints_continue_after_gc_with_increasing_ids(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    ids = _chain(store, 4)
    store.gc(keep=1)
    new = write(store, {"m": 32, "k": 2}, {("m", 0): rand_page("after")}, parent=ids[-1])
    assert new == ids[-1] + 1
    assert store.load(new).page("m", 0) == rand_page("after")
    store.gc(keep=0)
    assert store.ids() == []
    assert list((tmp_path / "s" / "packs").iterdir()) == []
    assert write(store, {}, {}) == new + 1


def test_gc_flattens_every_kept_checkpoint_whose_parent_goes(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    a = write(store, {"m": 2}, {("m", 0): rand_page("a0"), ("m", 1): rand_page("a1")})
    b = write(store, {"m": 2}, {("m", 1): rand_page("b1")}, parent=a)
    c = write(store, {"m": 2}, {("m", 0): rand_page("c0")}, parent=b)
    d = write(store, {"m": 2}, {("m", 0): rand_page("d0")}, parent=b)  # branch
    before = {x: snapshot(store, x) for x in (c, d)}
    report = store.gc(keep=2)
    assert report.flattened == [c, d]
    assert {x: snapshot(store, x) for x in (c, d)} == before
    assert store.verify().ok


def test_gc_refuses_to_launder_a_corrupt_ancestor(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    ids = _chain(store, 3)
    edit_page_table(tmp_path / "s", ids[0], "m", 0, new_hash=bytes(16))
    with pytest.raises(CorruptCheckpoint) as info:
        store.gc(keep=2)
    assert info.value.checkpoint_id == ids[1]
    assert store.ids() == ids


def test_gc_rejects_negative_keep(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    with pytest.raises(InvalidArgument):
        store.gc(-1)


def test_checkpoint_loaded_before_gc_must_be_reloaded(tmp_path: Path) -> None:
    from rtcr.errors import StoreError

    store = Store.create(tmp_path / "s")
    ids = _chain(store, 3)
    cp = store.load(ids[-1])
    store.gc(keep=1)
    with pytest.raises(StoreError, match="load it again"):
        cp.page("m", 0)
