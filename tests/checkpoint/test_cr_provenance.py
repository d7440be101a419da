"""Provenance: what a checkpoint was taken of, and the restores it allows."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cr_helpers import rtcr
from hypothesis import given
from hypothesis import strategies as st

from rtcr import __version__
from rtcr.abi import ABI_VERSION
from rtcr.checkpoint import Session
from rtcr.checkpoint.provenance import Binary, SegmentLayout, layout_difference
from rtcr.machine.cpu import CPU_MODEL_NAME
from rtcr.store import Store
from rtcr.toolchain import compile_component

SOURCE = r"""
#include <rtcr.h>
#ifndef WORD
#define WORD "counted"
#endif
#ifndef PAD
#define PAD 2
#endif
static const char pad[PAD] = {1};
static unsigned long total;

int main(void)
{
	for (unsigned long i = 1; i <= 5; i++) {
		for (int k = 0; k < 100000; k++)
			total = total * 6364136223846793005UL + i;
		rtcr_printf("round %lu\n", i);
	}
	rtcr_printf("%s %lx %d\n", WORD, total, pad[total & 1]);
	return 0;
}
"""


def build(directory: Path, *flags: str, name: str = "greet.elf") -> Path:
    """The test component, compiled with ``flags`` (-DWORD=..., -DPAD=...) into ``name``."""
    directory.mkdir(parents=True, exist_ok=True)
    src = directory / f"src{abs(hash(flags))}.c"
    src.write_text(SOURCE)
    return compile_component([src], directory / name, extra_flags=flags)


REBUILT = ('-DWORD="COUNTED"',)  # same layout, other code: the last line says COUNTED


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The original, a rebuild of the same layout and one of another layout."""
    out = tmp_path_factory.mktemp("builds")
    return {"original": build(out / "original"), "rebuilt": build(out / "rebuilt", *REBUILT),
            "other_layout": build(out / "other", "-DPAD=20000")}


def checkpointed(tmp_path: Path, builds: dict[str, Path]) -> tuple[Path, Path]:
    """(elf, store): the original copied into tmp_path, run with checkpoints."""
    elf = tmp_path / "greet.elf"
    shutil.copy(builds["original"], elf)
    store = tmp_path / "store"
    done = rtcr("run", elf, "--store", store, "--every", 100_000)
    assert done.returncode == 0, done.stderr
    return elf, store


def provenance(store: Path, *ref: str) -> Any:
    done = rtcr("show", store, *ref, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["provenance"]


def test_a_checkpoint_records_the_elf_and_the_rtcr_abi_and_cpu_versions(
        tmp_path: Path, builds: dict[str, Path]) -> None:
    elf, store = checkpointed(tmp_path, builds)
    recorded = provenance(store)
    assert recorded["binary"]["path"] == str(elf.resolve())
    assert recorded["binary"]["sha256"] == hashlib.sha256(elf.read_bytes()).hexdigest()
    assert (recorded["rtcr"], recorded["abi"], recorded["cpu"]) == (
        __version__, ABI_VERSION, CPU_MODEL_NAME)


def test_a_checkpoint_records_the_layout_of_the_elf(tmp_path: Path,
                                                    builds: dict[str, Path]) -> None:
    _elf, store = checkpointed(tmp_path, builds)
    with Store.open(store) as s:
        manifest = s.load(s.ids()[0]).manifest
    layout = provenance(store)["binary"]
    headers = subprocess.run(["readelf", "-lW", str(builds["original"])], capture_output=True,
                             text=True, check=True).stdout
    entry = int(re.search(r"Entry point (0x[0-9a-f]+)", headers).group(1), 16)  # type: ignore[union-attr]
    assert layout["entry"] == entry
    rom_regions = {r[0] for o in manifest["objects"] if o["kind"] == "rm" and o["oid"] == 0
                   for r in o["regions"]}
    assert {v for v, _size, _rights in layout["segments"]} <= rom_regions


def test_a_gnu_build_id_is_recorded_when_the_elf_has_one(tmp_path: Path) -> None:
    elf = build(tmp_path, "-Wl,--build-id=sha1")
    notes = subprocess.run(["readelf", "-n", str(elf)], capture_output=True, text=True,
                           check=True).stdout
    build_id = re.search(r"Build ID: ([0-9a-f]+)", notes).group(1)  # type: ignore[union-attr]
    done = rtcr("run", elf, "--store", tmp_path / "store", "--every", 200_000)
    assert done.returncode == 0, done.stderr
    assert provenance(tmp_path / "store")["binary"]["build_id"] == build_id


def test_show_prints_the_provenance_line(tmp_path: Path, builds: dict[str, Path]) -> None:
    elf, store = checkpointed(tmp_path, builds)
    sha = hashlib.sha256(elf.read_bytes()).hexdigest()
    text = rtcr("show", store).stdout
    assert (f"provenance: {elf.resolve()} sha256 {sha[:12]}…; rtcr {__version__}, "
            f"guest ABI {ABI_VERSION}, CPU {CPU_MODEL_NAME}") in text


def test_inspect_prints_the_provenance_of_the_newest_checkpoint(
        tmp_path: Path, builds: dict[str, Path]) -> None:
    elf, store = checkpointed(tmp_path, builds)
    with Store.open(store) as s:
        newest = s.newest()
    lines = rtcr("inspect", store).stdout.splitlines()
    assert f"checkpoint {newest} provenance: {elf.resolve()} sha256" in "\n".join(lines)


def test_restore_refuses_a_rebuilt_elf_in_one_line_saying_what_differs(
        tmp_path: Path, builds: dict[str, Path]) -> None:
    elf, store = checkpointed(tmp_path, builds)
    old = hashlib.sha256(elf.read_bytes()).hexdigest()
    shutil.copy(builds["rebuilt"], elf)
    new = hashlib.sha256(elf.read_bytes()).hexdigest()
    done = rtcr("restore", store, "--checkpoint", 2)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (f"rtcr: error: checkpoint 2 was taken of greet.elf sha256 "
                           f"{old[:12]}…; {elf.resolve()} now has {new[:12]}… (rebuilt?) — use "
                           "--binary to restore onto a rebuilt binary or --force\n")


def test_force_restores_the_checkpointed_code_of_a_rebuilt_elf_with_a_warning(
        tmp_path: Path, builds: dict[str, Path]) -> None:
    elf, store = checkpointed(tmp_path, builds)
    shutil.copy(builds["rebuilt"], elf)
    done = rtcr("restore", store, "--checkpoint", 2, "--force")
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("rtcr: warning: restoring despite the difference (--force): "
                                  "checkpoint 2 was taken of greet.elf")
    assert done.stdout.splitlines()[-1].startswith("[greet] counted ")


def test_restore_onto_a_rebuilt_binary_runs_its_code_on_the_checkpointed_state(
        tmp_path: Path, builds: dict[str, Path]) -> None:
    _elf, store = checkpointed(tmp_path, builds)
    original = rtcr("restore", store, "--checkpoint", 2).stdout.splitlines()
    done = rtcr("restore", store, "--checkpoint", 2, "--binary", builds["rebuilt"])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:-1] == original[:-1]
    assert lines[-1] == original[-1].replace("counted", "COUNTED")


def test_checkpoints_after_a_restore_onto_a_rebuilt_binary_hold_and_record_it(
        tmp_path: Path, builds: dict[str, Path]) -> None:
    _elf, store = checkpointed(tmp_path, builds)
    done = rtcr("restore", store, "--checkpoint", 2, "--binary", builds["rebuilt"],
                "--every", 100_000)
    assert done.returncode == 0, done.stderr
    with Store.open(store) as s:
        newest = s.newest()
    assert provenance(store, str(newest))["binary"]["sha256"] == hashlib.sha256(
        builds["rebuilt"].read_bytes()).hexdigest()
    again = rtcr("restore", store)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1].startswith("[greet] COUNTED ")


def test_restore_onto_a_binary_of_another_layout_is_refused_with_the_first_difference(
        tmp_path: Path, builds: dict[str, Path]) -> None:
    _elf, store = checkpointed(tmp_path, builds)
    done = rtcr("restore", store, "--checkpoint", 2, "--binary", builds["other_layout"],
                "--force")
    assert done.returncode == 2
    assert re.fullmatch(
        rf"rtcr: error: {re.escape(str(builds['other_layout']))} does not fit checkpoint 2 of "
        r"greet\.elf: its segment \d+ is \[0x[0-9a-f]+, 0x[0-9a-f]+\) r.., the checkpointed "
        r"binary's \[0x[0-9a-f]+, 0x[0-9a-f]+\) r..\n", done.stderr), done.stderr


def test_a_missing_elf_does_not_stop_a_restore(tmp_path: Path,
                                              builds: dict[str, Path]) -> None:
    elf, store = checkpointed(tmp_path, builds)
    elf.unlink()
    done = rtcr("restore", store, "--checkpoint", 2)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def _store_with(tmp_path: Path, elf: Path, provenance: dict[str, Any] | None) -> Path:
    """A store whose one checkpoint records ``provenance`` (as another rtcr would)."""
    path = tmp_path / "store"
    with Store.create(path) as store:
        session = Session.start(elf, store=store, log_sink=lambda _c, _line: None)
        session.runtime.provenance = provenance
        session.run(max_instructions=200_000)
        session.checkpoint()
    return path


def _recorded(elf: Path, **changes: Any) -> dict[str, Any]:
    session = Session.start(elf, log_sink=lambda _c, _line: None)
    assert session.runtime.provenance is not None
    return {**session.runtime.provenance, **changes}


def test_restore_refuses_a_checkpoint_of_another_guest_abi(tmp_path: Path,
                                                          builds: dict[str, Path]) -> None:
    store = _store_with(tmp_path, builds["original"],
                        _recorded(builds["original"], abi=ABI_VERSION + 1, rtcr="9.9"))
    done = rtcr("restore", store)
    assert done.returncode == 2
    assert done.stderr == (f"rtcr: error: checkpoint 1 was taken with guest ABI "
                           f"{ABI_VERSION + 1} (rtcr 9.9); this rtcr {__version__} speaks guest "
                           f"ABI {ABI_VERSION} — use --force to restore anyway\n")


def test_restore_refuses_a_checkpoint_of_another_cpu_model(tmp_path: Path,
                                                          builds: dict[str, Path]) -> None:
    store = _store_with(tmp_path, builds["original"], _recorded(builds["original"], cpu="486"))
    done = rtcr("restore", store)
    assert done.returncode == 2
    assert done.stderr == (f"rtcr: error: checkpoint 1 was taken on CPU model 486; this rtcr "
                           f"emulates {CPU_MODEL_NAME} — use --force to restore anyway\n")


def test_force_restores_a_checkpoint_of_another_cpu_model(tmp_path: Path,
                                                         builds: dict[str, Path]) -> None:
    store = _store_with(tmp_path, builds["original"], _recorded(builds["original"], cpu="486"))
    done = rtcr("restore", store, "--force")
    assert done.returncode == 0, done.stderr
    assert "(--force): checkpoint 1 was taken on CPU model 486" in done.stderr


def test_a_checkpoint_without_provenance_restores(tmp_path: Path,
                                                  builds: dict[str, Path]) -> None:
    store = _store_with(tmp_path, builds["original"], None)
    done = rtcr("restore", store)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("[greet] counted ")


def test_show_says_not_recorded_for_a_checkpoint_without_provenance(
        tmp_path: Path, builds: dict[str, Path]) -> None:
    store = _store_with(tmp_path, builds["original"], None)
    assert provenance(store) is None
    assert "provenance: not recorded" in rtcr("show", store).stdout


def test_restore_onto_a_binary_needs_a_recorded_layout(tmp_path: Path,
                                                       builds: dict[str, Path]) -> None:
    store = _store_with(tmp_path, builds["original"], None)
    done = rtcr("restore", store, "--binary", builds["rebuilt"])
    assert done.returncode == 2
    assert done.stderr.startswith("rtcr: error: checkpoint 1 records no binary layout")


def test_restore_help_explains_binary_and_force_in_plain_text() -> None:
    text = rtcr("restore", "--help").stdout
    assert "rtcr restore ck --binary build/counter.elf" in text
    assert "--force" in text
    assert "``" not in text and ":option:" not in text


_segments = st.lists(st.builds(SegmentLayout, st.integers(0, 1 << 20), st.integers(1, 1 << 20),
                               st.sampled_from(["r--", "rw-", "r-x"])), max_size=4)


@given(_segments, _segments, st.integers(0, 3), st.integers(0, 3))
def test_a_layout_fits_exactly_when_entry_and_segments_are_the_same(
        a: list[SegmentLayout], b: list[SegmentLayout], entry_a: int, entry_b: int) -> None:
    old = Binary("/old", "0" * 64, None, entry_a, tuple(a))
    new = Binary("/new", "1" * 64, None, entry_b, tuple(b))
    assert (layout_difference(old, new) is None) == (a == b and entry_a == entry_b)
