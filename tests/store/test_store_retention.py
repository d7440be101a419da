"""`Store.retain`: a run's rolling window over its store (--keep, --max-store-size)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from store_helpers import rand_page, snapshot, write

from rtcr.store import Retention, Store
from rtcr.store.retention import occupied_bytes

PAGES = 64


def chain(store: Store, length: int, written: int = 2) -> list[int]:
    """``length`` checkpoints, each rewriting ``written`` pages of one object (incompressible)."""
    ids: list[int] = []
    for n in range(length):
        pages = {("obj:1", (written * n + k) % PAGES): rand_page((n, k)) for k in range(written)}
        if n == 0:
            pages = {("obj:1", i): rand_page((0, i)) for i in range(PAGES)}
        ids.append(write(store, {"obj:1": PAGES}, pages, parent=ids[-1] if ids else None))
    return ids


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 10), st.integers(1, 4), st.sets(st.integers(0, 9), max_size=3))
def test_keep_leaves_the_newest_n_and_the_tagged_each_as_it_was(
        length: int, keep: int, tag_at: set[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp, Store.create(Path(tmp) / "s") as store:
        ids = chain(store, length)
        tagged = {ids[i] for i in tag_at if i < length}
        for n, cid in enumerate(sorted(tagged)):
            store.tag(f"t{n}", cid)
        expected = sorted(set(ids[-keep:]) | tagged)
        before = {cid: snapshot(store, cid) for cid in expected}
        store.retain(Retention(keep=keep))
        assert store.ids() == expected
        assert {cid: snapshot(store, cid) for cid in expected} == before


def test_max_bytes_keeps_the_store_within_the_bound(tmp_path: Path) -> None:
    with Store.create(tmp_path / "s") as store:
        chain(store, 40, written=16)  # 64 KiB a checkpoint, beside the 1 MiB reserve
        bound = occupied_bytes(store.path) * 2 // 3
        retained = store.retain(Retention(max_bytes=bound))
        assert retained.oversized is None
        assert retained.size == occupied_bytes(store.path) <= bound
        assert retained.removed == tuple(range(1, len(retained.removed) + 1))
        assert store.ids()[-1] == 40


def test_max_bytes_below_the_newest_checkpoint_keeps_it_and_says_so(tmp_path: Path) -> None:
    with Store.create(tmp_path / "s") as store:
        ids = chain(store, 5)
        retained = store.retain(Retention(max_bytes=1))
        assert store.ids() == [ids[-1]]
        assert retained.oversized == ids[-1]


def test_retain_within_the_bounds_changes_nothing(tmp_path: Path) -> None:
    with Store.create(tmp_path / "s") as store:
        ids = chain(store, 3)
        before = {cid: snapshot(store, cid) for cid in ids}
        retained = store.retain(Retention(keep=3, max_bytes=1 << 30))
        assert retained.removed == ()
        assert {cid: snapshot(store, cid) for cid in store.ids()} == before


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 6), st.integers(1, 12))
def test_gc_keeping_more_than_the_store_holds_removes_nothing(length: int, keep: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, Store.create(Path(tmp) / "s") as store:
        ids = chain(store, length)
        store.gc(keep)
        assert store.ids() == ids[-keep:]
