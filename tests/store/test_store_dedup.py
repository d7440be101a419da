"""Content addressing: identical pages stored once, zero pages free, compression reported."""

from __future__ import annotations

from pathlib import Path

from store_helpers import ZERO, rand_page, text_page, write

from rtcr.store import PAGE_SIZE, Store


def test_same_page_in_1000_places_is_stored_once(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    page = rand_page("same")
    a = write(store, {"m": 600}, {("m", i): page for i in range(600)})
    b = write(store, {"m": 600, "n": 400}, {("n", i): page for i in range(400)}, parent=a)
    stats = store.stats()
    assert stats.blobs == 1
    assert stats.pack_bytes <= PAGE_SIZE + 64
    assert stats.dedup_ratio == 1000
    infos = store.checkpoints()
    assert infos[1].bytes == 0  # nothing new: the blob was stored by checkpoint a
    assert infos[0].compression_ratio is not None and infos[0].compression_ratio > 500
    cp = store.load(b)
    assert all(data == page for _i, data in cp.pages("n"))


def test_compressible_pages_report_a_compression_ratio(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    write(store, {"m": 64}, {("m", i): text_page(i) for i in range(64)})
    [info] = store.checkpoints()
    assert info.compression_ratio is not None and info.compression_ratio > 10
    assert info.to_dict()["compression_ratio"] == info.compression_ratio


def test_random_pages_are_stored_uncompressed_without_growth(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    write(store, {"m": 32}, {("m", i): rand_page(i) for i in range(32)})
    [info] = store.checkpoints()
    assert info.bytes == 32 * PAGE_SIZE


def test_zero_pages_cost_no_blob_and_no_pack_bytes(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    cid = write(store, {"m": 5000}, {("m", i): ZERO for i in range(5000)})
    stats = store.stats()
    assert (stats.blobs, stats.pack_bytes) == (0, 0)
    assert store.checkpoints()[0].pages == 5000
    assert store.load(cid).page("m", 4999) == ZERO
    assert not list((tmp_path / "s" / "packs").iterdir())  # empty pack not kept
