"""The README's first command: `scripts/demo` runs as written and proves what it claims."""

from __future__ import annotations

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
