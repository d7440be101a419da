"""The Genode API's headers: laid out as Genode's include tree, each usable on its own.

A Genode component includes whichever header it needs first, so every
header must compile alone; the ones Genode components include most (the
list below) must be there and be exercised by a component the tests run.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from genode_support import COMPONENTS, EXAMPLES

from rtcr import sdk
from rtcr.compilers import find_cxx_compiler
from rtcr.toolchain import CXX_FLAGS

COMMON_HEADERS = (
    *(f"base/{name}.h" for name in (
        "component", "env", "log", "output", "stdint", "capability", "signal", "entrypoint",
        "thread", "sleep", "attached_dataspace", "attached_ram_dataspace",
        "attached_rom_dataspace", "ram_allocator", "node")),
    "region_map/region_map.h", "region_map/client.h", "rm_session/connection.h",
    "dataspace/dataspace.h", "dataspace/client.h", "pd_session/pd_session.h",
    "pd_session/connection.h", "rom_session/connection.h", "timer_session/connection.h",
    *(f"util/{name}.h" for name in (
        "string", "attempt", "reconstructible", "noncopyable", "interface")),
)

SDK_HEADERS = sorted(str(p.relative_to(sdk.GENODE_INCLUDE_DIR))
                     for p in sdk.GENODE_INCLUDE_DIR.rglob("*.h"))


def test_the_common_genode_headers_are_all_in_the_sdk() -> None:
    assert sorted(set(COMMON_HEADERS) - set(SDK_HEADERS)) == []


CXX_COMPILERS = [
    "g++",
    pytest.param("clang++", marks=pytest.mark.skipif(shutil.which("clang++") is None,
                                                     reason="clang is not installed")),
]


@pytest.mark.parametrize("compiler", CXX_COMPILERS)
@pytest.mark.parametrize("header", SDK_HEADERS)
def test_a_genode_header_compiles_on_its_own(header: str, compiler: str,
                                            tmp_path: Path) -> None:
    source = tmp_path / "only.cc"
    source.write_text(f"#include <{header}>\n")
    cxx = find_cxx_compiler(compiler)
    done = subprocess.run([*cxx.command, *CXX_FLAGS, f"-I{sdk.GENODE_INCLUDE_DIR}",
                           f"-I{sdk.INCLUDE_DIR}", "-fsyntax-only", str(source)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("header", COMMON_HEADERS)
def test_a_common_genode_header_is_included_by_a_component_the_tests_run(header: str) -> None:
    sources = [*COMPONENTS.glob("*.cc"), *EXAMPLES.glob("*.cc")]
    including = [p.name for p in sources if f"#include <{header}>" in p.read_text()]
    assert including, f"no test component includes <{header}>"
