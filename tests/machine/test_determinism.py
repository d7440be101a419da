"""Same program, same output and same instruction count: across runs and tracking strategies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from machine_support import (
    EXAMPLES,
    assert_no_traceback,
    fault_counts,
    run_api,
    run_cli_summary,
)

from rtcr.checkpoint import Outcome, Session, Strategy
from rtcr.machine import Status

Example = Callable[[str], Path]
STRATEGIES = [s.value for s in Strategy]


def test_strategies_are_the_three_documented_ones() -> None:
    assert sorted(STRATEGIES) == ["detach", "full", "ro-attach"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs_identically_twice(name: str, example: Example) -> None:
    first = run_api(example(name))
    second = run_api(example(name))
    assert first.result.status is Status.FINISHED
    assert second.lines == first.lines
    assert second.result.instructions == first.result.instructions
    assert ({t.tid: t.instructions for t in second.component.threads.values()}
            == {t.tid: t.instructions for t in first.component.threads.values()})
    assert second.machine.scheduler.now_ns == first.machine.scheduler.now_ns
    assert fault_counts(second.machine) == fault_counts(first.machine)


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_is_identical_under_every_strategy(name: str, example: Example) -> None:
    plain = run_api(example(name))
    for strategy in Strategy:
        lines: list[str] = []

        def sink(_component: object, line: str, lines: list[str] = lines) -> None:
            lines.append(line)

        session = Session.start(example(name), strategy=strategy, log_sink=sink)
        result = session.run()
        assert result.outcome is Outcome.EXITED, (strategy, result.diagnostic)
        assert result.exit_code == 0
        assert lines == plain.lines, strategy
        assert result.instructions == plain.result.instructions, strategy


# Faults the guest itself sees (reflected to its own handlers); under `full` the
# runtime tracks nothing, so these are all the faults of the run.
GUEST_FAULTS = {
    "self_pager": {"read": 0, "write": 16, "exec": 0},
    "ro_fault": {"read": 0, "write": 8, "exec": 0},
    "exec_fault": {"read": 0, "write": 0, "exec": 1},
    "kvstore": {"read": 0, "write": 0, "exec": 0},
}


@pytest.mark.parametrize("name", sorted(GUEST_FAULTS))
def test_cli_strategies_agree_on_output_and_instructions(name: str, example: Example,
                                                         tmp_path: Path) -> None:
    runs = {s: run_cli_summary(example(name), tmp_path, "--strategy", s) for s in STRATEGIES}
    for strategy, (proc, summary) in runs.items():
        assert_no_traceback(proc)
        assert proc.returncode == 0, (strategy, proc.stderr)
        assert summary["exit_code"] == 0
        faults = summary["faults"]
        assert isinstance(faults, dict)
        assert set(faults) == {"read", "write", "exec"}
    stdouts = {proc.stdout for proc, _ in runs.values()}
    instructions = {summary["instructions"] for _, summary in runs.values()}
    assert len(stdouts) == 1
    assert len(instructions) == 1
    assert runs["full"][1]["faults"] == GUEST_FAULTS[name]
    guest = GUEST_FAULTS[name]
    for strategy in ("ro-attach", "detach"):
        faults = runs[strategy][1]["faults"]
        assert isinstance(faults, dict)
        # tracking adds faults on top of the guest's own, never hides them
        assert faults["exec"] == guest["exec"]
        assert faults["read"] + faults["write"] >= guest["read"] + guest["write"]
