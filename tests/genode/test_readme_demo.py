"""The README's commands run as written: `scripts/demo`, the walk-through of "Using it",
and the example and commands of "Genode components"; its links and those of docs/ lead
to files a clone has."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_every_link_of_the_readme_and_the_docs_leads_to_a_file_of_the_clone() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    links = {(page, link) for page in pages for link in _LINK.findall(page.read_text())
             if not link.startswith(("http://", "https://", "mailto:", "#"))}
    assert links, "no links found: the pattern is wrong"
    targets = {(page.name, link): (page.parent / link.split("#")[0]).resolve()
               for page, link in links}
    assert {where for where, target in targets.items()
            if not (target.is_relative_to(ROOT) and target.exists())} == set()


def test_the_demo_restores_the_genode_example_and_every_checkpoint_passes(
        tmp_path: Path) -> None:
    done = subprocess.run([str(ROOT / "scripts" / "demo"), str(tmp_path / "demo")], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "the restored run printed exactly what the original printed" in done.stdout
    verdict = done.stdout.splitlines()[-1]
    assert verdict.startswith("PASS sheep_counter:"), verdict
    assert "restored from each of" in verdict


def first_block(section: str, language: str) -> str:
    """The first ``language`` code block of the README's section ``## section``."""
    text = (ROOT / "README.md").read_text()
    body = text[text.index(f"## {section}\n"):]
    start = body.index(f"```{language}\n") + len(f"```{language}\n")
    return body[start:body.index("```", start)]


def commands(section: str) -> list[list[str]]:
    """The commands of the section's first shell block, in order (comments dropped)."""
    return [shlex.split(line, comments=True) for line in first_block(section, "sh").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def walk_through() -> list[list[str]]:
    """The commands of the README's "Using it" block, in order (comments dropped)."""
    return commands("Using it")


def _checkout(tmp_path: Path) -> None:
    """The commands name paths relative to a checkout: give them one to stand in."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")


def test_the_using_it_walk_through_runs_as_written(tmp_path: Path) -> None:
    _checkout(tmp_path)
    steps = walk_through()
    assert len(steps) >= 10, "the walk-through was not found in the README"
    # `rtcr bench --quick` takes minutes; tests/bench runs the bench.
    for argv in (c for c in steps if c[1] != "bench"):
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"{shlex.join(argv)}: {done.stderr[-1500:]}"


def test_the_genode_example_pasted_from_the_readme_runs_with_its_commands(
        tmp_path: Path) -> None:
    _checkout(tmp_path)
    (tmp_path / "sheep.cc").write_text(first_block("Genode components", "cpp"))
    steps = commands("Genode components")
    assert [argv[1] for argv in steps] == ["cc", "run", "restore", "test"]
    for argv in steps:
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"{shlex.join(argv)}: {done.stderr[-1500:]}"
    assert done.stdout.splitlines()[-1].startswith("PASS sheep_counter:"), done.stdout
