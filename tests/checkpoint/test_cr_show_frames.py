"""`rtcr show`: rip and the return addresses on each thread's stack, named from the ELF."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cr_helpers import rtcr
from elftools.elf.elffile import ELFFile


@pytest.fixture(scope="module")
def threads_store(example: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
                  ) -> tuple[Path, Path, int]:
    """threads checkpointed often; the first checkpoint where main waits to join a worker."""
    store = tmp_path_factory.mktemp("frames") / "store"
    elf = example("threads")
    done = rtcr("run", elf, "--store", store, "--every", 20_000)
    assert done.returncode == 0, done.stderr
    for cid in range(1, 100):
        shown = _show(store, cid)
        if "join" in (_main(shown)["waits_for"] or ""):
            return store, elf, cid
    raise AssertionError("no checkpoint has main waiting for a join")


def _show(store: Path, *args: str | int | Path) -> dict[str, Any]:
    done = rtcr("show", store, *args, "--json")
    assert done.returncode == 0, done.stderr
    view: dict[str, Any] = json.loads(done.stdout)
    return view


def _main(view: dict[str, Any]) -> dict[str, Any]:
    return next(t for t in view["threads"] if t["name"] == "main")


def _function(symbol: str | None) -> str | None:
    return None if symbol is None else symbol.partition("+")[0]


def _live(frames: list[dict[str, Any]]) -> list[str | None]:
    return [_function(f["symbol"]) for f in frames if not f["stale"]]


def test_rip_and_the_callers_on_the_stack_are_named_from_the_elf(
        threads_store: tuple[Path, Path, int]) -> None:
    store, elf, cid = threads_store
    main = _main(_show(store, cid, "--elf", elf))
    assert _function(main["rip_symbol"]) == "rtcr_thread_join"
    assert _live(main["frames"]) == ["main", "_start"]


def test_a_return_address_left_by_a_call_that_returned_is_marked_stale(
        threads_store: tuple[Path, Path, int]) -> None:
    # _start calls _rtcr_init, then main: the return address of the first call stays in
    # _start's frame, and its call leads to _rtcr_init, not to the function above it.
    store, elf, cid = threads_store
    stale = [f for f in _main(_show(store, cid, "--elf", elf))["frames"] if f["stale"]]
    assert [_function(f["symbol"]) for f in stale] == ["_start"]


def test_each_return_address_lies_inside_the_function_it_is_named_after(
        threads_store: tuple[Path, Path, int]) -> None:
    store, elf, cid = threads_store
    with elf.open("rb") as stream:
        functions = {s.name: (s["st_value"], s["st_size"])
                     for s in ELFFile(stream).get_section_by_name(".symtab").iter_symbols()
                     if s["st_info"]["type"] == "STT_FUNC"}
    frames = [f for t in _show(store, cid, "--elf", elf)["threads"] for f in t["frames"]]
    assert frames
    for frame in frames:
        name, _, offset = frame["symbol"].partition("+")
        start, size = functions[name]
        assert frame["address"] == start + int(offset, 16) and int(offset, 16) < size


def test_without_elf_the_names_come_from_the_elf_the_checkpoint_records(
        threads_store: tuple[Path, Path, int]) -> None:
    store, elf, cid = threads_store
    shown = _show(store, cid)
    assert shown["symbols_from"] == str(elf.resolve())
    assert _main(shown)["frames"] == _main(_show(store, cid, "--elf", elf))["frames"]


@pytest.fixture
def rebuilt(example: Callable[[str], Path], tmp_path: Path) -> tuple[Path, Path, int]:
    """A threads store whose ELF changed after the run (as a rebuild changes it)."""
    elf = tmp_path / "threads.elf"
    shutil.copy(example("threads"), elf)
    store = tmp_path / "store"
    assert rtcr("run", elf, "--store", store, "--every", 20_000).returncode == 0
    with elf.open("ab") as grown:
        grown.write(b"rebuilt")
    return store, elf, 2


def test_when_the_recorded_elf_changed_the_same_addresses_are_listed_unnamed(
        rebuilt: tuple[Path, Path, int], example: Callable[[str], Path]) -> None:
    store, _elf, cid = rebuilt
    unnamed = _show(store, cid)
    named = _show(store, cid, "--elf", example("threads"))
    assert (unnamed["symbols_from"], named["symbols_from"]) == (None, str(example("threads")))
    assert [f["address"] for t in unnamed["threads"] for f in t["frames"]] == \
        [f["address"] for t in named["threads"] for f in t["frames"]]
    assert all(t["rip_symbol"] is None and all(f["symbol"] is None for f in t["frames"])
               for t in unnamed["threads"])


def test_the_text_gives_rip_and_each_caller_on_a_line(
        threads_store: tuple[Path, Path, int]) -> None:
    store, elf, cid = threads_store
    done = rtcr("show", store, cid, "--elf", elf)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    at = next(k for k, line in enumerate(lines) if line.startswith("  1 main:"))
    assert lines[at + 1].split()[0] == "at" and " rtcr_thread_join+0x" in lines[at + 1]
    assert lines[at + 2].split()[0] == "from" and " main+0x" in lines[at + 2]
    assert any(line.endswith(" (stale? its call goes elsewhere)") for line in lines)


def test_the_text_says_how_to_name_addresses_it_cannot_name(
        rebuilt: tuple[Path, Path, int], example: Callable[[str], Path]) -> None:
    store, _elf, cid = rebuilt
    unnamed = rtcr("show", store, cid).stdout.splitlines()
    named = rtcr("show", store, cid, "--elf", example("threads")).stdout.splitlines()
    hint = ("  (addresses unnamed: the checkpoint's ELF is not there as it was; "
            "--elf PROGRAM.elf names them)")
    assert hint in unnamed and hint not in named


def test_an_elf_that_is_not_there_is_refused_with_one_line(
        threads_store: tuple[Path, Path, int], tmp_path: Path) -> None:
    store, _elf, _cid = threads_store
    done = rtcr("show", store, "--elf", tmp_path / "gone.elf")
    assert done.returncode == 2 and done.stdout == ""
    assert "--elf" in done.stderr and "does not exist" in done.stderr


def test_a_file_that_is_no_elf_is_refused_with_one_line(
        threads_store: tuple[Path, Path, int], tmp_path: Path) -> None:
    store, _elf, _cid = threads_store
    junk = tmp_path / "junk.elf"
    junk.write_text("not an ELF\n")
    done = rtcr("show", store, "--elf", junk)
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"rtcr: error: {junk}: not an ELF file")


def test_a_call_chain_of_known_depth_is_listed_call_by_call(
        component: Callable[[str], Path], tmp_path: Path) -> None:
    elf, store = component("deep"), tmp_path / "store"
    done = rtcr("run", elf, "--store", store, "--every", 500_000)
    assert done.returncode == 0, done.stderr
    main = _main(_show(store, 2, "--elf", elf))
    assert _function(main["rip_symbol"]) == "rtcr_ram_avail"
    # descend(0) called rtcr_ram_avail; descend(1..5) each called the next; main called
    # descend(5); _start called main.
    assert [_function(f["symbol"]) for f in main["frames"]] == [
        "descend", *["descend"] * 5, "main", "_start", "_start"]
    assert _live(main["frames"]) == ["descend", *["descend"] * 5, "main", "_start"]
    assert len({f["address"] for f in main["frames"][1:6]}) == 1  # the same call site
