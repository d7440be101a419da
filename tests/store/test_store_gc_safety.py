"""gc keeps what it promises: it verifies what it keeps, never deletes the newest good
checkpoint, can say what it would do, and shrinks the metadata database."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_helpers import interrupt_after, rand_page, run_cli, snapshot, write

from rtcr.errors import CorruptCheckpoint
from rtcr.store import Store
from rtcr.store import gc as gc_module
from rtcr.store.backend import StoreBackend


def _chain(path: Path, n: int) -> Store:
    store = Store.create(path)
    parent = None
    for step in range(n):
        pages = {("m", (step * 3 + j) % 64): rand_page((step, j)) for j in range(16)}
        parent = write(store, {"m": 64}, pages, parent=parent, manifest={"step": step})
    return store


def _corrupt_blob_of(store: Store, cid: int) -> None:
    blob = next(b for b in store.blobs() if b.owner == cid)
    data = bytearray(blob.path.read_bytes())
    data[blob.offset + blob.length // 2] ^= 0x5A
    blob.path.write_bytes(bytes(data))


def test_gc_refuses_when_the_newest_checkpoint_is_corrupt(tmp_path: Path) -> None:
    store = _chain(tmp_path / "s", 5)
    _corrupt_blob_of(store, 5)
    with pytest.raises(CorruptCheckpoint, match="newest good checkpoint is 4") as info:
        store.gc(keep=1)
    assert info.value.checkpoint_id == 5
    assert store.ids() == [1, 2, 3, 4, 5]
    assert store.verify().corrupt.keys() == {5}


def test_gc_force_keeps_the_newest_good_checkpoints_and_drops_corrupt_ones(
        tmp_path: Path) -> None:
    store = _chain(tmp_path / "s", 5)
    good = snapshot(store, 4)
    _corrupt_blob_of(store, 5)
    report = store.gc(keep=1, force=True)
    assert store.ids() == [4]
    assert report.corrupt_dropped == [5]
    assert snapshot(store, 4) == good
    assert store.verify().ok


def test_gc_command_refuses_corruption_in_one_line_and_changes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    store = _chain(tmp_path / "s", 4)
    _corrupt_blob_of(store, 4)
    store.close()
    code, _out, err = run_cli(["gc", str(tmp_path / "s"), "--keep", "1"], capsys, monkeypatch)
    assert code != 0
    assert "checkpoint 4" in err and "--force" in err and "Traceback" not in err
    with Store.open(tmp_path / "s") as reopened:
        assert reopened.ids() == [1, 2, 3, 4]


def test_dry_run_reports_what_gc_would_do_and_changes_nothing(tmp_path: Path) -> None:
    store = _chain(tmp_path / "s", 6)
    files = sorted((p.name, p.stat().st_size) for p in (tmp_path / "s" / "packs").iterdir())
    dry = store.gc(keep=2, dry_run=True)
    assert dry.removed == [1, 2, 3, 4] and dry.dry_run
    assert store.ids() == [1, 2, 3, 4, 5, 6]
    assert sorted((p.name, p.stat().st_size)
                  for p in (tmp_path / "s" / "packs").iterdir()) == files
    real = store.gc(keep=2)
    assert (real.removed, real.bytes_freed) == (dry.removed, dry.bytes_freed)


def test_gc_shrinks_the_metadata_database(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    parent = None
    for step in range(40):  # every checkpoint a large table: many database pages
        pages = {("m", i): rand_page((step, i)) for i in range(0, 2048, 2)}
        parent = write(store, {"m": 2048}, pages, parent=parent)
    db = tmp_path / "s" / "store.sqlite"
    store.close()
    store = Store.open(tmp_path / "s")
    before = db.stat().st_size
    report = store.gc(keep=1)
    store.close()
    assert db.stat().st_size < before / 4
    assert report.db_bytes_freed > 0


def test_gc_interrupted_just_after_its_commit_says_what_it_removed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _chain(tmp_path / "s", 5).close()
    interrupt_after(monkeypatch, StoreBackend, "moved")  # called right after gc's COMMIT
    code, out, err = run_cli(["gc", str(tmp_path / "s"), "--keep", "2"], capsys, monkeypatch)
    assert (code, out, err) == (130, "", "rtcr: interrupted after gc committed: removed "
                                "checkpoints 1–3, kept 4–5; the next gc or checkpoint frees "
                                "what is left of their space\n")
    with Store.open(tmp_path / "s") as store:
        assert store.ids() == [4, 5] and store.verify().ok


def test_gc_interrupted_before_its_commit_says_it_changed_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _chain(tmp_path / "s", 5).close()
    interrupt_after(monkeypatch, gc_module, "_choose")  # what to keep is verified
    code, out, err = run_cli(["gc", str(tmp_path / "s"), "--keep", "2"], capsys, monkeypatch)
    assert (code, out, err) == (130, "", "rtcr: interrupted: gc changed nothing\n")
    with Store.open(tmp_path / "s") as store:
        assert store.ids() == [1, 2, 3, 4, 5] and store.verify().ok
