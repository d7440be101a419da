"""Fixtures of the SDK tests: compiled examples (once per session)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sdk_support import EXAMPLES_DIR

from rtcr.toolchain import compile_component


@pytest.fixture(scope="session")
def example_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("examples")


@pytest.fixture(scope="session")
def compiled_example(example_dir: Path) -> Callable[[str], Path]:
    """A function name -> path of the compiled example (compiled on first use)."""
    cache: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in cache:
            cache[name] = compile_component(
                [EXAMPLES_DIR / f"{name}.c"], example_dir / f"{name}.elf"
            )
        return cache[name]

    return get
