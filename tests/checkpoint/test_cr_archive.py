"""`rtcr export` and `rtcr import`: a checkpoint as one file, restorable anywhere, whole."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cr_helpers import (
    assert_continues,
    checkpointed_run,
    every_for,
    reference,
    restored_run,
    rtcr,
    tagged,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtcr.errors import StoreError
from rtcr.store import Store
from rtcr.store.archive import export_checkpoint, import_archive


@pytest.fixture(scope="module")
def archived(example: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Path, Path, int]:
    """(ELF, archive, id it had) of a middle checkpoint of the threads example."""
    elf = example("threads")
    where = tmp_path_factory.mktemp("archive")
    with Store.create(where / "source") as store:
        checkpointed_run(elf, store, every=every_for(reference(elf).instructions))
        middle = store.ids()[len(store.ids()) // 2]
        export_checkpoint(store, middle, where / "cp.rtcr")
    return elf, where / "cp.rtcr", middle


def test_an_imported_checkpoint_continues_like_the_original(
        archived: tuple[Path, Path, int], tmp_path: Path) -> None:
    elf, archive, _ = archived
    with Store.create(tmp_path / "other") as store:
        cid, _info = import_archive(store, archive)
        got, _, log_lines = restored_run(store, cid)
    assert_continues(reference(elf), got, log_lines, "imported checkpoint")


def test_the_import_is_one_full_checkpoint_with_the_source_manifest(
        archived: tuple[Path, Path, int], tmp_path: Path) -> None:
    _, archive, source_id = archived
    with Store.open(archive.parent / "source") as source:
        manifest = source.load(source_id).manifest
    with Store.create(tmp_path / "other") as store:
        cid, info = import_archive(store, archive)
        assert (info.source_id, store.info(cid).parent) == (source_id, None)
        assert store.load(cid).manifest == manifest


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_flipped_byte_is_refused_and_the_store_stays_as_it_was(
        archived: tuple[Path, Path, int], tmp_path_factory: pytest.TempPathFactory,
        data: st.DataObject) -> None:
    _, archive, _ = archived
    raw = bytearray(archive.read_bytes())
    at = data.draw(st.integers(0, len(raw) - 1), label="offset")
    raw[at] ^= data.draw(st.integers(1, 255), label="xor")
    where = tmp_path_factory.mktemp("flip")
    (where / "bad.rtcr").write_bytes(bytes(raw))
    with Store.create(where / "s") as store:
        with pytest.raises(StoreError, match=r"bad\.rtcr"):
            import_archive(store, where / "bad.rtcr")
        assert store.ids() == []


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_truncated_archive_is_refused(archived: tuple[Path, Path, int],
                                        tmp_path_factory: pytest.TempPathFactory,
                                        data: st.DataObject) -> None:
    _, archive, _ = archived
    raw = archive.read_bytes()
    cut = data.draw(st.integers(0, len(raw) - 1), label="length")
    where = tmp_path_factory.mktemp("cut")
    (where / "cut.rtcr").write_bytes(raw[:cut])
    with Store.create(where / "s") as store:
        with pytest.raises(StoreError, match=r"cut\.rtcr"):
            import_archive(store, where / "cut.rtcr")
        assert store.ids() == []


def test_import_of_a_file_that_is_no_archive_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "x.rtcr").write_bytes(b"hello")
    done = rtcr("import", tmp_path / "x.rtcr", tmp_path / "s")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"rtcr: error: {tmp_path / 'x.rtcr'}: not an rtcr checkpoint archive"]


def test_export_into_a_missing_directory_creates_it_and_says_so(
        archived: tuple[Path, Path, int], tmp_path: Path) -> None:
    _, archive, _ = archived
    done = rtcr("export", archive.parent / "source", "-o", tmp_path / "new" / "x.rtcr")
    assert done.returncode == 0, done.stderr
    assert f"rtcr: created directory {tmp_path / 'new'} for -o x.rtcr" in done.stderr
    assert (tmp_path / "new" / "x.rtcr").is_file()


def test_restore_of_an_archive_continues_like_the_original(
        archived: tuple[Path, Path, int]) -> None:
    elf, archive, source_id = archived
    with Store.open(archive.parent / "source") as source:
        printed = source.load(source_id).manifest["component"]["log_lines"]
    ref = reference(elf)
    done = rtcr("restore", archive)
    assert done.returncode == ref.exit_code, done.stderr
    assert done.stdout.splitlines() == tagged(ref, elf.stem)[printed:]


def test_new_checkpoints_of_an_archive_need_a_store(archived: tuple[Path, Path, int]) -> None:
    _, archive, _ = archived
    done = rtcr("restore", archive, "--every", "1M")
    assert done.returncode == 2
    assert "add --into NEW_STORE" in done.stderr


def test_restore_into_a_new_store_continues_there_and_leaves_the_source_as_it_was(
        archived: tuple[Path, Path, int], tmp_path: Path) -> None:
    elf, archive, source_id = archived
    source = archive.parent / "source"
    with Store.open(source) as store:
        before = store.ids()
    done = rtcr("restore", source, "--checkpoint", source_id, "--into", tmp_path / "fork",
                "--every", every_for(reference(elf).instructions))
    assert done.returncode == reference(elf).exit_code, done.stderr
    with Store.open(source) as store:
        assert store.ids() == before
        manifest = store.load(source_id).manifest
    with Store.open(tmp_path / "fork") as fork:
        ids = fork.ids()
        assert len(ids) > 1 and fork.info(ids[0]).parent is None
        assert fork.load(ids[0]).manifest == manifest


def test_restore_by_tag_restores_the_tagged_checkpoint(archived: tuple[Path, Path, int],
                                                       tmp_path: Path) -> None:
    elf, archive, source_id = archived
    source = archive.parent / "source"
    with Store.open(source) as store:
        printed = store.load(source_id).manifest["component"]["log_lines"]
    assert rtcr("tag", source, "middle", source_id).returncode == 0
    done = rtcr("restore", source, "--checkpoint", "middle")
    assert done.stdout.splitlines() == tagged(reference(elf), elf.stem)[printed:]
