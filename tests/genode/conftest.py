"""Fixtures of the Genode tests: the project's own C++ components, compiled once."""

from __future__ import annotations

from pathlib import Path

import pytest
from genode_support import COMPONENTS, EXAMPLES, Build

from rtcr.toolchain import compile_component


@pytest.fixture(scope="session")
def genode_component(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The ELF of tests/genode/components/NAME.cc (or examples/genode/NAME.cc)."""
    out = tmp_path_factory.mktemp("genode")
    built: dict[str, Path] = {}

    def build(name: str) -> Path:
        if name not in built:
            source = COMPONENTS / f"{name}.cc"
            if not source.exists():
                source = EXAMPLES / f"{name}.cc"
            built[name] = compile_component([source], out / f"{name}.elf")
        return built[name]

    return build
