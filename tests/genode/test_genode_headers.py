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

# Facts of Genode HEAD's interface that components depend on without naming them:
# enum values, the field order designated initializers need, member signatures.
INTERFACE_FACTS = r"""
#include <base/env.h>
#include <base/cache.h>
#include <base/output.h>
#include <base/node.h>
#include <region_map/region_map.h>
#include <pd_session/pd_session.h>
#include <util/string.h>

using namespace Genode;

template <typename A, typename B> struct Same { static constexpr bool value = false; };
template <typename A> struct Same<A, A> { static constexpr bool value = true; };

static_assert(UNCACHED == 0 && WRITE_COMBINED == 1 && CACHED == 2);

using Type = Region_map::Fault::Type;
static_assert(int(Type::NONE) == 0 && int(Type::READ) == 1 && int(Type::WRITE) == 2
              && int(Type::EXEC) == 3);

using Attach_error = Region_map::Attach_error;
static_assert(int(Attach_error::OUT_OF_RAM) == 0 && int(Attach_error::OUT_OF_CAPS) == 1
              && int(Attach_error::REGION_CONFLICT) == 2
              && int(Attach_error::INVALID_DATASPACE) == 3);

static_assert(int(Alloc_error::OUT_OF_RAM) == 0 && int(Alloc_error::OUT_OF_CAPS) == 1
              && int(Alloc_error::DENIED) == 2);
static_assert(int(Buffer_error::EXCEEDED) == 0);
static_assert(int(Session_error::DENIED) == 0 && int(Session_error::INSUFFICIENT_CAPS) == 4);
static_assert(int(Pd_account::Transfer_result::OK) == 0
              && int(Pd_account::Transfer_result::EXCEEDED) == 1
              && int(Pd_account::Transfer_result::INVALID) == 2);
static_assert(int(Pd_session::Ref_account_result::INVALID_SESSION) == 1);
static_assert(Pd_session::CAP_QUOTA == 13 && Pd_session::RAM_QUOTA == 24*1024*sizeof(long));

/* Designated initializers compile only in declaration order. */
constexpr Region_map::Attr attr { .size = 1, .offset = 2, .use_at = true, .at = 3,
                                  .executable = false, .writeable = true };
constexpr Region_map::Fault fault { .type = Type::READ, .addr = 4 };
constexpr Region_map::Range range { .start = 5, .num_bytes = 6 };
static_assert(attr.at == 3 && fault.addr == 4 && range.num_bytes == 6);
[[maybe_unused]] static Env::Local_rm::Attr const local { .ptr = nullptr, .num_bytes = 0 };
[[maybe_unused]] static Ram::Constrained_allocator::Attr const ram { .cap = { }, .num_bytes = 0 };

static_assert(Same<decltype(&Region_map::attach),
                   Region_map::Attach_result (Region_map::*)(Dataspace_capability,
                                                              Region_map::Attr const &)>::value);
static_assert(Same<Region_map::Attach_result, Attempt<Region_map::Range, Attach_error>>::value);
static_assert(Same<decltype(&Region_map::detach), void (Region_map::*)(addr_t)>::value);
static_assert(Same<decltype(&Region_map::fault), Region_map::Fault (Region_map::*)()>::value);
static_assert(Same<decltype(&Env::rm), Env::Local_rm &(Env::*)()>::value);
static_assert(Same<decltype(&Env::ram), Ram_allocator &(Env::*)()>::value);
static_assert(Same<decltype(&Env::ep), Entrypoint &(Env::*)()>::value);
static_assert(Same<Env::Local_rm::Attachment, Allocation<Local::Constrained_region_map>>::value);
/* Overloaded by the pre-24.08 forms: the cast picks today's, which must exist. */
[[maybe_unused]] constexpr auto local_attach =
	static_cast<Env::Local_rm::Result (Local::Constrained_region_map::*)(
		Capability<Dataspace>, Region_map::Attr const &)>(&Env::Local_rm::attach);
static_assert(Same<decltype(&Ram_allocator::alloc),
                   Ram::Capability (Ram_allocator::*)(size_t, Cache)>::value);
static_assert(Same<decltype(&Ram_allocator::try_alloc),
                   Ram::Constrained_allocator::Result (Ram::Constrained_allocator::*)(
                       size_t, Cache)>::value);
static_assert(Same<Ram_allocator::Alloc_error, Alloc_error>::value);

[[maybe_unused]] static void uses(Byte_range_ptr const &bytes, Node const &node)
{
	Attempt<size_t, Buffer_error> written = bytes.as_output([] (Output &) { });
	unsigned number = node.attribute_value("number", 0u);
	String<16> word = node.attribute_value("word", String<16>());
	Hex_range<addr_t> hex { 0x1000, 10 };
	(void)written; (void)number; (void)word; (void)hex;
}
"""

SDK_HEADERS = sorted(str(p.relative_to(sdk.GENODE_INCLUDE_DIR))
                     for p in sdk.GENODE_INCLUDE_DIR.rglob("*.h"))


def test_the_common_genode_headers_are_all_in_the_sdk() -> None:
    assert sorted(set(COMMON_HEADERS) - set(SDK_HEADERS)) == []


CXX_COMPILERS = [
    "g++",
    pytest.param("clang++", marks=pytest.mark.skipif(shutil.which("clang++") is None,
                                                     reason="clang is not installed")),
]


def _check_syntax(compiler: str, text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "check.cc"
    source.write_text(text)
    cxx = find_cxx_compiler(compiler)
    return subprocess.run([*cxx.command, *CXX_FLAGS, f"-I{sdk.GENODE_INCLUDE_DIR}",
                           f"-I{sdk.INCLUDE_DIR}", "-fsyntax-only", str(source)],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("compiler", CXX_COMPILERS)
@pytest.mark.parametrize("header", SDK_HEADERS)
def test_a_genode_header_compiles_on_its_own(header: str, compiler: str,
                                            tmp_path: Path) -> None:
    done = _check_syntax(compiler, f"#include <{header}>\n", tmp_path)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("compiler", CXX_COMPILERS)
def test_the_sdk_has_genodes_enum_values_field_orders_and_signatures(
        compiler: str, tmp_path: Path) -> None:
    done = _check_syntax(compiler, INTERFACE_FACTS, tmp_path)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("header", COMMON_HEADERS)
def test_a_common_genode_header_is_included_by_a_component_the_tests_run(header: str) -> None:
    sources = [*COMPONENTS.glob("*.cc"), *EXAMPLES.glob("*.cc")]
    including = [p.name for p in sources if f"#include <{header}>" in p.read_text()]
    assert including, f"no test component includes <{header}>"
