"""Components built with clang and clang++ (where installed) behave as the gcc builds do.

GCC's support libraries are linked either way (clang finds them through
the installed gcc); what clang adds is its own code generation, and its
stricter reading of the SDK's C++ (the ABI functions' declarations, the
template arguments of member templates).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from genode_support import COMPONENTS, EXAMPLES, Build, assert_every_checkpoint_restores, run

from rtcr.store import Store
from rtcr.toolchain import compile_component

pytestmark = pytest.mark.skipif(not all(shutil.which(c) for c in ("clang", "clang++")),
                                reason="clang is not installed")


def _clang_build(source: Path, out: Path) -> Path:
    return compile_component([source], out, compiler="clang", cxx_compiler="clang++")


def test_the_cxx_runtime_built_with_clang_prints_what_the_gcc_build_prints(
        genode_component: Build, tmp_path: Path) -> None:
    gcc = run(genode_component("cxx_features"))
    clang = run(_clang_build(COMPONENTS / "cxx_features.cc", tmp_path / "cxx.elf"))
    assert sorted(clang.lines) == sorted(gcc.lines)  # the two threads' lines may swap
    assert (clang.result.outcome, clang.result.exit_code) == (
        gcc.result.outcome, gcc.result.exit_code)


def test_the_genode_api_built_with_clang_runs_a_child_as_the_gcc_build_does(
        genode_component: Build, tmp_path: Path) -> None:
    elf = _clang_build(COMPONENTS / "child_exit.cc", tmp_path / "child_exit.elf")
    gcc_elf = genode_component("child_exit")
    gcc = run(gcc_elf, roms={"child_exit": gcc_elf.read_bytes()})
    clang = run(elf, roms={"child_exit": elf.read_bytes()})
    assert clang.lines == gcc.lines


def test_a_genode_component_built_with_clang_restores_from_every_checkpoint(
        tmp_path: Path) -> None:
    elf = _clang_build(EXAMPLES / "sheep_counter.cc", tmp_path / "sheep.elf")
    store = Store.create(tmp_path / "store")
    reference = run(elf, store=store, every=997)
    ids = [c.id for c in reference.result.checkpoints]
    assert reference.lines[-1].startswith("20 sheep. zzZ")
    assert len(ids) >= 10
    assert_every_checkpoint_restores(reference, store, ids)
