"""A checkpoint that cannot be written during `rtcr run`/`rtcr restore`: its own exit
status (74, not the 2 of bad input), or with `--on-store-error continue` a run that goes
on without checkpoints after one loud line. Failures injected with RTCR_STORE_FAULTS."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from cr_helpers import assert_all_restore, reference, rtcr, tagged

from rtcr.checkpoint import EXIT_STORE
from rtcr.store import Store

Example = Callable[[str], Path]
NAME = "counter"
EVERY = "1M"
DISK_FULL_AT_3RD_COMMIT = dict(os.environ, RTCR_STORE_FAULTS="commit:3:28")


def test_a_full_disk_during_run_exits_74_naming_the_newest_committed_checkpoint(
        example: Example, tmp_path: Path) -> None:
    store = tmp_path / "s"
    done = rtcr("run", example(NAME), "--store", store, "--every", EVERY,
                env=DISK_FULL_AT_3RD_COMMIT)
    assert done.returncode == EXIT_STORE
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("rtcr: error: checkpoint 3 was not written: "), line
    assert "disk full" in line
    assert "newest committed checkpoint: 2" in line and "--on-store-error continue" in line
    with Store.open(store) as s:
        assert s.ids() == [1, 2] and s.verify().ok


def test_a_full_disk_during_restore_exits_74(example: Example, tmp_path: Path) -> None:
    store = tmp_path / "s"
    assert rtcr("run", example(NAME), "--store", store, "--every", "4M").returncode == 0
    done = rtcr("restore", store, "--checkpoint", 1, "--every", EVERY,
                env=DISK_FULL_AT_3RD_COMMIT)
    assert done.returncode == EXIT_STORE, done.stderr
    assert "disk full" in done.stderr and "Traceback" not in done.stderr


def test_on_store_error_continue_runs_to_the_end_without_checkpoints_after_one_warning(
        example: Example, tmp_path: Path) -> None:
    ref = reference(example(NAME))
    store, summary = tmp_path / "s", tmp_path / "run.json"
    done = rtcr("run", example(NAME), "--store", store, "--every", EVERY,
                "--on-store-error", "continue", "--summary-json", summary,
                env=DISK_FULL_AT_3RD_COMMIT)
    assert done.returncode == ref.exit_code, done.stderr
    assert done.stdout.splitlines() == tagged(ref, NAME)
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, done.stderr
    assert "checkpoint 3 was not written" in warnings[0]
    assert "WITHOUT checkpoints" in warnings[0]
    assert "newest committed checkpoint: 2" in warnings[0]
    assert [c["id"] for c in json.loads(summary.read_text())["checkpoints"]] == [1, 2]
    with Store.open(store) as s:
        assert s.ids() == [1, 2] and s.verify().ok
        assert_all_restore(s, ref)


def test_a_bad_store_directory_is_still_bad_input(example: Example, tmp_path: Path) -> None:
    """Exit 2 stays what the README says: the command line asked for something impossible."""
    (tmp_path / "file").write_text("not a store\n")
    done = rtcr("run", example(NAME), "--store", tmp_path / "file", "--every", EVERY)
    assert done.returncode == 2
