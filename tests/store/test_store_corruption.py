"""Corruption is detected with the right checkpoint id and never silently restored."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_helpers import build_sample, edit_page_table, snapshot

from rtcr.errors import CorruptCheckpoint, StoreError
from rtcr.store import Store

# RTCR_STORE_EXAMPLES=500 for a long fuzzing run
EXAMPLES = settings(max_examples=int(os.environ.get("RTCR_STORE_EXAMPLES", "40")), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


class Template(tuple[Path, dict[int, Any]]):
    """The sample store and its expected contents (short repr for hypothesis reports)."""

    def __repr__(self) -> str:
        return f"Template({self[0]})"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, Any]]:
    path = tmp_path_factory.mktemp("tmpl") / "s"
    return Template((path, build_sample(path)))


@contextmanager
def copy_of(template: Path) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="rtcr-corrupt-"))
    try:
        shutil.copytree(template, root / "s")
        yield root / "s"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _flip(path: Path, offset: int, mask: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= mask
    path.write_bytes(bytes(data))


def _read_all(store: Store, cid: int) -> dict[str, Any] | StoreError:
    try:
        return snapshot(store, cid)
    except CorruptCheckpoint as exc:
        assert exc.checkpoint_id == cid, f"loading {cid} blamed {exc.checkpoint_id}"
        return exc
    except StoreError as exc:
        return exc


def _assert_never_silent(path: Path, expected: dict[int, Any]) -> set[int]:
    """Verify and read every checkpoint; returns the ids found corrupt."""
    try:
        store = Store.open(path)
    except StoreError:
        return set(expected)
    try:
        try:
            report = store.verify()
        except StoreError:
            report = None
        try:
            listed = set(store.ids())
        except StoreError:
            listed = set()
        bad: set[int] = set()
        for cid, want in expected.items():
            got = _read_all(store, cid)
            if isinstance(got, StoreError):
                bad.add(cid)
                if report is not None:
                    assert not report.ok, f"load({cid}) failed ({got}) but verify said OK"
                    if cid in listed and isinstance(got, CorruptCheckpoint):
                        assert cid in report.corrupt, f"verify missed {cid}: {got}"
            else:
                assert got == want, f"checkpoint {cid} silently returned wrong data"
                if report is not None and cid in report.corrupt:
                    raise AssertionError(f"verify blamed {cid} but it reads back intact")
        if report is not None and report.ok:
            assert listed == set(expected)
        return bad
    finally:
        store.close()


def _packs(path: Path) -> list[Path]:
    return sorted((path / "packs").iterdir())


@EXAMPLES
@given(data=st.data())
def test_flipped_byte_in_a_pack_is_detected_or_harmless(
    template: tuple[Path, dict[int, Any]], data: st.DataObject
) -> None:
    tmpl, expected = template
    with copy_of(tmpl) as path:
        pack = data.draw(st.sampled_from(_packs(path)))
        offset = data.draw(st.integers(0, pack.stat().st_size - 1))
        _flip(pack, offset, data.draw(st.integers(1, 255)))
        _assert_never_silent(path, expected)


@EXAMPLES
@given(data=st.data())
def test_truncated_pack_is_detected_for_the_checkpoint_that_stored_it(
    template: tuple[Path, dict[int, Any]], data: st.DataObject
) -> None:
    tmpl, expected = template
    with copy_of(tmpl) as path:
        pack = data.draw(st.sampled_from(_packs(path)))
        size = pack.stat().st_size
        cut = data.draw(st.integers(0, size - 1))
        with Store.open(path) as store:
            lost = {b.owner for b in store.blobs() if b.path == pack and b.offset + b.length > cut}
        with pack.open("r+b") as f:
            f.truncate(cut)
        bad = _assert_never_silent(path, expected)
        assert lost <= bad  # every checkpoint that stored a blob past the cut


@EXAMPLES
@given(data=st.data())
def test_flipped_byte_in_the_sqlite_file_is_detected_or_harmless(
    template: tuple[Path, dict[int, Any]], data: st.DataObject
) -> None:
    tmpl, expected = template
    with copy_of(tmpl) as path:
        db = path / "store.sqlite"
        offset = data.draw(st.integers(0, db.stat().st_size - 1))
        _flip(db, offset, data.draw(st.integers(1, 255)))
        _assert_never_silent(path, expected)


def test_every_blob_flip_is_blamed_on_the_checkpoint_that_needs_it(
    template: tuple[Path, dict[int, Any]],
) -> None:
    tmpl, expected = template
    with Store.open(tmpl) as store:
        blobs = store.blobs()
    for blob in blobs[::3]:
        with copy_of(tmpl) as path:
            _flip(path / "packs" / blob.path.name, blob.offset + blob.length // 2, 0x55)
            bad = _assert_never_silent(path, expected)
            assert blob.owner in bad


def test_corrupt_ancestor_table_is_reported_with_the_loaded_id(
    template: tuple[Path, dict[int, Any]],
) -> None:
    tmpl, expected = template
    with copy_of(tmpl) as path:
        edit_page_table(path, 2, "ds:2", 2)
        store = Store.open(path)
        with pytest.raises(CorruptCheckpoint, match="ancestor 2") as info:
            store.load(4)
        assert info.value.checkpoint_id == 4
        report = store.verify()
        assert sorted(report.corrupt) == [2, 3, 4]
        assert "ancestor 2" in report.corrupt[3]
        store.close()
        assert _assert_never_silent(path, expected) == {2, 3, 4}


def test_tampered_manifest_is_detected(template: tuple[Path, dict[int, Any]]) -> None:
    tmpl, _expected = template
    with copy_of(tmpl) as path:
        con = sqlite3.connect(path / "store.sqlite")
        con.execute("UPDATE manifests SET json='{\"cid\": 5}' WHERE cid=3")
        con.commit()
        con.close()
        store = Store.open(path)
        with pytest.raises(CorruptCheckpoint, match="manifest"):
            store.load(3)
        store.load(4)  # a child restores without its ancestors' manifests
        assert store.verify().corrupt.keys() == {3}
        store.close()


def test_tampered_info_field_is_detected(template: tuple[Path, dict[int, Any]]) -> None:
    tmpl, _expected = template
    with copy_of(tmpl) as path:
        con = sqlite3.connect(path / "store.sqlite")
        con.execute("UPDATE checkpoints SET instructions=instructions+1 WHERE id=1")
        con.commit()
        con.close()
        store = Store.open(path)
        with pytest.raises(CorruptCheckpoint) as info:
            store.load(2)
        assert info.value.checkpoint_id == 2 and "ancestor 1" in info.value.what
        assert sorted(store.verify().corrupt) == [1, 2, 3, 4]
        store.close()


def test_missing_pack_file_is_reported(template: tuple[Path, dict[int, Any]]) -> None:
    tmpl, expected = template
    with copy_of(tmpl) as path:
        with Store.open(path) as store:
            pack = next(b.path for b in store.blobs() if b.owner == 4)
        pack.unlink()
        assert 4 in _assert_never_silent(path, expected)
