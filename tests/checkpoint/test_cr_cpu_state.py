"""The CPU-state workloads of the equivalence suite test what they claim to.

The x87 workload keeps `long double` values on the x87 register stack and
logs its control, status and tag words and the FPU environment; the JIT
workload writes a new function each round through one mapping of a
dataspace and calls it through another; the clock workload reads the time
stamp counter. test_cr_equivalence.py restores each of them from every
checkpoint under every strategy. Here: the checkpoints really hold live x87
values, and the JIT computes what the program says (its expected output is
computed here independently, not taken from a run).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cr_helpers import checkpointed_run, every_for, reference

from rtcr.store import Store

Workload = Callable[[str], Path]
_EMPTY_X87 = 0xFFFF
_WORD = 0xFFFF_FFFF


def _checkpoints(elf: Path, tmp_path: Path) -> Store:
    ref = reference(elf)
    store = Store.create(tmp_path / "store")
    run, _ = checkpointed_run(elf, store, every=every_for(ref.instructions, 12))
    assert run == ref, "checkpointing changed the run itself"
    assert len(store.ids()) >= 8
    return store


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

