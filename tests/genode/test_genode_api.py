"""The Genode API on rtcr, exercised by the project's own components.

Each component prints one LOG line per behaviour; each test checks one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from genode_support import Build, Run, run

from rtcr.checkpoint import Outcome
from rtcr.toolchain import compile_component

XML_CONFIG = b"""<config number="12" address="0x7000" flag="yes" word="hello">
 <item name="a" value="1"/>
 <!-- a comment -->
 <item name="b" value="2"><x/></item>
 <other size="4M"/>
</config>
"""

HID_CONFIG = b"""config | number: 12 | address: 0x7000
       flag:   yes
       word:   hello
. a comment
+ item a | value: 1
+ item b
  value: 2
  + x
x disabled | value: 3
+ other | size: 4M
-
"""


@pytest.fixture(scope="module")
def runs(genode_component: Build) -> dict[str, Run]:
    return {
        "text": run(genode_component("api_text")),
        "memory": run(genode_component("api_memory")),
        "seal": run(genode_component("api_seal")),
        "threads": run(genode_component("api_threads")),
        "xml": run(genode_component("api_config"), roms={"config": XML_CONFIG}),
        "hid": run(genode_component("api_config"), roms={"config": HID_CONFIG}),
    }


def _line(runs: dict[str, Run], name: str, prefix: str) -> str:
    found = [line for line in runs[name].lines if line.startswith(prefix)]
    assert len(found) == 1, (prefix, runs[name].lines)
    return found[0]


@pytest.mark.parametrize(("prefix", "expected"), [
    ("numbers:", "numbers: 42 -7 3000000000 1 200"),
    ("hex:", "hex: 0x2a 0000002a 0xffffffff"),
    ("range:", "range: [0000000000001000,0000000000003000) empty: "
               "[0000000000001000,0000000000001000) (empty!)"),
    ("range edges:", "range edges: [f0,ff] [f0,10) (overflow!)"),
    ("pointer:", "pointer: 0xbeef"),
    ("cstring:", "cstring: truncated char: x"),
    ("string:", "string: id 7/0xff"),
    ("double:", "double: 2.500000 float: 0.125"),
    ("as_output:", "as_output: 4 then exceeded"),
    ("exceeded output", "exceeded output keeps the pieces that fit: ab--"),
    ("copy_cstring:", "copy_cstring: abcde strcmp: 1 0"),
    ("attempt ok:", "attempt ok: 5"),
    ("attempt error:", "attempt error: 100 printed: OUT_OF_RAM"),
    ("constructible:", "constructible: 0 alive 0"),
    ("constructed:", "constructed: 3 alive 1"),
    ("reconstructed:", "reconstructed: 5 alive 2"),
    ("destructed:", "destructed: alive 0"),
    ("unconstructed access", "unconstructed access throws Access_unconstructed_obj"),
])
def test_text_output_prints_as_genode_does(runs: dict[str, Run], prefix: str,
                                           expected: str) -> None:
    assert _line(runs, "text", prefix) == expected


def test_warning_and_error_lines_carry_genodes_prefixes(runs: dict[str, Run]) -> None:
    assert "Warning: a warning" in runs["text"].lines
    assert "Error: an error" in runs["text"].lines


def test_an_unexpected_error_is_said_on_the_log_before_it_is_thrown(
        runs: dict[str, Run]) -> None:
    lines = runs["text"].lines
    at = lines.index("unconstructed access throws Access_unconstructed_obj")
    assert lines[at - 1] == "Error: access to an unconstructed object"


def test_a_newline_in_a_message_starts_a_new_log_line(runs: dict[str, Run]) -> None:
    lines = runs["text"].lines
    assert lines[lines.index("two") + 1] == "lines"


def test_parent_exit_ends_the_component_with_its_value(runs: dict[str, Run]) -> None:
    assert (runs["text"].result.outcome, runs["text"].result.exit_code) == (Outcome.EXITED, 0)


@pytest.mark.parametrize(("prefix", "expected"), [
    ("attached ram:", "attached ram: size 5000 ds 8192 last z"),
    ("ram refunded:", "ram refunded: 1"),
    ("attachment:", "attachment: 8192 bytes"),
    ("reattached", "reattached at the same address: 1 second page: 0"),
    ("legacy attach:", "legacy attach: 1234"),
    ("sub attach:", "sub attach: 0x1000 8192"),
    ("beyond the end:", "beyond the end: REGION_CONFLICT"),
    ("managed dataspace:", "managed dataspace: 65536"),
    ("through the nested map:", "through the nested map: 1234"),
    ("too much:", "too much: OUT_OF_RAM"),
    ("alloc throws", "alloc throws Out_of_ram: 1"),
    ("sealed, still readable:", "sealed, still readable: 1234"),
])
def test_memory_api_behaves_as_on_genode(runs: dict[str, Run], prefix: str,
                                         expected: str) -> None:
    assert _line(runs, "memory", prefix) == expected


@pytest.mark.parametrize(("behaviour", "line"), [
    ("an attachment made before the seal keeps writing",
     "attached before the seal, still writeable: 2"),
    ("a later attach asked writeable still reads", "attached after the seal, reads: 2"),
    ("a write through a later attach faults in the map holding the sealed RAM",
     "fault 1: WRITE at 0x4 in the map holding the sealed RAM"),
    ("the sealed RAM is unchanged by the resolved write",
     "the write went to a copy: 3, the sealed RAM holds 0"),
    ("a revoking seal takes the write right of an earlier attachment",
     "fault 2: WRITE at 0x8 in the map holding the sealed RAM"),
    ("the revoked RAM is unchanged by the resolved write",
     "the write went to a copy: 6, the sealed RAM holds 5"),
])
def test_seal_ram_makes_later_attaches_read_only(runs: dict[str, Run], behaviour: str,
                                                line: str) -> None:
    assert line in runs["seal"].lines, behaviour


def test_a_thread_runs_its_entry_and_can_be_joined(runs: dict[str, Run]) -> None:
    assert _line(runs, "threads", "worker runs as") == "worker runs as worker"
    assert _line(runs, "threads", "joined worker:") == "joined worker: 42"


def test_destroying_a_sleeping_thread_kills_it(runs: dict[str, Run]) -> None:
    assert "killed the sleeper" in runs["threads"].lines


def test_thread_myself_of_the_main_thread_is_main(runs: dict[str, Run]) -> None:
    assert "main thread is main" in runs["threads"].lines


def test_msleep_takes_virtual_time(runs: dict[str, Run]) -> None:
    assert "slept 100 ms" in runs["threads"].lines


def test_a_handler_runs_on_its_own_entrypoint(runs: dict[str, Run]) -> None:
    assert "main handler runs on main" in runs["threads"].lines
    assert "side handler runs on side_ep" in runs["threads"].lines


def test_a_periodic_timeout_ticks_every_period(runs: dict[str, Run]) -> None:
    ticks = [line for line in runs["threads"].lines if line.startswith("tick ")]
    times = [int(line.split()[3]) for line in ticks]
    assert [times[1] - times[0], times[2] - times[1]] == [250, 250]


def test_trigger_once_replaces_the_periodic_timeout(runs: dict[str, Run]) -> None:
    ticks = [line for line in runs["threads"].lines if line.startswith("tick ")]
    assert len(ticks) == 4
    assert int(ticks[3].split()[3]) - int(ticks[2].split()[3]) == 10_000


def test_a_fault_handler_on_another_entrypoint_resolves_the_fault(
        runs: dict[str, Run]) -> None:
    assert "fault: WRITE at 0x2008 on side_ep" in runs["threads"].lines  # the exact byte
    assert "after the fault: w" in runs["threads"].lines


SLEEPS_FOREVER = """
#include <base/component.h>
#include <base/log.h>
#include <base/sleep.h>
void Component::construct(Genode::Env &) { Genode::log("asleep"); Genode::sleep_forever(); }
"""


def test_a_component_in_sleep_forever_ends_idle(tmp_path: Path) -> None:
    source = tmp_path / "sleeps.cc"
    source.write_text(SLEEPS_FOREVER)
    done = run(compile_component([source], tmp_path / "sleeps.elf"))
    assert done.lines == ["asleep"]
    assert done.result.outcome is Outcome.IDLE


def test_a_component_waiting_for_signals_ends_idle(runs: dict[str, Run]) -> None:
    assert runs["threads"].result.outcome is Outcome.IDLE
    assert runs["threads"].result.exit_code == 123


@pytest.mark.parametrize("syntax", ["xml", "hid"])
@pytest.mark.parametrize(("prefix", "expected"), [
    ("type:", "type: config"),
    ("number:", "number: 12 hex: 0x7000"),
    ("flag:", "flag: 1 missing: 17 unparsable: 5"),
    ("text:", "text: hello"),
    ("sub nodes:", "sub nodes: 3"),
    ("item a", "item a = 1 children 0"),
    ("item b", "item b = 2 children 1"),
    ("other:", "other: 4M"),
    ("has disabled:", "has disabled: 0"),
])
def test_the_config_rom_reads_the_same_in_both_syntaxes(runs: dict[str, Run], syntax: str,
                                                        prefix: str, expected: str) -> None:
    assert _line(runs, syntax, prefix) == expected


@pytest.mark.parametrize(("option", "config"), [("--config", HID_CONFIG), ("--rom", XML_CONFIG)],
                         ids=["config-hid", "rom-xml"])
def test_rtcr_run_gives_the_config_rom_by_option_or_by_name(
        genode_component: Build, runs: dict[str, Run], tmp_path: Path, option: str,
        config: bytes) -> None:
    path = tmp_path / "config"
    path.write_bytes(config)
    value = str(path) if option == "--config" else f"config={path}"
    done = subprocess.run([sys.executable, "-m", "rtcr", "run", "--ram", "8M", option, value,
                           str(genode_component("api_config"))],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"[api_config] {line}" for line in runs["xml"].lines]


def test_a_missing_rom_throws_rom_connection_failed(runs: dict[str, Run]) -> None:
    assert 'Error: could not open ROM session for "no-such-rom"' in runs["xml"].lines
    assert "missing ROM: Rom_connection_failed" in runs["xml"].lines


def test_elf_of_a_genode_component_has_no_tls(genode_component: Build) -> None:
    from elftools.elf.elffile import ELFFile

    with Path(genode_component("api_text")).open("rb") as f:
        names = {s.name for s in ELFFile(f).iter_sections()}
    assert {".eh_frame_hdr", ".eh_frame", ".gcc_except_table", ".init_array"} <= names
    assert not names & {".tdata", ".tbss"}
