"""`rtcr inspect` on a branched store: --tree, --branch, --tag, what each prints and refuses."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from store_helpers import run_cli, text_page, write

from rtcr.cli.inspect import tree_lines
from rtcr.errors import CorruptCheckpoint, UnknownCheckpoint
from rtcr.store import CheckpointInfo, Store
from rtcr.store.branches import branches

Cap = pytest.CaptureFixture[str]
MP = pytest.MonkeyPatch


@pytest.fixture
def branched(tmp_path: Path) -> Path:
    """1–5 in a line, 6–7 restored from 2, 8 restored from 6, 9 continuing 5; tags on 3 and 7.

    Branch 1: 1–5, 9; branch 2: 6–7 (from 2); branch 3: 8 (from 6).
    """
    path = tmp_path / "b"
    with Store.create(path) as store:
        parents = {1: None, 2: 1, 3: 2, 4: 3, 5: 4, 6: 2, 7: 6, 8: 6, 9: 5}
        for cid, parent in parents.items():
            assert write(store, {"ds:1": 2}, {("ds:1", cid % 2): text_page(cid)},
                         parent=parent, instructions=cid * 1000) == cid
        store.tag("release-1", 3)
        store.tag("release-2", 7)
    return path


def test_tree_prints_each_branch_as_one_line_of_ranges_under_its_fork(
        branched: Path, capsys: Cap, monkeypatch: MP) -> None:
    code, out, err = run_cli(["inspect", str(branched), "--tree"], capsys, monkeypatch)
    assert code == 0, err
    assert out.splitlines() == [
        f"{branched}: 9 checkpoint(s) in 3 branch(es)",
        "branch 1: 1–5, 9 (6 checkpoints, newest at 9,000 instructions)  ← current",
        "└─ branch 2: 6–7 (2 checkpoints, newest at 7,000 instructions), forks from 2",
        "   └─ branch 3: 8 (1 checkpoint, newest at 8,000 instructions), forks from 6",
    ]


def test_tree_json_gives_every_branch_with_its_ranges_fork_and_the_current_one(
        branched: Path, capsys: Cap, monkeypatch: MP) -> None:
    code, out, _err = run_cli(["inspect", str(branched), "--tree", "--json"], capsys, monkeypatch)
    assert code == 0
    assert json.loads(out) == [
        {"branch": 1, "fork": None, "tip": 9, "checkpoints": 6, "ranges": [[1, 5], [9, 9]],
         "current": True},
        {"branch": 2, "fork": 2, "tip": 7, "checkpoints": 2, "ranges": [[6, 7]],
         "current": False},
        {"branch": 3, "fork": 6, "tip": 8, "checkpoints": 1, "ranges": [[8, 8]],
         "current": False},
    ]


def test_branch_lists_the_line_of_a_branch_from_the_first_checkpoint(
        branched: Path, capsys: Cap, monkeypatch: MP) -> None:
    code, out, _err = run_cli(["inspect", str(branched), "--branch", "3", "--json"], capsys,
                              monkeypatch)
    assert code == 0
    assert [(c["id"], c["branch"]) for c in json.loads(out)] == [(1, 1), (2, 1), (6, 2), (8, 3)]


def test_json_names_each_checkpoints_branch_and_tags(branched: Path, capsys: Cap,
                                                     monkeypatch: MP) -> None:
    code, out, _err = run_cli(["inspect", str(branched), "--json"], capsys, monkeypatch)
    assert code == 0
    listed = {c["id"]: (c["branch"], c["tags"]) for c in json.loads(out)}
    assert listed[3] == (1, ["release-1"]) and listed[7] == (2, ["release-2"])
    assert listed[8] == (3, [])


def test_tag_keeps_the_checkpoints_with_a_matching_tag(branched: Path, capsys: Cap,
                                                       monkeypatch: MP) -> None:
    code, out, _err = run_cli(["inspect", str(branched), "--tag", "release-*", "--json"],
                              capsys, monkeypatch)
    assert code == 0
    assert [c["id"] for c in json.loads(out)] == [3, 7]


def test_filters_combine_and_last_applies_to_what_they_leave(branched: Path, capsys: Cap,
                                                             monkeypatch: MP) -> None:
    code, out, _err = run_cli(["inspect", str(branched), "--branch", "1", "--last", "2"],
                              capsys, monkeypatch)
    assert code == 0
    assert f"{branched}: 9 checkpoint(s), the newest 2 of branch 1's line shown" in out
    lines = out.splitlines()
    rows = lines[2:next(k for k, line in enumerate(lines) if line.startswith("pages: "))]
    ids = [row.split()[0] for row in rows]
    assert ids == ["5", "9"]


def test_the_table_has_branch_and_tags_columns_when_the_store_has_them(
        branched: Path, capsys: Cap, monkeypatch: MP) -> None:
    code, out, _err = run_cli(["inspect", str(branched), "--tag", "release-2"], capsys,
                              monkeypatch)
    assert code == 0
    header, row = out.splitlines()[1:3]
    assert header.split()[:3] == ["id", "parent", "branch"] and header.split()[-1] == "tags"
    assert row.split()[:3] == ["7", "6", "2"] and row.split()[-1] == "release-2"


@pytest.mark.parametrize("args, message", [
    (["--branch", "4"], "there is no branch 4: the store has 3"),
    (["--branch", "0"], "--branch"),
    (["--tree", "--last", "2"], "--tree shows every branch"),
    (["--tree", "--branch", "1"], "--tree shows every branch"),
])
def test_inspect_refuses_with_one_line(branched: Path, capsys: Cap, monkeypatch: MP,
                                       args: list[str], message: str) -> None:
    code, out, err = run_cli(["inspect", str(branched), *args], capsys, monkeypatch)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_help_is_plain_text_with_an_example(capsys: Cap, monkeypatch: MP) -> None:
    code, out, _err = run_cli(["inspect", "--help"], capsys, monkeypatch)
    assert code == 0
    assert "rtcr inspect ck --tree" in out and "``" not in out


def _png_height(path: Path) -> int:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[20:24], "big")  # IHDR: width, then height


def test_the_heat_map_of_a_branched_store_draws_its_branches_as_lanes_above(
        branched: Path, tmp_path: Path, capsys: Cap, monkeypatch: MP) -> None:
    one, three = tmp_path / "one.png", tmp_path / "three.png"
    assert run_cli(["inspect", str(branched), "--branch", "2", "--plot", str(one)], capsys,
                   monkeypatch)[0] == 0
    assert run_cli(["inspect", str(branched), "--plot", str(three)], capsys, monkeypatch)[0] == 0
    # One lane per branch, 0.3 in (30 px) each, above the map: none for a single line.
    assert _png_height(three) - _png_height(one) == 3 * 30


def test_a_tag_pattern_nothing_matches_lists_no_checkpoint(branched: Path, capsys: Cap,
                                                           monkeypatch: MP) -> None:
    code, out, _err = run_cli(["inspect", str(branched), "--tag", "nightly-*", "--json"],
                              capsys, monkeypatch)
    assert (code, json.loads(out)) == (0, [])


@given(st.lists(st.integers(0, 40), min_size=1, max_size=40))
def test_the_tree_has_one_line_per_branch_indented_under_the_branch_it_forks_from(
        picks: list[int]) -> None:
    # Checkpoint k + 1 has parent picks[k] % (k + 1): 0 starts a fresh run.
    links = [(k + 1, (p % (k + 1)) or None) for k, p in enumerate(picks)]
    infos = {cid: CheckpointInfo(cid, parent, 0, 0, 0, 0, 0, 0.0, 0.0, "", cid, 0.0)
             for cid, parent in links}
    tree = branches(links)
    lines = tree_lines(tree, infos)
    numbers = [int(line.split("branch ")[1].split(":")[0]) for line in lines]
    assert sorted(numbers) == [b.number for b in tree]
    depth = {n: len(line) - len(line.lstrip("│├└─ ")) for n, line in zip(numbers, lines,
                                                                        strict=True)}
    of = {cid: b.number for b in tree for cid in b.ids}
    for b in tree:
        if b.fork is None:
            assert depth[b.number] == 0
        else:
            assert depth[b.number] == depth[of[b.fork]] + 3
            assert numbers.index(b.number) > numbers.index(of[b.fork])


def test_store_manifest_reads_one_checkpoints_verified_manifest(branched: Path) -> None:
    with Store.open(branched) as store:
        assert store.manifest(8) == store.load(8).manifest
        with pytest.raises(UnknownCheckpoint):
            store.manifest(99)


def test_store_manifest_refuses_a_manifest_that_does_not_match_its_checksum(
        branched: Path) -> None:
    conn = sqlite3.connect(branched / "store.sqlite")
    with conn:
        conn.execute("UPDATE manifests SET json='{\"n\": 2}' WHERE cid=8")
    conn.close()
    with Store.open(branched) as store, pytest.raises(CorruptCheckpoint, match="manifest"):
        store.manifest(8)
