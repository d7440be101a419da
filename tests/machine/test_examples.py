"""Every bundled example runs to its expected output, via the Python API and via `rtcr run`."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from machine_support import (
    EXAMPLES,
    WITH_EXPECTED,
    assert_no_traceback,
    expected_log,
    expected_stdout,
    run_api,
    run_cli,
)

from rtcr.machine import Status

Example = Callable[[str], Path]


def test_every_example_but_abi_garbage_has_an_expected_output() -> None:
    assert set(EXAMPLES) - set(WITH_EXPECTED) == {"abi_garbage"}
    assert set(WITH_EXPECTED) <= set(EXAMPLES)


@pytest.mark.parametrize("name", WITH_EXPECTED)
def test_example_output_via_api(name: str, example: Example) -> None:
    run = run_api(example(name))
    assert run.result.status is Status.FINISHED, run.result.diagnostic
    assert run.component.crash is None
    assert run.component.exit_code == 0
    assert run.lines == expected_log(name)


@pytest.mark.parametrize("name", WITH_EXPECTED)
def test_example_output_via_cli(name: str, example: Example) -> None:
    proc = run_cli("run", example(name))
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == expected_stdout(name)


_RESULT = re.compile(r".* = (-E[A-Z]+|ok|cap|addr|tid)$")


def _check_abi_garbage(lines: list[str]) -> None:
    assert lines[-1] == "survived"
    assert re.fullmatch(r"\d+ calls", lines[-2])
    calls = [line for line in lines[:-2] if not line.startswith(" ")]  # "  detail" lines
    assert len(calls) == int(lines[-2].split()[0])
    for line in calls:
        assert _RESULT.fullmatch(line), line
    for number in range(64, 73):
        assert f"SYSCALL({number}) = -ENOSYS" in lines


def test_abi_garbage_survives_via_api(example: Example) -> None:
    run = run_api(example("abi_garbage"))
    assert run.result.status is Status.FINISHED
    assert run.component.crash is None
    assert run.component.exit_code == 0
    _check_abi_garbage(run.lines)


def test_abi_garbage_survives_via_cli(example: Example) -> None:
    proc = run_cli("run", example("abi_garbage"))
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    prefix = "[abi_garbage] "
    lines = proc.stdout.splitlines()
    assert all(line.startswith(prefix) for line in lines)
    _check_abi_garbage([line[len(prefix):] for line in lines])
