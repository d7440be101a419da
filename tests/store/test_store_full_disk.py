"""A full disk: checkpoints fail with `StoreFull`, gc still frees space, creation leaves
nothing half-made. On a real, small tmpfs."""

from __future__ import annotations

import shutil
from contextlib import suppress
from pathlib import Path

import pytest
from store_helpers import rand_page, run_cli, tmpfs, write

from rtcr.checkpoint import EXIT_STORE
from rtcr.errors import StoreFull
from rtcr.store import Store
from rtcr.store.format import RESERVE_NAME


def _fill(store: Store) -> list[int]:
    """Checkpoints of fresh random pages until the disk is full."""
    ids: list[int] = []
    parent = None
    for step in range(1000):
        try:
            parent = write(store, {"m": 64}, {("m", i): rand_page((step, i)) for i in range(64)},
                           parent=parent)
        except StoreFull as exc:
            assert f"checkpoint {len(ids) + 1} was not written" in str(exc)
            assert "disk full" in str(exc)
            return ids
        ids.append(parent)
    raise AssertionError("the disk never filled")


def test_a_full_disk_ends_a_checkpoint_with_store_full_and_keeps_the_others(
        tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "2m") as disk:
        store = Store.create(disk / "s")
        ids = _fill(store)
        assert ids and store.ids() == ids
        assert store.verify().ok


def test_gc_on_a_full_disk_frees_space_without_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    with tmpfs(tmp_path / "disk", "2m") as disk:
        store = Store.create(disk / "s")
        ids = _fill(store)
        store.close()
        code, out, err = run_cli(["gc", str(disk / "s"), "--keep", "1"], capsys, monkeypatch)
        assert "Traceback" not in err
        assert code == 0, err
        freed = int(out.split("freed ")[1].split()[0].replace(",", ""))
        assert freed >= (len(ids) - 1) * 64 * 4096 // 2
        with Store.open(disk / "s") as reopened:
            assert reopened.ids() == [ids[-1]]
            assert reopened.verify().ok
            # and the space is really there again: a new checkpoint fits
            write(reopened, {"m": 64}, {("m", 0): rand_page("after gc")}, parent=ids[-1])


def test_creating_a_store_on_a_full_disk_leaves_nothing_and_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    with tmpfs(tmp_path / "disk", "256k") as disk:
        try:
            with open(disk / "ballast", "wb") as f:
                f.write(bytes(256 << 10))
        except OSError:
            pass  # the disk is full now
        with pytest.raises(StoreFull, match=f"^{disk / 's'}: disk full, cannot create store$"):
            Store.create(disk / "s")
        assert sorted(p.name for p in disk.iterdir()) == ["ballast"]
        (disk / "ballast").unlink()
        Store.open_or_create(disk / "s").close()
        assert Store.open(disk / "s").ids() == []


def _one_pack_with_room_for_the_newest(disk: Path) -> int:
    """A store at ``disk``/s whose checkpoints share one pack (as after one run), on a disk
    with room for the newest one's pages but not also for the database's journal; the
    newest checkpoint."""
    store = Store.create(disk / "s")
    parent = None
    for step in range(6):  # large manifests: a database of a few hundred KiB
        parent = write(store, {"m": 64}, {("m", i): rand_page((step, i)) for i in range(64)},
                       parent=parent, manifest={"state": rand_page(step).hex() * 4})
    assert len(list((disk / "s" / "packs").iterdir())) == 1
    store.close()
    with open(disk / "ballast", "wb") as ballast:
        ballast.write(bytes(shutil.disk_usage(disk).free - 64 * 4096 - 65536))
    assert parent is not None
    return parent


def test_gc_compacts_only_when_the_live_pages_and_the_journal_both_fit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    with tmpfs(tmp_path / "disk", "4m") as disk:
        newest = _one_pack_with_room_for_the_newest(disk)
        code, out, err = run_cli(["gc", str(disk / "s"), "--keep", "1"], capsys, monkeypatch)
        assert (code, "Traceback" in err) == (0, False), err
        assert int(out.split("freed ")[1].split()[0].replace(",", "")) >= 4 * 64 * 4096
        with Store.open(disk / "s") as reopened:
            assert reopened.ids() == [newest]
            assert reopened.verify().ok


def test_a_dry_run_on_a_full_disk_counts_what_freeing_in_place_would_free(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    with tmpfs(tmp_path / "disk", "4m") as disk:
        _one_pack_with_room_for_the_newest(disk)
        with Store.open(disk / "s") as store:
            would = store.gc(keep=1, dry_run=True).bytes_freed
            did = store.gc(keep=1).bytes_freed
        assert would >= did >= 4 * 64 * 4096


def _fill_to_the_last_byte(disk: Path) -> None:
    with open(disk / "ballast", "wb", buffering=0) as ballast:
        for size in (1 << 16, 4096, 1):
            with suppress(OSError):
                while True:
                    ballast.write(bytes(size))
    assert shutil.disk_usage(disk).free == 0


def test_a_store_on_a_disk_full_to_the_last_byte_opens_by_spending_its_reserve(
        tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "2m") as disk:
        with Store.create(disk / "s") as store:
            newest = write(store, {"m": 4}, {("m", 0): rand_page("only")})
        _fill_to_the_last_byte(disk)
        with Store.open(disk / "s") as store:
            assert store.ids() == [newest]
            assert store.verify().ok
        assert not (disk / "s" / RESERVE_NAME).exists()


def test_gc_on_a_disk_full_to_the_last_byte_frees_space(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    with tmpfs(tmp_path / "disk", "2m") as disk:
        with Store.create(disk / "s") as store:
            parent = None
            for step in range(4):  # a pack each: the old ones hold nothing live after gc
                parent = write(store, {"m": 16},
                               {("m", i): rand_page((step, i)) for i in range(16)}, parent=parent)
        _fill_to_the_last_byte(disk)
        code, _out, err = run_cli(["gc", str(disk / "s"), "--keep", "1"], capsys, monkeypatch)
        assert (code, "Traceback" in err) == (0, False), err
        assert shutil.disk_usage(disk).free >= 3 * 16 * 4096
        with Store.open(disk / "s") as reopened:
            assert reopened.ids() == [parent]
            assert reopened.verify().ok


def test_a_store_that_cannot_open_on_a_full_disk_says_how_much_room_it_needs(
        tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "2m") as disk:
        Store.create(disk / "s").close()
        (disk / "s" / RESERVE_NAME).unlink()  # spent by an earlier full disk
        _fill_to_the_last_byte(disk)
        with pytest.raises(StoreFull, match=f"{disk / 's'}: disk full: opening the store needs "
                                            "32,768 bytes free"):
            Store.open(disk / "s")


@pytest.mark.parametrize("command", [["inspect"], ["verify"], ["gc", "--keep", "1"]])
def test_a_full_disk_ends_a_command_with_the_store_failure_status_not_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    with tmpfs(tmp_path / "disk", "2m") as disk:
        Store.create(disk / "s").close()
        (disk / "s" / RESERVE_NAME).unlink()
        _fill_to_the_last_byte(disk)
        code, _out, err = run_cli([command[0], str(disk / "s"), *command[1:]], capsys,
                                  monkeypatch)
        assert (code, err.splitlines()) == (EXIT_STORE, [
            f"rtcr: error: {disk / 's'}: disk full: opening the store needs 32,768 bytes free "
            "for SQLite's WAL index (store.sqlite-shm); free that much and try again"])
