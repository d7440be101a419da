"""Batches are written to the pack while the codec encodes the next: a write that fails
there still ends the checkpoint before its commit and leaves nothing of it behind.
On a real, small tmpfs that fills up in the middle of a checkpoint."""

from __future__ import annotations

import random
from array import array
from pathlib import Path

import pytest
from store_helpers import rand_page, tmpfs, write

from rtcr.errors import StoreFull
from rtcr.store import PAGE_SIZE, Store
from rtcr.store.native import address
from rtcr.store.writer import BATCH_PAGES


def _pack_bytes(store_path: Path) -> int:
    return sum(p.stat().st_size for p in (store_path / "packs").iterdir())


@pytest.mark.parametrize("pages", [
    BATCH_PAGES + 700,  # the disk fills in the last batch: the commit's sync reports it
    3 * BATCH_PAGES,  # it fills in the second batch: writing the third reports it
])
def test_a_disk_filling_during_a_batch_write_leaves_no_checkpoint_and_no_bytes(
        tmp_path: Path, pages: int) -> None:
    with tmpfs(tmp_path / "disk", "6m") as disk:
        store = Store.create(disk / "s")
        first = write(store, {"m": 64}, {("m", i): rand_page(("first", i)) for i in range(64)})
        before = _pack_bytes(disk / "s")
        data = bytearray(random.Random(pages).randbytes(pages * PAGE_SIZE))  # incompressible
        with pytest.raises(StoreFull, match="checkpoint 2 was not written"), \
                store.begin(first) as writer:
            writer.declare("m", pages)
            writer.put_pages("m", array("I", range(pages)), address(data),
                             array("Q", range(0, pages * PAGE_SIZE, PAGE_SIZE)))
            writer.commit({"n": pages})
        assert store.ids() == [first]
        assert _pack_bytes(disk / "s") == before
        assert store.verify().ok
        later = write(store, {"m": 64}, {("m", 0): rand_page("later")}, parent=first)
        assert store.load(later).page("m", 0) == rand_page("later")
