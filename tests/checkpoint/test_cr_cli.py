"""The command line of checkpoint/restore: run, restore, inspect, summaries, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from cr_helpers import ROOT, reference, rtcr, tagged

from rtcr.store import Store

Example = Callable[[str], Path]
CHECKPOINT_FIELDS = {"id", "pause_us", "dirty_pages", "bytes"}


def one_clear_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture(scope="module")
def counter_store(example: Example, tmp_path_factory: pytest.TempPathFactory
                  ) -> tuple[Path, dict[str, Any]]:
    """`rtcr run counter --every 1M` into a store, with its --summary-json."""
    base = tmp_path_factory.mktemp("cli")
    store, summary = base / "store", base / "run.json"
    done = rtcr("run", example("counter"), "--store", store, "--every", "1M",
                "--summary-json", summary)
    assert done.returncode == reference(example("counter")).exit_code, done.stderr
    assert done.stdout.splitlines() == tagged(reference(example("counter")), "counter")
    return store, json.loads(summary.read_text())


def _inspect(store: Path) -> list[dict[str, Any]]:
    done = rtcr("inspect", store, "--json")
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert isinstance(listed, list)
    return listed


def test_inspect_json_lists_id_parent_instructions_pages_bytes(
        counter_store: tuple[Path, dict[str, Any]]) -> None:
    store, _ = counter_store
    listed = _inspect(store)
    assert len(listed) == 8
    for entry in listed:
        assert {"id", "parent", "instructions", "pages", "bytes"} <= entry.keys()
        assert all(isinstance(entry[k], int) for k in ("id", "instructions", "pages", "bytes"))
    assert [e["id"] for e in listed] == list(range(1, 9))
    assert [e["parent"] for e in listed] == [None, *range(1, 8)]
    instructions = [e["instructions"] for e in listed]
    assert instructions == sorted(instructions) and instructions[0] >= 1_000_000
    assert listed[0]["pages"] > max(e["pages"] for e in listed[1:]), "first is full"
    assert all(e["bytes"] >= 0 for e in listed) and listed[0]["bytes"] > 0


def test_run_summary_json_has_exit_code_instructions_faults_checkpoints(
        example: Example, counter_store: tuple[Path, dict[str, Any]]) -> None:
    store, summary = counter_store
    ref = reference(example("counter"))
    assert summary["exit_code"] == ref.exit_code
    assert summary["instructions"] == ref.instructions
    assert set(summary["faults"]) >= {"read", "write", "exec"}
    assert all(isinstance(v, int) and v >= 0 for v in summary["faults"].values())
    assert summary["faults"]["write"] > 0 and summary["faults"]["read"] == 0
    listed = {e["id"]: e for e in _inspect(store)}
    assert [c["id"] for c in summary["checkpoints"]] == list(listed)
    for entry in summary["checkpoints"]:
        assert entry.keys() >= CHECKPOINT_FIELDS
        assert entry["pause_us"] >= 0 and entry["dirty_pages"] >= 0
        assert entry["bytes"] == listed[entry["id"]]["bytes"]


def test_restore_continues_with_the_rest_of_the_output_and_its_summary(
        example: Example, counter_store: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    store, _ = counter_store
    ref = reference(example("counter"))
    summary = tmp_path / "restore.json"
    done = rtcr("restore", store, "--checkpoint", 3, "--summary-json", summary)
    assert done.returncode == ref.exit_code, done.stderr
    log_lines = Store.open(store).load(3).manifest["component"]["log_lines"]
    assert done.stdout.splitlines() == tagged(ref, "counter")[log_lines:]
    data = json.loads(summary.read_text())
    assert data["exit_code"] == ref.exit_code
    assert data["instructions"] == ref.instructions
    assert set(data["faults"]) >= {"read", "write", "exec"}
    assert data["checkpoints"] == []


def test_restore_with_every_adds_checkpoints_to_the_store_and_reports_them(
        example: Example, counter_store: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    import shutil

    store = tmp_path / "store"
    shutil.copytree(counter_store[0], store)
    ref = reference(example("counter"))
    summary = tmp_path / "restore.json"
    done = rtcr("restore", store, "--checkpoint", 2, "--every", "2M", "--summary-json", summary)
    assert done.returncode == ref.exit_code, done.stderr
    data = json.loads(summary.read_text())
    new = [c["id"] for c in data["checkpoints"]]
    assert new and all(c.keys() >= CHECKPOINT_FIELDS for c in data["checkpoints"])
    listed = {e["id"]: e for e in _inspect(store)}
    assert set(new) <= set(listed) and min(new) > 8
    assert listed[new[0]]["parent"] == 2
    # The default checkpoint is the newest one.
    newest = rtcr("restore", store)
    assert newest.returncode == ref.exit_code
    log_lines = Store.open(store).load(max(listed)).manifest["component"]["log_lines"]
    assert newest.stdout.splitlines() == tagged(ref, "counter")[log_lines:]


def test_inspect_plot_writes_a_png(counter_store: tuple[Path, dict[str, Any]],
                                   tmp_path: Path) -> None:
    png = tmp_path / "pages.png"
    done = rtcr("inspect", counter_store[0], "--plot", png)
    assert done.returncode == 0, done.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 200


def test_every_ms_produces_checkpoints_that_restore(example: Example, tmp_path: Path) -> None:
    ref = reference(example("sort"))
    store, summary = tmp_path / "store", tmp_path / "run.json"
    done = rtcr("run", example("sort"), "--store", store, "--every-ms", "25",
                "--summary-json", summary)
    assert done.returncode == ref.exit_code, done.stderr
    checkpoints = json.loads(summary.read_text())["checkpoints"]
    assert len(checkpoints) >= 2
    listed = _inspect(store)
    assert [e["id"] for e in listed] == [c["id"] for c in checkpoints]
    middle = listed[len(listed) // 2]["id"]
    again = rtcr("restore", store, "--checkpoint", middle)
    assert again.returncode == ref.exit_code
    log_lines = Store.open(store).load(middle).manifest["component"]["log_lines"]
    assert again.stdout.splitlines() == tagged(ref, "sort")[log_lines:]


def test_restore_of_an_unknown_checkpoint_is_one_clear_line(
        counter_store: tuple[Path, dict[str, Any]]) -> None:
    done = rtcr("restore", counter_store[0], "--checkpoint", 99)
    assert done.returncode != 0 and done.stdout == ""
    assert "99" in one_clear_line(done.stderr)


def test_restore_of_a_missing_store_is_one_clear_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    done = rtcr("restore", missing)
    assert done.returncode != 0 and done.stdout == ""
    assert str(missing) in one_clear_line(done.stderr)
    assert not missing.exists(), "restore must not create a store"


@pytest.mark.parametrize("kind", ["empty-dir", "dir-with-files", "file", "garbage-db"])
def test_restore_of_something_that_is_not_a_store_is_one_clear_line(
        tmp_path: Path, kind: str) -> None:
    target = tmp_path / "thing"
    if kind == "file":
        target.write_text("hello\n")
    else:
        target.mkdir()
        if kind == "dir-with-files":
            (target / "notes.txt").write_text("not a store\n")
        if kind == "garbage-db":
            (target / "store.sqlite").write_bytes(b"this is not a database" * 100)
    done = rtcr("restore", target)
    assert done.returncode != 0 and done.stdout == ""
    assert str(target) in one_clear_line(done.stderr)


def test_restore_of_an_empty_store_is_one_clear_line(tmp_path: Path) -> None:
    Store.create(tmp_path / "store").close()
    done = rtcr("restore", tmp_path / "store")
    assert done.returncode != 0 and done.stdout == ""
    one_clear_line(done.stderr)


def test_run_of_a_file_that_is_not_an_elf_is_one_clear_line(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.elf"
    bogus.write_bytes(b"#!/bin/sh\necho hi\n")
    done = rtcr("run", bogus, "--store", tmp_path / "store", "--every", "1k")
    assert done.returncode != 0 and done.stdout == ""
    one_clear_line(done.stderr)


def test_every_without_a_store_is_a_usage_error(example: Example) -> None:
    done = rtcr("run", example("hello"), "--every", "100")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "--store" in done.stderr


# ---------------------------------------------------------------- intervals and warnings


def warnings_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("rtcr: warning: ")]


def test_a_tiny_every_ms_runs_a_time_slice_between_any_two_checkpoints(
        example: Example, tmp_path: Path) -> None:
    ref = reference(example("counter"))
    store, summary = tmp_path / "store", tmp_path / "run.json"
    done = rtcr("run", example("counter"), "--store", store, "--every-ms", "0.001",
                "--summary-json", summary, timeout=300)
    assert done.returncode == ref.exit_code, done.stderr
    assert done.stdout.splitlines() == tagged(ref, "counter")
    at = [c["instructions"] for c in json.loads(summary.read_text())["checkpoints"]]
    assert at and at[0] > 0
    assert all(later > earlier for earlier, later in pairwise(at))


def test_a_tiny_every_ms_warns_with_an_estimate(example: Example, tmp_path: Path) -> None:
    done = rtcr("run", example("counter"), "--store", tmp_path / "s", "--every-ms", "0.001")
    (warning,) = warnings_of(done.stderr)
    assert "--every-ms 0.001" in warning and "time slice" in warning
    assert "per million instructions" in warning and "an estimate" in warning


def test_every_1_warns_with_the_expected_checkpoints_and_store_size(
        example: Example, tmp_path: Path) -> None:
    done = rtcr("run", example("counter"), "--store", tmp_path / "s", "--every", "1",
                "--max-instructions", "2k")
    assert done.returncode == 124, done.stderr
    (warning,) = warnings_of(done.stderr)
    assert "--every 1 " in warning
    assert "up to 2,000 checkpoints in --max-instructions 2,000" in warning
    assert "KiB of state" in warning and "an estimate" in warning


def test_the_max_instructions_stop_counts_instructions_as_every_other_line(
        example: Example) -> None:
    done = rtcr("run", example("counter"), "--max-instructions", "12k")
    assert done.returncode == 124
    assert one_clear_line(done.stderr).startswith("rtcr: limit: stopped after 12,0")


def test_a_reasonable_interval_gives_no_warning(counter_store: tuple[Path, dict[str, Any]],
                                                example: Example, tmp_path: Path) -> None:
    done = rtcr("run", example("counter"), "--store", tmp_path / "s", "--every", "1M")
    assert done.returncode == 0 and warnings_of(done.stderr) == []


@pytest.mark.parametrize(("args", "says"), [
    pytest.param(["--store", "{tmp}/s"], "--store without --every, --every-ms or "
                                          "--checkpoint-on-exit: checkpoints only on SIGUSR1",
                 id="store-without-every"),
    pytest.param(["--concurrent"], "--concurrent does nothing: no checkpoints without --store",
                 id="concurrent-without-store"),
    pytest.param(["--granularity", "4"], "--granularity does nothing: no checkpoints without "
                                         "--store", id="granularity-without-store"),
    pytest.param(["--store", "{tmp}/s", "--every", "1M", "--strategy", "full",
                  "--granularity", "4"], "--granularity does nothing with --strategy full",
                 id="granularity-with-full"),
    pytest.param(["--store", "{tmp}/s", "--every", "1G"], "the run ended after 8,0",
                 id="interval-longer-than-the-run"),
])
def test_an_option_that_does_nothing_says_so(example: Example, tmp_path: Path,
                                             args: list[str], says: str) -> None:
    done = rtcr("run", example("counter"), *[a.format(tmp=tmp_path) for a in args])
    assert done.returncode == 0, done.stderr
    (warning,) = warnings_of(done.stderr)
    assert says in warning, warning


def test_a_restore_ending_before_its_first_checkpoint_counts_what_it_ran_after_the_checkpoint(
        counter_store: tuple[Path, dict[str, Any]], example: Example, tmp_path: Path) -> None:
    newest = _inspect(counter_store[0])[-1]["instructions"]
    end = reference(example("counter")).instructions
    done = rtcr("restore", counter_store[0], "--into", tmp_path / "fork", "--every", "1G")
    assert done.returncode == 0, done.stderr
    (warning,) = warnings_of(done.stderr)
    assert (f"the run ended {end - newest:,} instructions after the checkpoint it restored "
            f"(at instruction {newest:,}), before its first checkpoint (--every "
            f"1,000,000,000 is longer than the run)") in warning


def test_restore_with_granularity_and_strategy_full_says_granularity_does_nothing(
        counter_store: tuple[Path, dict[str, Any]]) -> None:
    done = rtcr("restore", counter_store[0], "--strategy", "full", "--granularity", "4")
    (warning,) = warnings_of(done.stderr)
    assert "--granularity does nothing with --strategy full" in warning


# ---------------------------------------------------------------- output files


def test_summary_json_into_a_missing_directory_fails_before_the_run(
        example: Example, tmp_path: Path) -> None:
    done = rtcr("run", example("counter"), "--store", tmp_path / "s", "--every", "1M",
                "--summary-json", tmp_path / "missing" / "run.json")
    assert done.returncode == 2
    assert done.stdout == "", "the component ran"
    assert not (tmp_path / "s").exists(), "a store was created"
    assert "does not exist" in one_clear_line(
        "\n".join(line for line in done.stderr.splitlines()
                  if not line.startswith(("Usage:", "Try '")) and line.strip()))


def test_summary_json_where_the_file_system_refuses_files_fails_before_the_run(
        example: Example) -> None:
    done = rtcr("run", example("counter"), "--summary-json", "/proc/rtcr-summary.json")
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert "/proc/rtcr-summary.json: not writable" in done.stderr


def test_plot_into_a_missing_directory_creates_it_and_says_so(
        counter_store: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    png = tmp_path / "new" / "pages.png"
    done = rtcr("inspect", counter_store[0], "--json", "--plot", png)
    assert done.returncode == 0, done.stderr
    assert f"rtcr: created directory {png.parent} for --plot pages.png" in done.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cc_into_a_missing_directory_creates_it_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "build" / "hello.elf"
    done = rtcr("cc", ROOT / "examples" / "hello.c", "-o", out)
    assert done.returncode == 0, done.stderr
    assert f"rtcr: created directory {out.parent} for -o hello.elf" in done.stderr
    assert out.is_file()
