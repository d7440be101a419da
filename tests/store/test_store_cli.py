"""The inspect, gc and verify commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from store_helpers import build_sample, damage_a_blob_of, run_cli

Cap = pytest.CaptureFixture[str]
MP = pytest.MonkeyPatch


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    build_sample(tmp_path / "s")
    return tmp_path / "s"


def test_inspect_prints_a_table(sample: Path, capsys: Cap, monkeypatch: MP) -> None:
    code, out, err = run_cli(["inspect", str(sample)], capsys, monkeypatch)
    assert code == 0, err
    assert "instructions" in out and "4 checkpoint(s)" in out


def test_inspect_json_lists_every_checkpoint(sample: Path, capsys: Cap, monkeypatch: MP) -> None:
    code, out, _err = run_cli(["inspect", str(sample), "--json"], capsys, monkeypatch)
    assert code == 0
    data = json.loads(out)
    assert [d["id"] for d in data] == [1, 2, 3, 4]
    assert [d["parent"] for d in data] == [None, 1, 2, 3]
    for d in data:
        assert {"instructions", "pages", "bytes", "raw_bytes", "dirty_pages", "pause_us",
                "compression_ratio"} <= set(d)


def test_inspect_plot_writes_a_png(sample: Path, tmp_path: Path, capsys: Cap,
                                   monkeypatch: MP) -> None:
    png = tmp_path / "heat.png"
    code, _out, err = run_cli(["inspect", str(sample), "--json", "--plot", str(png)],
                              capsys, monkeypatch)
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_verify_prints_ok_per_checkpoint(sample: Path, capsys: Cap, monkeypatch: MP) -> None:
    code, out, _err = run_cli(["verify", str(sample)], capsys, monkeypatch)
    assert code == 0
    assert out.splitlines() == [f"checkpoint {i}: OK" for i in range(1, 5)]


def test_verify_reports_corruption_and_exits_1(sample: Path, capsys: Cap,
                                               monkeypatch: MP) -> None:
    damage_a_blob_of(sample, 3)
    code, out, err = run_cli(["verify", str(sample)], capsys, monkeypatch)
    assert code == 1
    assert "checkpoint 1: OK" in out
    assert "checkpoint 3: CORRUPT: page" in out
    assert "corrupt checkpoint" in err
    code, out, _err = run_cli(["verify", str(sample), "--checkpoint", "2"], capsys, monkeypatch)
    assert (code, out.strip()) == (0, "checkpoint 2: OK")


def test_gc_command_keeps_newest(sample: Path, capsys: Cap, monkeypatch: MP) -> None:
    code, out, _err = run_cli(["gc", str(sample), "--keep", "2"], capsys, monkeypatch)
    assert code == 0
    assert "removed checkpoints: 1–2" in out
    code, out, _err = run_cli(["inspect", str(sample), "--json"], capsys, monkeypatch)
    assert [d["id"] for d in json.loads(out)] == [3, 4]
    code, out, _err = run_cli(["verify", str(sample)], capsys, monkeypatch)
    assert code == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["inspect", "{missing}"], "does not exist"),
        (["inspect", "{plain}"], "is not an rtcr store"),
        (["verify", "{missing}"], "does not exist"),
        (["verify", "{store}", "--checkpoint", "99"], "no checkpoint 99"),
        (["verify", "{store}", "--checkpoint", "abc"], "abc"),
        (["gc", "{store}", "--keep", "-1"], "-1"),
        (["gc", "{store}", "--keep", "many"], "many"),
        (["gc", "{plain}", "--keep", "1"], "is not an rtcr store"),
    ],
)
def test_bad_input_gives_one_clear_line_and_nonzero_exit(
    sample: Path, tmp_path: Path, capsys: Cap, monkeypatch: MP, args: list[str], message: str
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    paths = {"missing": tmp_path / "nope", "plain": plain, "store": sample}
    code, _out, err = run_cli([a.format(**paths) for a in args], capsys, monkeypatch)
    assert code != 0
    assert message in err
    assert "Traceback" not in err
    assert len([line for line in err.splitlines() if line.strip()]) <= 3  # click usage + line


def test_inspect_last_lists_exactly_the_newest_n(sample: Path, capsys: Cap,
                                                 monkeypatch: MP) -> None:
    code, out, err = run_cli(["inspect", str(sample), "--json", "--last", "2"], capsys,
                             monkeypatch)
    assert code == 0, err
    assert [c["id"] for c in json.loads(out)] == [3, 4]


def test_inspect_last_says_in_its_title_how_many_of_how_many(sample: Path, capsys: Cap,
                                                             monkeypatch: MP) -> None:
    code, out, _err = run_cli(["inspect", str(sample), "--last", "1"], capsys, monkeypatch)
    assert code == 0
    assert f"{sample}: 4 checkpoint(s), the newest 1 shown" in " ".join(out.split())


def test_verify_json_of_a_sound_store_is_ok_with_every_checkpoint(sample: Path, capsys: Cap,
                                                                  monkeypatch: MP) -> None:
    code, out, _err = run_cli(["verify", str(sample), "--json"], capsys, monkeypatch)
    assert (code, json.loads(out)) == (0, {"ok": True, "checked": [1, 2, 3, 4], "corrupt": {},
                                           "store_errors": []})


def test_verify_json_names_the_corrupt_checkpoint_and_exits_1(sample: Path, capsys: Cap,
                                                              monkeypatch: MP) -> None:
    damage_a_blob_of(sample, 3)
    code, out, _err = run_cli(["verify", str(sample), "--json"], capsys, monkeypatch)
    report = json.loads(out)
    assert (code, report["ok"]) == (1, False)
    assert sorted(report["corrupt"]) == ["3"]
    assert report["corrupt"]["3"].startswith("page")
