"""Scattering an object into memory: zero pages and memory that is zero already."""

from __future__ import annotations

from array import array
from pathlib import Path

from rtcr.core import PAGE_SIZE
from rtcr.store import Store
from rtcr.store.native import address

PAGES = [bytes(PAGE_SIZE), b"\x5a" * PAGE_SIZE, bytes(PAGE_SIZE)]  # zero, data, zero


def _stored(root: Path) -> Store:
    store = Store.create(root / "store")
    data = bytearray(b"".join(PAGES))
    with store.begin() as w:
        w.declare("ds:x", len(PAGES))
        w.put_pages("ds:x", array("I", range(len(PAGES))), address(data),
                    array("Q", range(0, len(data), PAGE_SIZE)))
        w.commit({}, dirty_pages=len(PAGES))
    return store


def _scatter_over(store: Store, fill: int, zeroed: bool) -> bytes:
    """Scatter the object over memory filled with ``fill``; what the memory holds then."""
    newest = store.newest()
    assert newest is not None
    memory = bytearray([fill]) * (len(PAGES) * PAGE_SIZE)
    store.load(newest).scatter("ds:x", address(memory),
                               array("Q", range(0, len(memory), PAGE_SIZE)), zeroed=zeroed)
    return bytes(memory)


def test_a_scatter_writes_zero_pages_over_memory_that_is_not_zero(tmp_path: Path) -> None:
    with _stored(tmp_path) as store:
        assert _scatter_over(store, 0xFF, zeroed=False) == b"".join(PAGES)


def test_a_scatter_into_zeroed_memory_never_touches_its_zero_pages(tmp_path: Path) -> None:
    # (The memory is not zero here, so that an untouched page shows.)
    with _stored(tmp_path) as store:
        assert _scatter_over(store, 0xFF, zeroed=True) == (
            b"\xff" * PAGE_SIZE + PAGES[1] + b"\xff" * PAGE_SIZE)


def test_a_scatter_into_zeroed_memory_restores_the_object(tmp_path: Path) -> None:
    with _stored(tmp_path) as store:
        assert _scatter_over(store, 0, zeroed=True) == b"".join(PAGES)
