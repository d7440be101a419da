"""Shared fixtures: examples compiled once per test session, log capture."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rtcr.toolchain import compile_component

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("elf")


@pytest.fixture(scope="session")
def compile_c(build_dir: Path) -> Callable[[str, str], Path]:
    """Compile C source text (a test's own component) into an ELF, once per name."""
    built: dict[str, Path] = {}

    def build(name: str, source: str) -> Path:
        if name not in built:
            src = build_dir / f"{name}.c"
            src.write_text(source)
            built[name] = compile_component([src], build_dir / f"{name}.elf")
        return built[name]

    return build


@pytest.fixture(scope="session")
def example(build_dir: Path) -> Callable[[str], Path]:
    """The ELF of a bundled example, compiled on first use."""
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            built[name] = compile_component([EXAMPLES / f"{name}.c"], build_dir / f"{name}.elf")
        return built[name]

    return get


class LogCapture:
    """A log sink that keeps lines instead of printing them."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, component: object, line: str) -> None:
        self.lines.append(line)


@pytest.fixture
def log() -> LogCapture:
    return LogCapture()
