"""`inspect --last` and `verify --json`: the views a script reads of a store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from store_helpers import build_sample, run_cli

from rtcr.store import Store

Cap = pytest.CaptureFixture[str]
MP = pytest.MonkeyPatch


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    build_sample(tmp_path / "s")
    return tmp_path / "s"


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
    assert f"{sample}: 4 checkpoint(s), the newest 1 shown" in out


def test_verify_json_of_a_sound_store_is_ok_with_every_checkpoint(sample: Path, capsys: Cap,
                                                                  monkeypatch: MP) -> None:
    code, out, _err = run_cli(["verify", str(sample), "--json"], capsys, monkeypatch)
    assert (code, json.loads(out)) == (0, {"ok": True, "checked": [1, 2, 3, 4], "corrupt": {},
                                           "store_errors": []})


def test_verify_json_names_the_corrupt_checkpoint_and_exits_1(sample: Path, capsys: Cap,
                                                              monkeypatch: MP) -> None:
    with Store.open(sample) as store:
        blob = next(b for b in store.blobs() if b.owner == 3)
    data = bytearray(blob.path.read_bytes())
    data[blob.offset + blob.length // 2] ^= 0xFF
    blob.path.write_bytes(bytes(data))
    code, out, _err = run_cli(["verify", str(sample), "--json"], capsys, monkeypatch)
    report = json.loads(out)
    assert (code, report["ok"]) == (1, False)
    assert sorted(report["corrupt"]) == ["3"]
    assert report["corrupt"]["3"].startswith("page")
