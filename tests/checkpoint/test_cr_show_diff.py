"""`rtcr show` and `rtcr diff`: what they print is what the store holds."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cr_helpers import checkpointed_run, reference, restored_run, rtcr

from rtcr.checkpoint.view import ADDRESS_SPACE_OID, compare, describe, object_names
from rtcr.machine.component import LOG_TAIL_LINES
from rtcr.store import CheckpointInfo, Store

PAGE = 4096


@pytest.fixture(scope="module")
def ro_fault_store(example: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
                   ) -> Path:
    """ro_fault checkpointed often: a managed map with read-only pages in a writable window."""
    store = tmp_path_factory.mktemp("show") / "store"
    done = rtcr("run", example("ro_fault"), "--store", store, "--every", 5000)
    assert done.returncode == 0, done.stderr
    return store


def _show(store: Path, *args: str | int) -> dict[str, Any]:
    done = rtcr("show", store, *args, "--json")
    assert done.returncode == 0, done.stderr
    view: dict[str, Any] = json.loads(done.stdout)
    return view


def _diff(store: Path, a: int, b: int) -> dict[str, Any]:
    done = rtcr("diff", store, a, b, "--json")
    assert done.returncode == 0, done.stderr
    diff: dict[str, Any] = json.loads(done.stdout)
    return diff


def test_show_without_an_id_shows_the_newest_checkpoint(ro_fault_store: Path) -> None:
    with Store.open(ro_fault_store) as store:
        newest = store.newest()
    assert _show(ro_fault_store)["checkpoint"]["id"] == newest


def test_show_gives_each_thread_the_registers_stored_for_it(ro_fault_store: Path) -> None:
    with Store.open(ro_fault_store) as store:
        manifest = store.load(3).manifest
    stored = {t["tid"]: t["registers"] for t in manifest["threads"]}
    shown = {t["tid"]: t["registers"] for t in _show(ro_fault_store, 3)["threads"]}
    assert shown == stored


def test_show_prints_each_threads_rip_in_the_text_form(ro_fault_store: Path) -> None:
    text = rtcr("show", ro_fault_store, 3).stdout
    for thread in _show(ro_fault_store, 3)["threads"]:
        assert f"rip={thread['registers']['rip']:#x}" in text


def test_show_names_the_stack_region_after_its_thread(ro_fault_store: Path) -> None:
    view = _show(ro_fault_store, 3)
    main = next(t for t in view["threads"] if t["name"] == "main")
    region = next(r for r in view["address_space"] if r["start"] == main["stack"][0])
    assert (region["end"], region["holds"]) == (main["stack"][1], "stack of main")


def test_show_nests_a_managed_map_under_its_window_with_the_rights_anded(
        ro_fault_store: Path) -> None:
    windows = [r for r in _show(ro_fault_store, 3)["address_space"] if "regions" in r]
    assert len(windows) == 1
    window = windows[0]
    assert window["rights"] == "rw-"
    assert window["regions"], "the window shows the regions of its map"
    assert {r["rights"] for r in window["regions"]} == {"r--"}
    assert all(window["start"] <= r["start"] < r["end"] <= window["end"]
               for r in window["regions"])


def test_show_of_an_unknown_checkpoint_is_one_line_naming_the_store(
        ro_fault_store: Path) -> None:
    done = rtcr("show", ro_fault_store, 9999)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"rtcr: error: no checkpoint 9999 in "
                                                f"{ro_fault_store}"]


def test_diff_counts_exactly_the_pages_whose_content_differs(ro_fault_store: Path) -> None:
    # From the read pass (nothing written) to the end of the write pass.
    with Store.open(ro_fault_store) as store:
        newest = store.newest()
        assert newest is not None
        a, b = store.load(2), store.load(newest)
        expected = {}
        for key in sorted(a.objects().keys() | b.objects().keys()):
            pages_a = dict(a.pages(key)) if key in a.objects() else {}
            pages_b = dict(b.pages(key)) if key in b.objects() else {}
            zero = bytes(PAGE)
            differing = sum(1 for i in pages_a.keys() | pages_b.keys()
                            if pages_a.get(i, zero) != pages_b.get(i, zero))
            if differing:
                expected[key] = differing
    assert expected, "the component wrote something between the two checkpoints"
    assert _diff(ro_fault_store, 2, newest)["pages_changed"] == expected


def test_diff_lists_exactly_the_registers_that_changed(ro_fault_store: Path) -> None:
    with Store.open(ro_fault_store) as store:
        regs_a = {t["tid"]: t["registers"] for t in store.load(2).manifest["threads"]}
        regs_b = {t["tid"]: t["registers"] for t in store.load(3).manifest["threads"]}
    main = next(t for t in _diff(ro_fault_store, 2, 3)["threads"] if t["tid"] == 1)
    assert main["registers"] == {n: [regs_a[1][n], v] for n, v in regs_b[1].items()
                                 if regs_a[1][n] != v}


def test_diff_of_a_checkpoint_with_itself_is_empty(ro_fault_store: Path) -> None:
    diff = _diff(ro_fault_store, 4, 4)
    assert (diff["instructions"], diff["pages_changed"], diff["threads"],
            diff["regions_added"], diff["regions_gone"]) == (0, {}, [], [], [])


def _info(cid: int) -> CheckpointInfo:
    return CheckpointInfo(id=cid, parent=None, instructions=0, pages=0, bytes=0, raw_bytes=0,
                          dirty_pages=0, pause_us=0.0, commit_us=0.0, strategy="ro-attach",
                          created=0, time=0.0)


def _manifest(regions: list[list[Any]], objects: list[dict[str, Any]],
              threads: list[dict[str, Any]]) -> dict[str, Any]:
    """The parts of a stored manifest the view reads."""
    return {
        "machine": {"instructions": 0, "idle_ns": 0},
        "runtime": {"granularity": 1},
        "component": {"name": "c", "ram_quota": 0, "cap_quota": 0, "log_lines": 0},
        "objects": [{"oid": ADDRESS_SPACE_OID, "kind": "rm", "size": 1 << 47,
                     "regions": regions}, *objects],
        "threads": threads,
        "signals": {"pending": [], "waiters": []},
        "faulters": [],
    }


def test_a_region_the_window_does_not_cover_is_not_shown_inside_it() -> None:
    inner = {"oid": 1, "kind": "rm", "size": 4 * PAGE,
             "regions": [[0, PAGE, 0, 2, True, False], [3 * PAGE, PAGE, 0, 2, True, False]]}
    ram = {"oid": 2, "kind": "ram", "size": PAGE, "sealed": False, "freed": False}
    # The window shows pages 2 and 3 of the map (offset 2 pages, 2 pages long).
    view = describe(_manifest([[0x10000, 2 * PAGE, 2 * PAGE, 1, True, False]], [inner, ram],
                              []), _info(1))
    (window,) = view["address_space"]
    assert [(r["start"], r["end"]) for r in window["regions"]] == [(0x10000 + PAGE,
                                                                    0x10000 + 2 * PAGE)]


def test_a_thread_that_appears_between_two_checkpoints_is_added() -> None:
    main = {"tid": 1, "name": "main", "state": "runnable", "blocker": None, "stack": None,
            "instructions": 0, "registers": {"rip": 1}}
    worker = {**main, "tid": 2, "name": "worker"}
    a = describe(_manifest([], [], [main]), _info(1))
    b = describe(_manifest([], [], [main, worker]), _info(2))
    assert compare(a, b, {})["threads"] == [{"tid": 2, "name": "worker", "change": "added"}]


def test_objects_are_named_for_what_they_hold(ro_fault_store: Path) -> None:
    with Store.open(ro_fault_store) as store:
        manifest = store.load(3).manifest
    names = object_names(manifest)
    main = next(t for t in manifest["threads"] if t["name"] == "main")
    stack_oid = next(ds for rm in manifest["objects"] if rm["kind"] == "rm"
                     for start, _s, _o, ds, _w, _x in rm["regions"] if start == main["stack"][0])
    assert names[f"obj:{stack_oid}"] == "stack of main"
    assert sorted(n for n in names.values() if n.endswith(" of ro_fault")) == [
        ".data of ro_fault", ".rodata of ro_fault", ".text of ro_fault"]


def test_other_ram_is_named_by_where_it_is_attached_and_its_size(
        example: Callable[[str], Path], tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert rtcr("run", example("counter"), "--store", store, "--every", 2_000_000).returncode == 0
    with Store.open(store) as opened:
        names = object_names(opened.load(1).manifest)
    # counter.c attaches its page of counters anywhere: at the first free address, 0x10000.
    assert sorted(names.values()) == [".data of counter", ".rodata of counter",
                                      ".text of counter", "RAM 0x10000 (4 KiB)",
                                      "stack of main"]


def test_show_gives_the_log_lines_printed_last_before_the_checkpoint(
        example: Callable[[str], Path], tmp_path: Path) -> None:
    elf = example("counter")
    ref = reference(elf)
    store = tmp_path / "store"
    assert rtcr("run", elf, "--store", store, "--every", 2_000_000).returncode == 0
    with Store.open(store) as opened:
        manifest = opened.load(3).manifest
    printed = manifest["component"]["log_lines"]
    assert printed > 0
    tail = _show(store, 3)["component"]["log_tail"]
    assert tail == list(ref.lines[:printed][-LOG_TAIL_LINES:])


def test_a_restored_run_carries_the_log_tail_on_into_its_checkpoints(
        example: Callable[[str], Path], tmp_path: Path) -> None:
    elf = example("counter")
    ref = reference(elf)
    with Store.create(tmp_path / "s") as store:
        checkpointed_run(elf, store, every=2_000_000)
        first = store.ids()
        restored_run(store, first[1], checkpoint=True, every=2_000_000)
        continued = [c for c in store.ids() if c not in first]
        assert continued
        for cid in continued:
            component = store.load(cid).manifest["component"]
            printed = component["log_lines"]
            assert component["log_tail"] == list(ref.lines[:printed][-LOG_TAIL_LINES:]), cid
