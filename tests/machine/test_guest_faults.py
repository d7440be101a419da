"""Guest-driven fault scenarios: exact count, type and address of every reflected fault."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from machine_support import ApiRun, fault_counts, run_api

from rtcr.machine import Status

Example = Callable[[str], Path]
_FAULT_LINE = re.compile(r"fault (\d+): (\w+) at (0x[0-9a-f]+)")


def _finished(run: ApiRun) -> ApiRun:
    assert run.result.status is Status.FINISHED, run.result.diagnostic
    assert run.component.exit_code == 0
    return run


def _numbered_faults(lines: list[str]) -> list[tuple[int, str, int]]:
    found = [_FAULT_LINE.fullmatch(line) for line in lines]
    return [(int(m[1]), m[2], int(m[3], 16)) for m in found if m]


def test_self_pager_sees_16_write_faults_one_per_page_of_its_sub_map(example: Example) -> None:
    run = _finished(run_api(example("self_pager")))
    assert _numbered_faults(run.lines) == [(i + 1, "WRITE", i * 0x1000) for i in range(16)]
    assert "faults handled: 16 (read 0, write 16, exec 0)" in run.lines
    assert fault_counts(run.machine) == {"read": 0, "write": 16, "exec": 0}


def test_self_pager_pager_logs_while_the_faulter_is_blocked(example: Example) -> None:
    run = _finished(run_api(example("self_pager")))
    # every fault is logged before the main thread gets to verify anything
    last_fault = max(i for i, line in enumerate(run.lines) if _FAULT_LINE.fullmatch(line))
    assert run.lines.index("verified 256 bytes") > last_fault


def test_ro_fault_read_pass_does_not_fault(example: Example) -> None:
    run = _finished(run_api(example("ro_fault")))
    assert re.fullmatch(r"read pass: 8 pages, sum 0x[0-9a-f]+, faults 0", run.lines[0])


def test_ro_fault_sees_8_write_faults_one_per_page(example: Example) -> None:
    run = _finished(run_api(example("ro_fault")))
    assert _numbered_faults(run.lines) == [(i + 1, "WRITE", i * 0x1000) for i in range(8)]
    assert "write faults: 8 (read 0, write 8, exec 0)" in run.lines
    assert fault_counts(run.machine) == {"read": 0, "write": 8, "exec": 0}


def test_exec_fault_sees_one_exec_fault_at_the_jump_target(example: Example) -> None:
    run = _finished(run_api(example("exec_fault")))
    assert [line for line in run.lines if line.startswith("fault:")] == ["fault: EXEC at 0x0"]
    assert "function returned 42" in run.lines
    assert "exec faults: 1" in run.lines
    assert fault_counts(run.machine) == {"read": 0, "write": 0, "exec": 1}
