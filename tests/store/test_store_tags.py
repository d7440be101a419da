"""Tags name checkpoints; `rtcr rm` deletes by id or tag and keeps the rest restorable."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from store_helpers import build_sample, snapshot

from rtcr.cli._ranges import id_ranges
from rtcr.errors import InvalidArgument, StoreError, UnknownCheckpoint
from rtcr.store import Store


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, dict[int, dict[str, Any]]]:
    return tmp_path / "s", build_sample(tmp_path / "s")


def test_a_tag_resolves_to_the_checkpoint_it_names(sample: tuple[Path, Any]) -> None:
    path, _ = sample
    with Store.open(path) as store:
        store.tag("good", 2)
    with Store.open(path) as store:
        assert (store.tags(), store.resolve("good"), store.resolve("3")) == ({"good": 2}, 2, 3)


def test_setting_a_tag_again_moves_it(sample: tuple[Path, Any]) -> None:
    path, _ = sample
    with Store.open(path) as store:
        store.tag("mark", 1)
        store.tag("mark", 4)
        assert store.tags() == {"mark": 4}


def test_a_tag_that_looks_like_an_id_is_refused(sample: tuple[Path, Any]) -> None:
    path, _ = sample
    with Store.open(path) as store, pytest.raises(InvalidArgument, match="bad tag '12'"):
        store.tag("12", 1)


def test_a_tag_of_a_missing_checkpoint_is_refused(sample: tuple[Path, Any]) -> None:
    path, _ = sample
    with Store.open(path) as store:
        with pytest.raises(UnknownCheckpoint, match="no checkpoint 9"):
            store.tag("later", 9)
        assert store.tags() == {}


def test_a_damaged_tag_is_reported_by_name_not_followed(sample: tuple[Path, Any]) -> None:
    path, _ = sample
    with Store.open(path) as store:
        store.tag("good", 2)
    db = sqlite3.connect(path / "store.sqlite")
    db.execute("UPDATE tags SET cid=3 WHERE name='good'")
    db.commit()
    db.close()
    with Store.open(path) as store, pytest.raises(StoreError, match="tag 'good' is damaged"):
        store.resolve("good")


def test_gc_drops_the_tags_of_the_checkpoints_it_removes(sample: tuple[Path, Any]) -> None:
    path, _ = sample
    with Store.open(path) as store:
        store.tag("old", 1)
        store.tag("new", 4)
        store.gc(1)
        assert store.tags() == {"new": 4}


def test_gc_keeps_a_tagged_checkpoint_besides_the_newest(
        sample: tuple[Path, dict[int, dict[str, Any]]]) -> None:
    path, snaps = sample
    with Store.open(path) as store:
        store.tag("old", 1)
        store.gc(1, keep_also=set(store.tags().values()))
        assert store.ids() == [1, 4]
        assert {c: snapshot(store, c) for c in store.ids()} == {1: snaps[1], 4: snaps[4]}


def test_removing_a_middle_checkpoint_keeps_every_other_one_as_it_was(
        sample: tuple[Path, dict[int, dict[str, Any]]]) -> None:
    path, snaps = sample
    with Store.open(path) as store:
        report = store.gc(4, remove={2})
        assert (store.ids(), report.flattened) == ([1, 3, 4], [3])
        assert store.info(3).parent is None
        assert {c: snapshot(store, c) for c in store.ids()} == {c: snaps[c] for c in (1, 3, 4)}
        assert store.verify().ok


def test_removing_a_missing_checkpoint_is_refused_and_changes_nothing(
        sample: tuple[Path, Any]) -> None:
    path, _ = sample
    with Store.open(path) as store:
        with pytest.raises(UnknownCheckpoint, match="no checkpoint 7"):
            store.gc(4, remove={2, 7})
        assert store.ids() == [1, 2, 3, 4]


def _parse(text: str) -> set[int]:
    out: set[int] = set()
    for part in text.split(", "):
        first, _, last = part.partition("–")
        out.update(range(int(first), int(last or first) + 1))
    return out


@given(st.sets(st.integers(1, 400)))
def test_id_ranges_name_exactly_the_ids(ids: set[int]) -> None:
    text = id_ranges(ids)
    assert (text == "none") if not ids else (_parse(text) == ids)
