"""Fixtures of the checkpoint/restore acceptance tests: workloads compiled once per session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cr_helpers import COMPONENTS, EXAMPLE_NAMES

from rtcr.toolchain import compile_component


@pytest.fixture(scope="session")
def component(build_dir: Path) -> Callable[[str], Path]:
    """The ELF of a test component in tests/checkpoint/components, compiled on first use."""
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            out = build_dir / "checkpoint"
            out.mkdir(exist_ok=True)
            built[name] = compile_component([COMPONENTS / f"{name}.c"], out / f"{name}.elf")
        return built[name]

    return get


@pytest.fixture(scope="session")
def workload(example: Callable[[str], Path],
             component: Callable[[str], Path]) -> Callable[[str], Path]:
    """An example or a test component by name."""

    def get(name: str) -> Path:
        return example(name) if name in EXAMPLE_NAMES else component(name)

    return get
