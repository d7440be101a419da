"""Restore equivalence for CPU state beyond the integer registers, and for code written at run time.

The x87 workload keeps `long double` values on the x87 register stack and
logs its control, status and tag words and the FPU environment; the JIT
workload writes a new function each round through one mapping of a
dataspace and calls it through another. Restored from every checkpoint,
both must end exactly like the uninterrupted run -- and the uninterrupted
run must compute what the program says (the JIT's expected output is
computed here independently).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cr_helpers import assert_all_restore, checkpointed_run, every_for, reference

from rtcr.checkpoint import Strategy
from rtcr.store import Store

Workload = Callable[[str], Path]
_EMPTY_X87 = 0xFFFF
_WORD = 0xFFFF_FFFF


def _checkpoints(elf: Path, tmp_path: Path, strategy: Strategy = Strategy.RO_ATTACH,
                 count: int = 12) -> Store:
    ref = reference(elf)
    store = Store.create(tmp_path / "store")
    run, _ = checkpointed_run(elf, store, every=every_for(ref.instructions, count),
                              strategy=strategy)
    assert run == ref, "checkpointing changed the run itself"
    assert len(store.ids()) >= 8
    return store


@pytest.mark.parametrize("strategy", list(Strategy), ids=lambda s: s.value)
def test_every_checkpoint_of_x87_code_restores_to_the_same_end(
        workload: Workload, tmp_path: Path, strategy: Strategy) -> None:
    elf = workload("x87")
    store = _checkpoints(elf, tmp_path, strategy)
    assert_all_restore(store, reference(elf))


def test_x87_checkpoints_hold_live_values_on_the_register_stack(
        workload: Workload, tmp_path: Path) -> None:
    """Guards the x87 test against passing vacuously: checkpoints fall inside the loop."""
    store = _checkpoints(workload("x87"), tmp_path)
    tags = [t["registers"]["fptag"] for cid in store.ids()
            for t in store.load(cid).manifest["threads"] if "registers" in t]
    assert sum(tag != _EMPTY_X87 for tag in tags) >= len(tags) // 2


def _jit_expected() -> list[str]:
    """What tests/checkpoint/components/jit.c must print, computed from its source's rules."""
    out, acc = [], 1
    for round_ in range(60):
        spin = acc
        for _ in range(20000):
            spin = (spin * 1103515245 + 12345) & _WORD
        value = acc ^ (spin & 0xFF)
        for slot in range(12):
            add = round_ * 131 + slot if (round_ * 7 + slot * 3) % 5 < 2 else 5
            value = (value + add) & _WORD
        acc = (value * 2654435761) & _WORD
        out.append(f"round {round_} acc {acc:x}")
    return out


def test_code_written_through_one_mapping_runs_through_the_other(workload: Workload) -> None:
    assert list(reference(workload("jit")).lines) == _jit_expected()


@pytest.mark.parametrize("strategy", list(Strategy), ids=lambda s: s.value)
def test_every_checkpoint_of_a_jit_restores_to_the_same_end(
        workload: Workload, tmp_path: Path, strategy: Strategy) -> None:
    elf = workload("jit")
    store = _checkpoints(elf, tmp_path, strategy)
    assert_all_restore(store, reference(elf))


def test_every_checkpoint_of_a_component_reading_the_tsc_restores_to_the_same_end(
        workload: Workload, tmp_path: Path) -> None:
    elf = workload("clock")
    assert_all_restore(_checkpoints(elf, tmp_path), reference(elf))
