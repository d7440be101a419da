"""The README's commands run as written: `scripts/demo`, and the walk-through of "Using it"."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_restores_the_genode_example_and_every_checkpoint_passes(
        tmp_path: Path) -> None:
    done = subprocess.run([str(ROOT / "scripts" / "demo"), str(tmp_path / "demo")], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "the restored run printed exactly what the original printed" in done.stdout
    verdict = done.stdout.splitlines()[-1]
    assert verdict.startswith("PASS sheep_counter:"), verdict
    assert "restored from each of" in verdict


def walk_through() -> list[list[str]]:
    """The commands of the README's "Using it" block, in order (comments dropped)."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Using it"):]
    start = section.index("```sh\n") + len("```sh\n")
    block = section[start:section.index("```", start)]
    return [shlex.split(line, comments=True) for line in block.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_the_using_it_walk_through_runs_as_written(tmp_path: Path) -> None:
    # The commands name paths relative to a checkout: give them one to stand in.
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    commands = walk_through()
    assert len(commands) >= 10, "the walk-through was not found in the README"
    # `rtcr bench --quick` takes minutes; tests/bench runs the bench.
    for argv in (c for c in commands if c[1] != "bench"):
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"{shlex.join(argv)}: {done.stderr[-1500:]}"
