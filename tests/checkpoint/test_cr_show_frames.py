"""`rtcr show`: rip and the return addresses on each thread's stack, named from the ELF."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cr_helpers import rtcr
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection


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


def test_rip_and_the_callers_on_the_stack_are_named_from_the_elf(
        threads_store: tuple[Path, Path, int]) -> None:
    store, elf, cid = threads_store
    main = _main(_show(store, cid, "--elf", elf))
    assert _function(main["rip_symbol"]) == "rtcr_thread_join"
    assert [_function(f["symbol"]) for f in main["frames"]] == ["main", "_start"]


def test_each_return_address_lies_inside_the_function_it_is_named_after(
        threads_store: tuple[Path, Path, int]) -> None:
    store, elf, cid = threads_store
    with elf.open("rb") as stream:
        symtab = ELFFile(stream).get_section_by_name(".symtab")
        assert isinstance(symtab, SymbolTableSection)
        functions = {s.name: (s["st_value"], s["st_size"]) for s in symtab.iter_symbols()
                     if s["st_info"]["type"] == "STT_FUNC"}
    frames = [f for t in _show(store, cid, "--elf", elf)["threads"] for f in t["frames"]]
    assert frames
    for frame in frames:
        name, _, offset = frame["symbol"].partition("+")
        start, size = functions[name]
        assert frame["address"] == start + int(offset, 16) and int(offset, 16) < size


def test_without_elf_the_checkpointed_elf_names_the_addresses(
        threads_store: tuple[Path, Path, int]) -> None:
    store, elf, cid = threads_store
    assert _main(_show(store, cid)) == _main(_show(store, cid, "--elf", elf))


@pytest.fixture
def rebuilt(threads_store: tuple[Path, Path, int], tmp_path: Path
            ) -> tuple[Path, dict[str, Any]]:
    """A store of a copy of the ELF, rebuilt since; and main's frames as named before."""
    _store, elf, _cid = threads_store
    copy = tmp_path / "threads.elf"
    copy.write_bytes(elf.read_bytes())
    store = tmp_path / "store"
    done = rtcr("run", copy, "--store", store, "--every", 20_000, "--max-instructions", 60_000)
    assert done.returncode == 0, done.stderr
    named = _main(_show(store, 1))
    copy.write_bytes(elf.read_bytes() + b"rebuilt")
    return store, named


def test_once_the_elf_is_rebuilt_the_addresses_are_listed_unnamed(
        rebuilt: tuple[Path, dict[str, Any]]) -> None:
    store, named = rebuilt
    unnamed = _main(_show(store, 1))
    assert named["rip_symbol"] is not None
    assert unnamed["rip_symbol"] is None and all(f["symbol"] is None for f in unnamed["frames"])
    # Without symbols the scan cannot stop at the entry function: stale frames may follow.
    addresses = [f["address"] for f in named["frames"]]
    assert [f["address"] for f in unnamed["frames"]][:len(addresses)] == addresses


def test_json_names_the_elf_the_symbols_came_from(threads_store: tuple[Path, Path, int]
                                                  ) -> None:
    store, elf, cid = threads_store
    assert _show(store, cid, "--elf", elf)["symbols_from"] == str(elf)


def test_the_text_gives_rip_and_each_caller_on_a_line(
        threads_store: tuple[Path, Path, int]) -> None:
    store, elf, cid = threads_store
    done = rtcr("show", store, cid, "--elf", elf)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    at = next(k for k, line in enumerate(lines) if line.startswith("  1 main:"))
    assert lines[at + 1].split()[0] == "at" and " rtcr_thread_join+0x" in lines[at + 1]
    assert lines[at + 2].split()[0] == "from" and " main+0x" in lines[at + 2]


def test_the_text_without_symbols_says_how_to_name_the_addresses(
        rebuilt: tuple[Path, dict[str, Any]], threads_store: tuple[Path, Path, int]) -> None:
    store, _named = rebuilt
    _store, elf, _cid = threads_store
    unnamed = rtcr("show", store, 1).stdout.splitlines()
    named = rtcr("show", store, 1, "--elf", elf).stdout.splitlines()
    hint = ("  (addresses unnamed: the checkpointed ELF is gone or was rebuilt; "
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
        "descend", *["descend"] * 5, "main", "_start"]
    assert len({f["address"] for f in main["frames"][1:6]}) == 1  # the same call site
    assert not any(f["stale"] for f in main["frames"])


def test_a_return_address_left_by_a_call_that_returned_is_marked_stale(
        component: Callable[[str], Path], tmp_path: Path) -> None:
    elf, store = component("stale"), tmp_path / "store"
    done = rtcr("run", elf, "--store", store, "--every", 500_000)
    assert done.returncode == 0, done.stderr
    main = _main(_show(store, 2))
    # wait_here's return into main is live; setup()'s, left in main's frame, is not.
    assert [(_function(f["symbol"]), f["stale"]) for f in main["frames"]] == [
        ("wait_here", False), ("main", False), ("main", True), ("_start", False)]
    text = rtcr("show", store, 2).stdout
    assert sum(line.endswith(" (stale? its call goes elsewhere)")
               for line in text.splitlines()) == 1
