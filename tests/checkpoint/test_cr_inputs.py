"""The component's inputs: `run X.elf --env K=V --stdin FILE|- -- ARGS`, kept by checkpoints."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from cr_helpers import rtcr
from hypothesis import given
from hypothesis import strategies as st

from rtcr.abi import ARGS_HEADER, ARGS_ROM, STDIN_ROM
from rtcr.checkpoint.inputs import Inputs
from rtcr.store import Store


@pytest.fixture(scope="module")
def inputs_elf(component: Callable[[str], Path]) -> Path:
    return component("inputs")


def run_lines(*args: str | int | Path) -> list[str]:
    done = rtcr("run", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_main_gets_the_name_as_argv0_and_the_arguments_after_the_double_dash(
        inputs_elf: Path) -> None:
    lines = run_lines(inputs_elf, "--", "a", "b c", "", "--store")
    assert lines[:6] == ["[inputs] argc 5", "[inputs] argv[0] 'inputs'", "[inputs] argv[1] 'a'",
                         "[inputs] argv[2] 'b c'", "[inputs] argv[3] ''",
                         "[inputs] argv[4] '--store'"]


def test_env_entries_reach_envp_in_order_and_getenv(inputs_elf: Path) -> None:
    lines = run_lines(inputs_elf, "--env", "MODE=fast", "--env", "EMPTY=", "--env", "A=b=c")
    assert [line for line in lines if "env" in line] == [
        "[inputs] env 'MODE=fast'", "[inputs] env 'EMPTY='", "[inputs] env 'A=b=c'",
        "[inputs] getenv MODE fast"]


def test_without_inputs_argc_is_0_and_the_environment_is_empty(inputs_elf: Path) -> None:
    lines = run_lines(inputs_elf)
    assert lines[:2] == ["[inputs] argc 0", "[inputs] getenv MODE (unset)"]


def test_stdin_of_a_file_is_read_as_a_stream(tmp_path: Path, inputs_elf: Path) -> None:
    (tmp_path / "in.txt").write_bytes(b"abcdefghijklmnop")
    rounds = [line for line in run_lines(inputs_elf, "--stdin", tmp_path / "in.txt")
              if "round" in line]
    assert [r.split("stdin ")[1] for r in rounds] == ["7 'abcdefg'", "7 'hijklmn'", "2 'op'"]


def test_stdin_dash_is_rtcrs_own_stdin(inputs_elf: Path) -> None:
    done = rtcr("run", inputs_elf, "--stdin", "-", input="xyz")
    assert done.returncode == 0, done.stderr
    first_round = next(line for line in done.stdout.splitlines() if "round 0" in line)
    assert first_round.endswith("stdin 3 'xyz'")


def test_stdin_is_also_a_rom_the_component_can_open(compile_c: Callable[[str, str], Path],
                                                    tmp_path: Path) -> None:
    elf = compile_c("stdin_rom", r"""
#include <rtcr.h>
int main(void)
{
	long ds = rtcr_rom_open("stdin");
	const char *text = (const char *)rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, 0);
	rtcr_printf("%s\n", text);
	return 0;
}
""")
    (tmp_path / "in.txt").write_text("a line of text")
    assert run_lines(elf, "--stdin", tmp_path / "in.txt") == ["[stdin_rom] a line of text"]


def test_every_checkpoint_of_a_run_with_inputs_restores_to_the_same_output(
        tmp_path: Path, inputs_elf: Path) -> None:
    (tmp_path / "in.txt").write_bytes(b"abcdefghijklmnop")
    store = tmp_path / "ck"
    original = run_lines(inputs_elf, "--store", store, "--every", 500_000, "--env", "MODE=slow",
                         "--stdin", tmp_path / "in.txt", "--", "first", "last one")
    with Store.open(store) as s:
        logged = {cid: s.load(cid).manifest["component"]["log_lines"] for cid in s.ids()}
    assert len(logged) >= 3
    for cid, lines in logged.items():
        done = rtcr("restore", store, "--checkpoint", cid)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == original[lines:], f"checkpoint {cid}"


def test_show_gives_the_inputs_a_checkpoint_holds(tmp_path: Path, inputs_elf: Path) -> None:
    (tmp_path / "in.txt").write_bytes(b"abcdefghijklmnop")
    store = tmp_path / "ck"
    run_lines(inputs_elf, "--store", store, "--every", 1_000_000, "--env", "MODE=slow",
              "--stdin", tmp_path / "in.txt", "--", "first", "last one")
    done = rtcr("show", store, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["inputs"] == {
        "argv": ["inputs", "first", "last one"], "env": ["MODE=slow"], "stdin_bytes": 16}
    assert "  inputs: argv inputs first 'last one'; env MODE=slow; stdin 16 bytes\n" \
        in rtcr("show", store).stdout


def test_show_says_when_a_component_was_given_no_inputs(tmp_path: Path,
                                                        inputs_elf: Path) -> None:
    store = tmp_path / "ck"
    run_lines(inputs_elf, "--store", store, "--every", 1_000_000)
    assert "  inputs: none (no arguments, environment or stdin)\n" in rtcr("show", store).stdout


def test_a_restore_refuses_new_arguments(tmp_path: Path, inputs_elf: Path) -> None:
    store = tmp_path / "ck"
    run_lines(inputs_elf, "--store", store, "--every", 1_000_000, "--", "old")
    done = rtcr("restore", store, "--", "new")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "Error: a restored component keeps the arguments, environment and stdin it was "
        "started with (they are part of the checkpoint); 'new' cannot change them")


def test_env_without_an_equals_sign_is_refused(inputs_elf: Path) -> None:
    done = rtcr("run", inputs_elf, "--env", "MODE")
    assert done.returncode == 2
    assert "Invalid value for --env: 'MODE' is not K=V" in done.stderr


def test_a_missing_stdin_file_is_refused(tmp_path: Path, inputs_elf: Path) -> None:
    done = rtcr("run", inputs_elf, "--stdin", tmp_path / "absent.txt")
    assert done.returncode == 1
    assert "absent.txt" in done.stderr and "No such file" in done.stderr


def test_a_rom_named_like_an_input_is_refused_when_inputs_are_given(
        tmp_path: Path, inputs_elf: Path) -> None:
    (tmp_path / "f").write_text("x")
    done = rtcr("run", inputs_elf, "--rom", f"args={tmp_path / 'f'}", "--", "a")
    assert done.returncode == 2
    assert done.stderr == ("rtcr: error: ROM 'args' holds the component's inputs: give your "
                           "ROM another name\n")


def test_run_help_explains_the_inputs_with_an_example() -> None:
    text = " ".join(rtcr("run", "--help").stdout.split())
    assert "rtcr run hello.elf --env NAME=Ada --stdin words.txt -- one two" in text
    assert "a restored run sees the same ones and cannot be given others" in text


def _decode(rom: bytes) -> tuple[list[str], list[str], int]:
    """The args ROM as the SDK reads it (the layout rtcr.abi documents)."""
    argc, envc, stdin_size = struct.unpack_from(ARGS_HEADER, rom)
    strings = rom[struct.calcsize(ARGS_HEADER):].split(b"\0")[:argc + envc]
    text = [s.decode() for s in strings]
    return text[:argc], text[argc:], stdin_size


_text = st.text(st.characters(exclude_characters="\0", exclude_categories=["Cs"]),
                max_size=8)


@given(st.lists(_text, max_size=5),
       st.lists(st.tuples(_text.filter(lambda k: k != "" and "=" not in k), _text), max_size=5),
       st.one_of(st.none(), st.binary(max_size=64)))
def test_the_args_rom_holds_name_arguments_environment_and_stdin_size(
        args: list[str], env: list[tuple[str, str]], stdin: bytes | None) -> None:
    roms = Inputs(tuple(args), tuple(env), stdin).roms("comp")
    if not (args or env or stdin is not None):
        assert roms == {}
        return
    assert _decode(roms[ARGS_ROM]) == (["comp", *args], [f"{k}={v}" for k, v in env],
                                       len(stdin or b""))
    assert roms.get(STDIN_ROM) == stdin
