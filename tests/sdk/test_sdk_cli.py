"""`rtcr cc` on the command line and the compile_component API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sdk_support import EXAMPLES_DIR, needs_cc

from rtcr.compilers import CompileError, find_compiler
from rtcr.errors import ToolchainError
from rtcr.machine.elf import load_elf
from rtcr.toolchain import compile_component


def rtcr(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rtcr", *args], capture_output=True, text=True, timeout=300, env=env
    )


@needs_cc
def test_cc_success(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "hello.elf"
    proc = rtcr("cc", str(EXAMPLES_DIR / "hello.c"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert load_elf(out).name == "hello"


@pytest.mark.parametrize("suffix", [".cc", ".cpp", ".cxx"])
def test_cc_compiles_a_cxx_source_by_its_suffix(tmp_path: Path, suffix: str) -> None:
    # `if constexpr` and a lambda in a constant: C++ (C++17/20), not C.
    source = tmp_path / f"answer{suffix}"
    source.write_text("#include <rtcr.h>\n"
                      "constexpr auto answer = [] { if constexpr (sizeof(long) == 8) return 42; "
                      "else return 0; };\n"
                      "int main() { rtcr_printf(\"%d\\n\", answer()); return 0; }\n")
    out = tmp_path / "answer.elf"
    proc = rtcr("cc", str(source), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    done = rtcr("run", str(out))
    assert (done.returncode, done.stdout) == (0, "[answer] 42\n")


@needs_cc
def test_cc_options(tmp_path: Path) -> None:
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "answer.h").write_text("#define ANSWER 42\n")
    src = tmp_path / "opt.c"
    src.write_text(
        '#include <rtcr.h>\n#include "answer.h"\nint main(void) { return ANSWER + EXTRA; }\n'
    )
    out = tmp_path / "opt.elf"
    proc = rtcr("cc", str(src), "-o", str(out), "-O", "s", "-I", str(inc), "-D", "EXTRA=1")
    assert proc.returncode == 0, proc.stderr
    load_elf(out)


UNUSED_VARIABLE = "int main(void) { int unused; return 0; }\n"


@needs_cc
def test_cc_passes_a_warning_flag_through_to_the_compiler(tmp_path: Path) -> None:
    src = tmp_path / "warn.c"
    src.write_text(UNUSED_VARIABLE)
    assert rtcr("cc", str(src), "-o", str(tmp_path / "ok.elf")).returncode == 0
    proc = rtcr("cc", "-Wall", "-Werror", str(src), "-o", str(tmp_path / "w.elf"))
    assert proc.returncode == 2
    assert "unused" in proc.stderr and not (tmp_path / "w.elf").exists()


@needs_cc
def test_cc_passes_g_through_and_the_elf_carries_debug_information(tmp_path: Path) -> None:
    src = tmp_path / "g.c"
    src.write_text(UNUSED_VARIABLE)
    plain, debug = tmp_path / "plain.elf", tmp_path / "debug.elf"
    assert rtcr("cc", str(src), "-o", str(plain)).returncode == 0
    assert rtcr("cc", "-g", str(src), "-o", str(debug)).returncode == 0
    assert b".debug_info" not in plain.read_bytes()
    assert b".debug_info" in debug.read_bytes()


@needs_cc
def test_cc_takes_option_values_glued_on_as_a_compiler_does(tmp_path: Path) -> None:
    src = tmp_path / "glued.c"
    src.write_text("int main(void) { return VALUE; }\n")
    out = tmp_path / "glued.elf"
    proc = rtcr("cc", "-O1", "-DVALUE=7", str(src), f"-o{out}")
    assert proc.returncode == 0, proc.stderr
    done = rtcr("run", str(out))
    assert done.returncode == 7, done.stderr


def test_cc_without_an_output_is_a_usage_error(tmp_path: Path) -> None:
    src = tmp_path / "x.c"
    src.write_text(UNUSED_VARIABLE)
    proc = rtcr("cc", str(src))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == "Error: no output given (-o FILE.elf)"


def test_cc_missing_source(tmp_path: Path) -> None:
    proc = rtcr("cc", str(tmp_path / "nope.c"), "-o", str(tmp_path / "x.elf"))
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "not found" in lines[0] and "nope.c" in lines[0]


@needs_cc
def test_cc_compiler_error(tmp_path: Path) -> None:
    src = tmp_path / "broken.c"
    src.write_text("int main(void) { return undefined_thing; }\n")
    proc = rtcr("cc", str(src), "-o", str(tmp_path / "b.elf"))
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "undefined_thing" in proc.stderr  # the compiler's own diagnostics
    assert proc.stderr.strip().splitlines()[-1].startswith("rtcr: error: compiling")
    assert not (tmp_path / "b.elf").exists()


@needs_cc
def test_cc_link_error(tmp_path: Path) -> None:
    src = tmp_path / "nolink.c"
    src.write_text("int missing(void);\nint main(void) { return missing(); }\n")
    with pytest.raises(CompileError) as info:
        compile_component([src], tmp_path / "n.elf")
    assert "missing" in info.value.stderr


def test_cc_needs_output(tmp_path: Path) -> None:
    proc = rtcr("cc", str(EXAMPLES_DIR / "hello.c"))
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr


def test_bad_compiler_named(tmp_path: Path) -> None:
    with pytest.raises(ToolchainError, match="not found"):
        compile_component(
            [EXAMPLES_DIR / "hello.c"], tmp_path / "h.elf", compiler="/nonexistent/cc"
        )
    env = dict(os.environ, RTCR_CC="/nonexistent/cc")
    proc = rtcr("cc", str(EXAMPLES_DIR / "hello.c"), "-o", str(tmp_path / "h.elf"), env=env)
    assert proc.returncode != 0 and "not found" in proc.stderr


def test_a_cxx_compiler_not_installed_is_named_with_what_to_do(tmp_path: Path) -> None:
    source = tmp_path / "c.cc"
    source.write_text("int main() { return 0; }\n")
    proc = rtcr("cc", "--cxx", "clang++-0", str(source), "-o", str(tmp_path / "c.elf"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("rtcr: error: compiler not found: 'clang++-0' "
                                   "(not on PATH: install it (`apt-get install clang` brings "
                                   "clang and clang++), or name another with --cc/--cxx or "
                                   "$RTCR_CC/$RTCR_CXX, or none for the default (cc, g++))")


def test_no_compiler_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RTCR_CC", raising=False)
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(ToolchainError, match=r"apt-get install gcc.*ziglang"):
        find_compiler()


def test_bad_opt_level(tmp_path: Path) -> None:
    with pytest.raises(ToolchainError, match="optimisation"):
        compile_component([EXAMPLES_DIR / "hello.c"], tmp_path / "h.elf", opt="-O9")


@needs_cc
def test_compile_component_api(tmp_path: Path) -> None:
    out = compile_component(
        [EXAMPLES_DIR / "hello.c"], tmp_path / "h.elf", opt="-O0", extra_flags=["-DFOO=1"]
    )
    assert out == tmp_path / "h.elf"
    assert load_elf(out).entry >= 0x400000
