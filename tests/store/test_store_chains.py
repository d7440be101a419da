"""Incremental chains: inheritance, overrides, fresh objects, freed objects."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_helpers import ZERO, rand_page, text_page, write

from rtcr.errors import InvalidArgument
from rtcr.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.create(tmp_path / "s")


def test_child_inherits_unchanged_pages(store: Store) -> None:
    base = write(store, {"m": 4}, {("m", i): rand_page(i) for i in range(4)})
    child = write(store, {"m": 4}, {("m", 1): text_page("new")}, parent=base)
    cp = store.load(child)
    assert cp.page("m", 0) == rand_page(0)
    assert cp.page("m", 3) == rand_page(3)
    assert store.checkpoints()[1].pages == 1
    assert cp.chain == [child, base]


def test_child_overrides_changed_pages_and_parent_keeps_its_own(store: Store) -> None:
    base = write(store, {"m": 2}, {("m", 0): rand_page("old")})
    child = write(store, {"m": 2}, {("m", 0): rand_page("new")}, parent=base)
    assert store.load(child).page("m", 0) == rand_page("new")
    assert store.load(base).page("m", 0) == rand_page("old")


def test_zero_page_in_child_overrides_non_zero_ancestor(store: Store) -> None:
    base = write(store, {"m": 1}, {("m", 0): rand_page(1)})
    child = write(store, {"m": 1}, {("m", 0): ZERO}, parent=base)
    cp = store.load(child)
    assert cp.page("m", 0) == ZERO
    assert list(cp.pages("m")) == [(0, ZERO)]


def test_long_chain_resolves_each_page_to_its_newest_write(store: Store) -> None:
    expected = [ZERO] * 16
    parent = None
    for step in range(12):
        changed = {("m", (step * 5 + j) % 16): rand_page((step, j)) for j in range(3)}
        for (_k, i), data in changed.items():
            expected[i] = data
        parent = write(store, {"m": 16}, changed, parent=parent)
    assert parent is not None
    cp = store.load(parent)
    assert [cp.page("m", i) for i in range(16)] == expected
    assert dict(cp.pages("m")) == {i: p for i, p in enumerate(expected) if p != ZERO}


def test_fresh_object_does_not_inherit_pages_of_a_reused_key(store: Store) -> None:
    base = write(store, {"m": 2}, {("m", 0): rand_page(1), ("m", 1): rand_page(2)})
    child = write(store, {"m": 2}, {("m", 1): rand_page(3)}, parent=base,
                  fresh=frozenset({"m"}))
    cp = store.load(child)
    assert cp.page("m", 0) == ZERO
    assert cp.page("m", 1) == rand_page(3)
    grandchild = write(store, {"m": 2}, {}, parent=child)
    assert store.load(grandchild).page("m", 0) == ZERO  # fresh cut stays in the lineage


def test_key_absent_in_parent_starts_a_new_object(store: Store) -> None:
    a = write(store, {"m": 1}, {("m", 0): rand_page(1)})
    b = write(store, {}, {}, parent=a)  # "m" freed
    c = write(store, {"m": 1}, {}, parent=b)  # new object reusing the key
    assert store.load(c).page("m", 0) == ZERO


def test_freed_objects_disappear_from_the_child(store: Store) -> None:
    a = write(store, {"m": 1, "n": 1}, {("m", 0): rand_page(1), ("n", 0): rand_page(2)})
    b = write(store, {"n": 1}, {}, parent=a)
    cp = store.load(b)
    assert cp.objects() == {"n": 1}
    assert cp.page("n", 0) == rand_page(2)
    with pytest.raises(InvalidArgument):
        cp.page("m", 0)


def test_grown_object_reads_new_pages_as_zero_and_keeps_old_ones(store: Store) -> None:
    a = write(store, {"m": 1}, {("m", 0): rand_page(1)})
    b = write(store, {"m": 3}, {("m", 2): rand_page(2)}, parent=a)
    cp = store.load(b)
    assert [cp.page("m", i) for i in range(3)] == [rand_page(1), ZERO, rand_page(2)]


def test_branch_from_an_older_checkpoint(store: Store) -> None:
    a = write(store, {"m": 2}, {("m", 0): rand_page("a")})
    write(store, {"m": 2}, {("m", 1): rand_page("b")}, parent=a)
    c = write(store, {"m": 2}, {("m", 1): rand_page("c")}, parent=a)
    cp = store.load(c)
    assert (cp.parent, cp.page("m", 0), cp.page("m", 1)) == (a, rand_page("a"), rand_page("c"))
