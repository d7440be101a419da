"""Checkpoints on demand: `kill -USR1` takes one now, `--checkpoint-on-exit` takes one
where the run stops, and `--store` needs no `--every` for either."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cr_helpers import ROOT, RTCR, assert_all_restore, committed, reference, rtcr

from rtcr.store import Store

Component = Callable[[str], Path]
SPIN = "spin"  # a few seconds of emulation: long enough to signal it while it runs


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert proc.poll() is None, "the run ended first"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def start(args: list[str | Path]) -> subprocess.Popen[str]:
    """`rtcr ARGS`, once it runs: the component has printed its first line."""
    proc = subprocess.Popen([*RTCR, *map(str, args)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith(f"[{SPIN}] round "), "the run ended first"
    return proc


def test_sigusr1_takes_a_checkpoint_now_each_time(component: Component, tmp_path: Path) -> None:
    elf, store = component(SPIN), tmp_path / "s"
    proc = start(["run", elf, "--store", store])
    proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: len(committed(store)) == 1, proc)
    proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: len(committed(store)) == 2, proc)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == reference(elf).exit_code, err
    assert err.strip().endswith("rtcr: 2 checkpoints, newest 2"), err
    with Store.open(store) as s:
        assert s.info(2).parent == 1
        assert s.info(1).instructions < s.info(2).instructions
        assert_all_restore(s, reference(elf))


def test_sigusr1_during_a_restore_continues_the_chain(component: Component,
                                                      tmp_path: Path) -> None:
    elf, store = component(SPIN), tmp_path / "s"
    done = rtcr("run", elf, "--store", store, "--max-instructions", "100k",
                "--checkpoint-on-exit")
    assert done.returncode == 124, done.stderr
    proc = start(["restore", store])
    proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: len(committed(store)) == 2, proc)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == reference(elf).exit_code, err
    with Store.open(store) as s:
        assert s.info(2).parent == 1
        assert_all_restore(s, reference(elf), [2])


def test_checkpoint_on_exit_checkpoints_where_max_instructions_stopped(
        component: Component, tmp_path: Path) -> None:
    elf, store = component(SPIN), tmp_path / "s"
    done = rtcr("run", elf, "--store", store, "--max-instructions", "300k",
                "--checkpoint-on-exit")
    assert done.returncode == 124, done.stderr
    with Store.open(store) as s:
        assert s.ids() == [1]
        assert s.info(1).instructions >= 300_000
        assert_all_restore(s, reference(elf))


def test_checkpoint_on_exit_checkpoints_where_sigterm_stopped(component: Component,
                                                             tmp_path: Path) -> None:
    elf, store = component(SPIN), tmp_path / "s"
    proc = start(["run", elf, "--store", store, "--checkpoint-on-exit"])
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert err.strip().endswith("newest committed checkpoint: 1"), err
    with Store.open(store) as s:
        assert s.ids() == [1]
        assert_all_restore(s, reference(elf))


def test_checkpoint_on_exit_takes_none_when_the_component_ends_itself(
        example: Component, tmp_path: Path) -> None:
    """A component that exited has nothing left to continue."""
    done = rtcr("run", example("hello"), "--store", tmp_path / "s", "--checkpoint-on-exit")
    assert done.returncode == 0, done.stderr
    assert committed(tmp_path / "s") == []


def test_store_without_an_interval_says_checkpoints_come_on_sigusr1(
        example: Component, tmp_path: Path) -> None:
    done = rtcr("run", example("hello"), "--store", tmp_path / "s")
    assert done.returncode == 0
    assert "checkpoints only on SIGUSR1" in done.stderr


@pytest.mark.parametrize("command", ["run", "restore"])
def test_checkpoint_on_exit_needs_a_store(example: Component, tmp_path: Path,
                                          command: str) -> None:
    if command == "run":
        done = rtcr("run", example("hello"), "--checkpoint-on-exit")
        assert done.returncode == 2 and "--store" in done.stderr
    else:
        done = rtcr("restore", tmp_path / "none", "--checkpoint-on-exit")
        assert done.returncode == 2 and "does not exist" in done.stderr
