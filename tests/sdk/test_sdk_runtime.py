"""The SDK's runtime for C and C++ components, on the real machine.

C: constructors before main, exit handlers, abort, the heap, floating
point in rtcr_printf, the sleep limit. C++: what GCC's libsupc++ and
libgcc_eh need (exceptions, RTTI, guards, per-thread exception globals).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from rtcr.abi import Errno
from rtcr.machine import Machine, Status
from rtcr.toolchain import compile_component

ROOT = Path(__file__).resolve().parents[2]
CompileC = Callable[[str, str], Path]

C_RUNTIME = r"""
#include <rtcr.h>
static int ready;
__attribute__((constructor)) static void early(void) { ready = 1; }
static void bye(void) { rtcr_log("atexit handler"); }
int main(void)
{
	rtcr_printf("constructor: %d\n", ready);
	atexit(bye);
	rtcr_printf("f: %f|%.2f|%8.3f|%-8.1f|%+.0f\n", 3.14159, -2.5, 1.0005, 7.25, 2.5);
	rtcr_printf("e: %e|%.3E|%e\n", 12345.678, 0.00042, 0.0);
	rtcr_printf("g: %g|%g|%g|%.3g|%g\n", 100000.0, 1e-5, 0.5, 3.14159, 1e20);
	rtcr_printf("special: %f %f %F\n", 1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0);
	rtcr_printf("unknown: %q\n");
	rtcr_printf("sleep limit: %ld %ld\n", rtcr_sleep_us(RTCR_SLEEP_MAX_US + 1), rtcr_sleep_us(1));
	void *blocks[64];
	for (int i = 0; i < 64; i++) { blocks[i] = malloc(i * 100); memset(blocks[i], i, i * 100); }
	int ok = 1;
	for (int i = 0; i < 64; i++) {
		for (int j = 0; j < i * 100; j++) ok &= ((unsigned char *)blocks[i])[j] == i;
		free(blocks[i]);
	}
	long before = rtcr_ram_avail();
	void *large = malloc(1 << 20);
	long during = rtcr_ram_avail();
	free(large);
	rtcr_printf("heap: %d large returned: %d\n", ok, rtcr_ram_avail() == before && during < before);
	return 3;
}
"""

ABORTS = "#include <rtcr.h>\nint main(void) { abort(); }\n"

# What the unwinder asks: the unwind-table index of a code address, none for a stack address.
FIND_OBJECT = r"""
#include <rtcr.h>
struct dl_find_object
{
	unsigned long long dlfo_flags;
	void *dlfo_map_start, *dlfo_map_end, *dlfo_link_map, *dlfo_eh_frame;
	unsigned long long dlfo_reserved[7];
};
extern "C" int _dl_find_object(void *pc, dl_find_object *result);
int main()
{
	dl_find_object found { };
	int code = _dl_find_object((void *)&main, &found);
	rtcr_printf("code: %d %lx\n", code, (unsigned long)found.dlfo_eh_frame);
	int local = 0;
	rtcr_printf("stack: %d\n", _dl_find_object(&local, &found));
	return 0;
}
"""

# Shape's constructor runs with Shape's virtual table: area() is pure there.
PURE_VIRTUAL_CALL = r"""
#include <rtcr.h>
struct Shape
{
	Shape() { describe(); }
	virtual ~Shape() { }
	void describe() { rtcr_printf("area %d\n", area()); }
	virtual int area() = 0;
};
struct Square : Shape { int area() override { return 4; } };
int main() { Square square; return square.area(); }
"""


def _run(elf: Path) -> tuple[list[str], Machine]:
    lines: list[str] = []
    machine = Machine(32 << 20, log_sink=lambda c, line: lines.append(line))
    machine.load(elf)
    assert machine.run(max_instructions=50_000_000).status is Status.FINISHED
    return lines, machine


@pytest.fixture(scope="module")
def c_runtime(compile_c: CompileC) -> tuple[list[str], Machine]:
    return _run(compile_c("c_runtime", C_RUNTIME))


@pytest.fixture(scope="module")
def cxx_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = ROOT / "tests" / "genode" / "components" / "cxx_features.cc"
    return compile_component([source], tmp_path_factory.mktemp("cxx") / "cxx.elf")


@pytest.fixture(scope="module")
def cxx(cxx_elf: Path) -> tuple[list[str], Machine]:
    return _run(cxx_elf)


def _line(lines: list[str], prefix: str) -> str:
    return next(line for line in lines if line.startswith(prefix))


def test_c_constructors_run_before_main(c_runtime: tuple[list[str], Machine]) -> None:
    assert _line(c_runtime[0], "constructor:") == "constructor: 1"


def test_exit_runs_atexit_handlers_after_main(c_runtime: tuple[list[str], Machine]) -> None:
    lines, machine = c_runtime
    assert lines[-1] == "atexit handler"
    assert machine.components[0].exit_code == 3


@pytest.mark.parametrize(("prefix", "expected"), [
    ("f:", f"f: {3.14159:f}|{-2.5:.2f}|{1.0005:8.3f}|{7.25:<8.1f}|+{2.5:.0f}"),
    ("e:", f"e: {12345.678:e}|{0.00042:.3E}|{0.0:e}"),
    ("g:", f"g: {100000.0:g}|{1e-5:g}|{0.5:g}|{3.14159:.3g}|{1e20:g}"),
    ("special:", "special: inf -inf NAN"),
])
def test_printf_formats_floating_point_as_c_does(c_runtime: tuple[list[str], Machine],
                                                 prefix: str, expected: str) -> None:
    assert _line(c_runtime[0], prefix) == expected


def test_an_unknown_conversion_is_marked(c_runtime: tuple[list[str], Machine]) -> None:
    assert _line(c_runtime[0], "unknown:") == "unknown: %!q"


def test_a_sleep_beyond_the_limit_fails_visibly(c_runtime: tuple[list[str], Machine]) -> None:
    assert _line(c_runtime[0], "sleep limit:") == f"sleep limit: {-Errno.EINVAL} 0"


def test_heap_blocks_keep_their_contents_and_large_ones_return_ram(
        c_runtime: tuple[list[str], Machine]) -> None:
    assert _line(c_runtime[0], "heap:") == "heap: 1 large returned: 1"


def test_abort_says_so_and_exits_134(compile_c: CompileC) -> None:
    lines, machine = _run(compile_c("aborts", ABORTS))
    assert lines == ["abort() called"]
    assert machine.components[0].exit_code == 134


def test_dl_find_object_gives_the_unwinder_the_eh_frame_hdr_of_the_executable(
        tmp_path: Path) -> None:
    from elftools.elf.elffile import ELFFile

    source = tmp_path / "find.cc"
    source.write_text(FIND_OBJECT)
    elf = compile_component([source], tmp_path / "find.elf")
    with elf.open("rb") as f:
        hdr = ELFFile(f).get_section_by_name(".eh_frame_hdr")
        assert hdr is not None and hdr["sh_size"] > 0
        address = hdr["sh_addr"]
    lines, _ = _run(elf)
    assert lines == [f"code: 0 {address:x}", "stack: -1"]


@pytest.mark.skipif(shutil.which("objdump") is None, reason="objdump (binutils) is not installed")
def test_a_cxx_components_only_system_calls_are_the_sdks(cxx_elf: Path) -> None:
    # libsupc++ and libgcc_eh are linked in: none of their code may enter the kernel.
    listing = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(cxx_elf)],
                             capture_output=True, text=True, check=True, timeout=120).stdout
    function, callers = "", set()
    for line in listing.splitlines():
        if line.endswith(">:"):
            function = line[line.index("<") + 1:-2]
        elif line.split("\t")[-1].strip() == "syscall":
            callers.add(function)
    assert callers
    assert {f for f in callers
            if not f.startswith("rtcr_") and f not in ("_start", "_rtcr_thread_trampoline")} \
        == set()


def test_calling_a_pure_virtual_function_says_so_and_aborts(tmp_path: Path) -> None:
    source = tmp_path / "pure.cc"
    source.write_text(PURE_VIRTUAL_CALL)
    lines, machine = _run(compile_component([source], tmp_path / "pure.elf"))
    assert lines == ["pure virtual function called", "abort() called"]
    assert machine.components[0].exit_code == 134


@pytest.mark.parametrize(("prefix", "expected"), [
    ("constructor ran", "constructor ran before main: 42"),
    ("caught through", "caught through 50 frames: 7"),
    ("local static", "local static initialised 1 time(s): 99"),
    ("dynamic_cast", "dynamic_cast: ok, typeid: Derived"),
    ("heap:", "heap: ok, aligned yes"),
    ("caught by type", "caught by type: 1.5"),
])
def test_cxx_features_work(cxx: tuple[list[str], Machine], prefix: str, expected: str) -> None:
    assert _line(cxx[0], prefix) == expected


def test_two_threads_catching_at_once_keep_their_own_exceptions(
        cxx: tuple[list[str], Machine]) -> None:
    lines = [line for line in cxx[0] if "rethrew its own exception" in line]
    assert sorted(lines) == ["thread 1 rethrew its own exception: yes",
                             "thread 2 rethrew its own exception: yes"]


def test_a_thread_entering_a_local_static_being_initialised_waits_for_it(
        cxx: tuple[list[str], Machine]) -> None:
    assert _line(cxx[0], "contended local static:") == (
        "contended local static: initialised 1 time(s), 1 racer(s) waited, both saw 7 7")


def test_static_destructors_run_at_exit(cxx: tuple[list[str], Machine]) -> None:
    assert cxx[0][-1] == "destructor at exit"
