"""Writing streams pages to disk; Python memory does not grow with the page count."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from rtcr.store import Store


def _write_pages(path: Path, n: int) -> int:
    store = Store.create(path)
    tracemalloc.start()
    try:
        with store.begin() as w:
            w.declare("ds:big", n)
            for i in range(n):
                w.put_page("ds:big", i, i.to_bytes(8, "little") * 512)
            w.commit({"n": n})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert store.checkpoints()[0].pages == n
    store.close()
    return peak


def test_writing_5k_pages_keeps_python_memory_small(tmp_path: Path) -> None:
    assert _write_pages(tmp_path / "s", 5_000) < 512 * 1024


@pytest.mark.slow
def test_writing_50k_pages_does_not_accumulate_them_in_ram(tmp_path: Path) -> None:
    # 50k pages are 200 MiB of data; a dict of their hashes alone would be several MiB
    assert _write_pages(tmp_path / "s", 50_000) < 512 * 1024
