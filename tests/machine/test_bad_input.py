"""`rtcr run` on things that are not runnable components: one clear line, non-zero, no traceback."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from machine_support import assert_no_traceback, run_cli, stderr_lines

EM_ARM = 40


def arm_elf() -> bytes:
    """A well-formed 64-bit little-endian ELF executable header for ARM, no segments."""
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    return ident + struct.pack("<HHIQQQIHHHHHH", 2, EM_ARM, 1, 0x400000, 0, 0, 0, 64, 56, 0,
                               64, 0, 0)


def _refused(proc: subprocess.CompletedProcess[str]) -> str:
    assert_no_traceback(proc)
    assert proc.returncode != 0
    assert proc.stdout == ""
    lines = stderr_lines(proc)
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_run_refuses_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.elf"
    path.write_text("this is not a program\n")
    line = _refused(run_cli("run", path))
    assert "not an ELF" in line
    assert str(path) in line


def test_run_refuses_an_arm_elf(tmp_path: Path) -> None:
    path = tmp_path / "arm.elf"
    path.write_bytes(arm_elf())
    line = _refused(run_cli("run", path))
    assert "ARM" in line
    assert "x86-64" in line


def test_run_refuses_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.elf"
    line = _refused(run_cli("run", path))
    assert "missing.elf" in line
    assert "no such file" in line.lower() or "does not exist" in line.lower()


@pytest.mark.parametrize("content", [b"", b"\x7fELF", b"\x7fELF\x02\x01\x01" + bytes(20)])
def test_run_refuses_a_truncated_elf(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "short.elf"
    path.write_bytes(content)
    _refused(run_cli("run", path))
