"""Stores of rtcr 0.1 (format 1) are refused with a hint, and `rtcr upgrade` converts them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from format1 import PAGE, sample
from store_helpers import run_cli

from rtcr.errors import StoreError
from rtcr.store import Store


def test_a_format_1_store_is_refused_with_the_command_that_converts_it(tmp_path: Path) -> None:
    sample(tmp_path / "old")
    with pytest.raises(StoreError, match=r"format 1 .*rtcr upgrade"):
        Store.open(tmp_path / "old")


def test_upgrade_keeps_ids_parents_manifests_and_every_page(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    expected = sample(tmp_path / "old")
    code, out, err = run_cli(["upgrade", str(tmp_path / "old")], capsys, monkeypatch)
    assert code == 0, err
    assert "converted 3 checkpoint(s)" in out
    assert (tmp_path / "old.format1" / "store.sqlite").exists()
    with Store.open(tmp_path / "old") as store:
        assert store.verify().ok
        assert [(i.id, i.parent, i.instructions) for i in store.checkpoints()] == [
            (1, None, 1000), (2, 1, 2000), (3, 2, 3000)]
        for cid, pages in expected.items():
            cp = store.load(cid)
            assert cp.manifest == {"cid": cid}
            for i in range(9):
                assert cp.page("obj:1", i) == pages.get(("obj:1", i), bytes(PAGE)), (cid, i)


def test_upgrade_leaves_out_a_corrupt_checkpoint_and_its_descendants(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    sample(tmp_path / "old")
    db = sqlite3.connect(tmp_path / "old" / "store.sqlite")
    db.execute("UPDATE manifests SET json='{\"cid\": 99}' WHERE cid=2")
    db.commit()
    db.close()
    code, _out, err = run_cli(["upgrade", str(tmp_path / "old")], capsys, monkeypatch)
    assert code == 0
    assert "checkpoint 2: not converted: manifest does not match" in err
    assert "checkpoint 3: not converted: ancestor 2" in err
    with Store.open(tmp_path / "old") as store:
        assert store.ids() == [1]
