"""Fixtures of the SDK tests: compiled examples (once per session)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rtcr.toolchain import compile_component

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = ROOT / "examples"
EXPECTED_DIR = EXAMPLES_DIR / "expected"
EXAMPLES = sorted(p.stem for p in EXAMPLES_DIR.glob("*.c"))

HAVE_CC = any(shutil.which(c) for c in ("cc", "gcc", "clang"))
needs_cc = pytest.mark.skipif(not HAVE_CC, reason="no C compiler")


@pytest.fixture(scope="session")
def example_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("examples")


@pytest.fixture(scope="session")
def compiled_example(example_dir: Path):  # type: ignore[no-untyped-def]
    """A function name -> path of the compiled example (compiled on first use)."""
    cache: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in cache:
            cache[name] = compile_component(
                [EXAMPLES_DIR / f"{name}.c"], example_dir / f"{name}.elf"
            )
        return cache[name]

    return get
