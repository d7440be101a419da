"""Progress of long commands: a bar on a terminal's stderr, nothing in a pipe."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from store_helpers import build_sample

RTCR = [sys.executable, "-m", "rtcr"]


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    build_sample(tmp_path / "s")
    return tmp_path / "s"


def on_a_terminal(*args: str | Path) -> tuple[int, str, str]:
    """Run rtcr with stderr on a pseudo-terminal: (status, stdout, what the terminal got)."""
    master, slave = pty.openpty()
    try:
        done = subprocess.Popen([*RTCR, *map(str, args)], stdout=subprocess.PIPE,
                                stderr=slave, stdin=subprocess.DEVNULL, text=True)
        os.close(slave)
        slave = -1
        terminal = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal's other end closed: the process is done
                break
            if not chunk:
                break
            terminal += chunk
        out = done.stdout.read() if done.stdout else ""
        code = done.wait(timeout=60)
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    return code, out, terminal.decode(errors="replace")


def in_a_pipe(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RTCR, *map(str, args)], capture_output=True, text=True,
                          timeout=60)


def test_verify_draws_a_bar_on_a_terminal_and_prints_the_same_lines(sample: Path) -> None:
    code, out, terminal = on_a_terminal("verify", sample)
    assert code == 0
    assert out.splitlines() == [f"checkpoint {i}: OK" for i in range(1, 5)]
    assert "verifying checkpoint" in terminal


@pytest.mark.parametrize("args, title", [
    (["verify", "{store}"], "verifying"),
    (["export", "{store}", "2", "-o", "{tmp}/two.rtcr"], "exporting checkpoint 2"),
    (["gc", "{store}", "--keep", "2", "--dry-run"], "checking"),
])
def test_long_commands_draw_a_bar_only_on_a_terminal(sample: Path, tmp_path: Path,
                                                     args: list[str], title: str) -> None:
    argv = [a.format(store=sample, tmp=tmp_path) for a in args]
    code, _out, terminal = on_a_terminal(*argv)
    assert code == 0 and title in terminal
    piped = in_a_pipe(*argv)
    assert piped.returncode == 0 and title not in piped.stderr
    assert "\x1b" not in piped.stderr and "\x1b" not in piped.stdout


def test_restore_says_on_a_terminal_what_it_restores_and_prints_the_same_output(
        example: Callable[[str], Path], tmp_path: Path) -> None:
    store = tmp_path / "ck"
    assert in_a_pipe("run", example("counter"), "--store", store, "--every", "4M").returncode == 0
    piped = in_a_pipe("restore", store)
    code, out, terminal = on_a_terminal("restore", store)
    assert (code, out) == (piped.returncode, piped.stdout)
    assert "restoring the newest checkpoint" in terminal
    assert "restoring" not in piped.stderr
