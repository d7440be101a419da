"""Helpers shared by the machine acceptance tests: running components, the CLI, expectations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rtcr.core import FaultType
from rtcr.machine import Component, Machine, RunResult

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = ROOT / "examples"
EXPECTED_DIR = EXAMPLES_DIR / "expected"
EXAMPLES = sorted(p.stem for p in EXAMPLES_DIR.glob("*.c"))
# abi_garbage's exact codes are the machine's choice within the ABI (see its header
# comment), so it has no expected file; its invariants are tested on their own.
WITH_EXPECTED = sorted(p.stem for p in EXPECTED_DIR.glob("*.txt"))
CLI_TIMEOUT = 120


def expected_stdout(name: str) -> list[str]:
    """The expected stdout lines of `rtcr run NAME.elf` (`[NAME] text`)."""
    return (EXPECTED_DIR / f"{name}.txt").read_text().splitlines()


def expected_log(name: str) -> list[str]:
    """The expected LOG lines as a log sink sees them (without the `[NAME] ` prefix)."""
    prefix = f"[{name}] "
    lines = expected_stdout(name)
    assert all(line.startswith(prefix) for line in lines), f"{name}.txt lacks the prefix"
    return [line[len(prefix):] for line in lines]


@dataclass
class ApiRun:
    machine: Machine
    component: Component
    result: RunResult
    lines: list[str] = field(default_factory=list)


def run_api(elf: Path, *, max_instructions: int | None = None) -> ApiRun:
    """Run one component on a plain machine (core as its parent), capturing its LOG lines."""
    lines: list[str] = []
    machine = Machine(log_sink=lambda _component, line: lines.append(line))
    component = machine.load(elf)
    result = machine.run(max_instructions=max_instructions)
    return ApiRun(machine, component, result, lines)


def fault_counts(machine: Machine) -> dict[str, int]:
    """Faults reflected during the run, by type (the summary's `faults` shape)."""
    counts = machine.core.fault_counts
    return {kind.name.lower(): counts.get(kind, 0)
            for kind in (FaultType.READ, FaultType.WRITE, FaultType.EXEC)}


def rtcr_command() -> list[str]:
    script = Path(sys.executable).parent / "rtcr"
    return [str(script)] if script.exists() else [sys.executable, "-m", "rtcr"]


def run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
    return subprocess.run([*rtcr_command(), *map(str, args)], capture_output=True, text=True,
                          timeout=CLI_TIMEOUT, cwd=cwd, env=env, check=False)


def run_cli_summary(elf: Path, tmp: Path, *args: str) -> tuple[subprocess.CompletedProcess[str],
                                                                dict[str, object]]:
    """`rtcr run ELF --summary-json FILE ARGS...`: the process and the parsed summary."""
    summary = tmp / f"summary-{elf.stem}-{'-'.join(args) or 'default'}.json"
    proc = run_cli("run", elf, "--summary-json", summary, *args)
    return proc, json.loads(summary.read_text())


def assert_no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout, proc.stdout


def stderr_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.strip()]
