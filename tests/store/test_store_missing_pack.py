"""A pack file that is gone: no new checkpoint deduplicates against its blobs, verify
names the checkpoints that need it, gc --force drops them and their rows."""

from __future__ import annotations

from pathlib import Path

from store_helpers import rand_page, write

from rtcr.store import Store

PAGES = {("m", i): rand_page(("shared", i)) for i in range(8)}


def _lose_every_pack(path: Path) -> None:
    for pack in (path / "packs").iterdir():
        pack.unlink()


def test_a_new_checkpoint_never_deduplicates_against_a_missing_pack(tmp_path: Path) -> None:
    """The store stays open while the pack goes: the cached blob index must not be trusted."""
    with Store.create(tmp_path / "s") as store:
        write(store, {"m": 8}, PAGES)
        _lose_every_pack(tmp_path / "s")
        fresh = write(store, {"m": 8}, PAGES)  # the same contents, no parent
        assert store.verify(fresh).ok
        cp = store.load(fresh)
        assert [cp.page("m", i) for i in range(8)] == [PAGES["m", i] for i in range(8)]


def test_a_store_reopened_after_a_pack_went_missing_writes_good_checkpoints(
        tmp_path: Path) -> None:
    with Store.create(tmp_path / "s") as store:
        write(store, {"m": 8}, PAGES)
    _lose_every_pack(tmp_path / "s")
    with Store.open(tmp_path / "s") as store:
        fresh = write(store, {"m": 8}, PAGES)
        assert store.verify(fresh).ok


def test_verify_names_the_checkpoints_whose_pack_is_missing(tmp_path: Path) -> None:
    with Store.create(tmp_path / "s") as store:
        first = write(store, {"m": 8}, PAGES)
        child = write(store, {"m": 8}, {("m", 0): rand_page("child")}, parent=first)
        _lose_every_pack(tmp_path / "s")
        fresh = write(store, {"m": 8}, PAGES)
        report = store.verify()
        assert sorted(report.corrupt) == [first, child]
        assert "missing" in report.corrupt[first]
        assert report.status(fresh) is None


def test_gc_force_drops_checkpoints_and_pack_rows_of_a_missing_pack(tmp_path: Path) -> None:
    with Store.create(tmp_path / "s") as store:
        lost = write(store, {"m": 8}, PAGES)
        _lose_every_pack(tmp_path / "s")
        fresh = write(store, {"m": 8}, PAGES)
        store.gc(2, force=True)
        assert store.ids() == [fresh]
        assert lost not in store.ids()
        assert store.verify().ok
        listed = {p.name for p in (tmp_path / "s" / "packs").iterdir()}
        rows = {f"{p:06d}.pack" for (p,) in store.backend.conn().execute("SELECT id FROM packs")}
        assert rows == listed, "no row of a pack that is not there"
