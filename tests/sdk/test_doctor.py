"""`rtcr doctor`: one line per check, FAIL says what to do, exit 1 if anything failed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sdk_support import EXAMPLES_DIR, needs_cc

from rtcr.compilers import NOT_FOUND_HINT

ROOT = Path(__file__).resolve().parents[2]


def doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rtcr", "doctor", *args], capture_output=True,
                          text=True, timeout=300, env=env, cwd=ROOT)


def _store(tmp_path: Path) -> Path:
    elf, store = tmp_path / "counter.elf", tmp_path / "store"
    for argv in (["cc", str(EXAMPLES_DIR / "counter.c"), "-o", str(elf)],
                 ["run", str(elf), "--store", str(store), "--every", "2M"]):
        done = subprocess.run([sys.executable, "-m", "rtcr", *argv], capture_output=True,
                              text=True, timeout=300, cwd=ROOT)
        assert done.returncode == 0, done.stderr
    return store


@needs_cc
def test_doctor_on_a_sound_machine_and_store_says_ok_to_every_check(tmp_path: Path) -> None:
    done = doctor("--store", str(_store(tmp_path)))
    assert done.returncode == 0, done.stdout
    checks = [line.split(":")[0].split(maxsplit=1) for line in done.stdout.splitlines()]
    assert checks == [["ok", "C compiler"], ["ok", "C++ compiler"], ["ok", "machine"],
                      ["ok", "disk"], ["ok", "store"]]


@needs_cc
def test_doctor_fails_a_store_with_a_damaged_page_and_names_the_checkpoint(
        tmp_path: Path) -> None:
    store = _store(tmp_path)
    pack = sorted((store / "packs").iterdir())[0]
    data = bytearray(pack.read_bytes())
    data[100] ^= 0xFF
    pack.write_bytes(bytes(data))
    done = doctor("--store", str(store))
    assert done.returncode == 1
    (line,) = [line for line in done.stdout.splitlines() if "store:" in line]
    assert line.startswith("FAIL  store:") and "1:" in line and "rtcr gc" in line


def test_doctor_without_the_named_compiler_fails_that_check(tmp_path: Path) -> None:
    env = {**os.environ, "RTCR_CC": str(tmp_path / "no-such-cc")}
    done = doctor(env=env)
    assert done.returncode == 1
    first = done.stdout.splitlines()[0]
    assert first == (f"FAIL  C compiler: compiler not found: '{tmp_path / 'no-such-cc'}' "
                     f"({NOT_FOUND_HINT})")
