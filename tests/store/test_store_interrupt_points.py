"""Ctrl-C at the two worst moments of a write, made exact: right after SQLite's COMMIT
returned (before the writer's own bookkeeping), and right after the codec entered new
blobs into the blob index (before the writer noted them). Neither may cost a committed
checkpoint, and no later checkpoint may deduplicate against blobs that were cut back.

The interrupt is raised where Python would deliver it, by wrapping the real call
that precedes that moment; everything else is the real store on disk.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from store_helpers import interrupt_after, rand_page, write

from rtcr.store import Store
from rtcr.store import writer as writer_module
from rtcr.store.backend import StoreBackend

PAGES = {("m", i): rand_page(("interrupted", i)) for i in range(16)}


def test_an_interrupt_just_after_commit_keeps_the_checkpoint_and_its_pack(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store.create(tmp_path / "s") as store:
        first = write(store, {"m": 16}, PAGES)
        interrupt_after(monkeypatch, StoreBackend, "committed")  # called right after COMMIT
        with pytest.raises(KeyboardInterrupt):
            write(store, {"m": 16}, {("m", 0): rand_page("second")}, parent=first)
        assert store.ids() == [first, first + 1]
        assert store.verify().ok
        assert store.load(first + 1).page("m", 0) == rand_page("second")
        later = write(store, {"m": 16}, {("m", 1): rand_page("second")}, parent=first + 1)
        assert store.verify(later).ok
        assert store.load(later).page("m", 1) == rand_page("second")


def test_an_interrupt_just_after_the_codec_leaves_no_blob_to_deduplicate_against(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store.create(tmp_path / "s") as store:
        with monkeypatch.context() as patch:
            interrupt_after(patch, writer_module, "encode")  # the codec entered new blobs
            with pytest.raises(KeyboardInterrupt):
                write(store, {"m": 16}, PAGES)
        assert store.ids() == []
        again = write(store, {"m": 16}, PAGES)  # the same contents: nothing to share
        assert store.verify(again).ok
        cp = store.load(again)
        assert [cp.page("m", i) for i in range(16)] == [PAGES["m", i] for i in range(16)]
