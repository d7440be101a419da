"""Guest ABI fuzzing: a seeded component issues long random syscall sequences.

The component (components/fuzz.c) checks its own invariants (charges and
refunds, sealed / read-only / code memory unchanged, nesting limit, fault
reflection and retry) and logs a running checksum of every result. The host
checks the machine-wide ones (quotas conserved, no physical page in two
dataspaces, no leaked frame) and that a restore from any checkpoint of a
fuzzed run continues to the very same checksum and output.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from reliability_harness import Lines, component, machine_violations, parse_fuzz, patch_fuzz

from rtcr.checkpoint import Outcome, Session, Strategy
from rtcr.machine import Machine, Status
from rtcr.store import Store

SEEDS = (11, 2024, 777)
CALLS = 20_000
MAX_INSTRUCTIONS = 200_000_000  # a fuzz run of 20k calls needs about 2.5 M


def fuzz_elf(tmp_path: Path, seed: int, calls: int = CALLS) -> Path:
    return patch_fuzz(component("fuzz"), seed, calls, tmp_path / f"fuzz{seed}.elf")


def run_bare(elf: Path) -> tuple[Machine, list[str]]:
    sink = Lines()
    machine = Machine(64 << 20, log_sink=sink)
    comp = machine.load(elf, name="fuzz")
    result = machine.run(max_instructions=MAX_INSTRUCTIONS)
    assert result.status is Status.FINISHED, result
    assert comp.crash is None, comp.crash
    return machine, sink.of("fuzz")


@pytest.mark.parametrize("seed", SEEDS)
def test_fuzz_on_a_bare_machine(tmp_path: Path, seed: int) -> None:
    machine, lines = run_bare(fuzz_elf(tmp_path, seed))
    outcome = parse_fuzz(lines)
    assert outcome.violations == []
    assert outcome.calls >= CALLS
    assert machine_violations(machine) == []
    assert len(machine.core.pds()) > 1  # PD sessions were opened and used too
    assert machine.components[0].exit_code == 0
    # every kind of adversarial argument was tried (and answered with an error)
    stats = next(line for line in lines if line.startswith("errors "))
    counts = dict(field.split("=") for field in stats.split()[1:])
    for name in ("einval", "ecap", "efault", "econflict", "enoregion", "enesting", "enosys"):
        assert int(counts[name]) > 0, (name, stats)


def test_fuzz_is_deterministic(tmp_path: Path) -> None:
    elf = fuzz_elf(tmp_path, 5, 4000)
    first = parse_fuzz(run_bare(elf)[1])
    second = parse_fuzz(run_bare(elf)[1])
    assert first.lines == second.lines
    other = parse_fuzz(run_bare(fuzz_elf(tmp_path, 6, 4000))[1])
    assert other.checksum != first.checksum


@pytest.mark.parametrize(("seed", "strategy"), [(SEEDS[0], Strategy.RO_ATTACH),
                                                (SEEDS[1], Strategy.DETACH),
                                                (SEEDS[2], Strategy.FULL)])
def test_fuzz_under_the_runtime_restores_to_the_same_checksum(
        tmp_path: Path, seed: int, strategy: Strategy) -> None:
    elf = fuzz_elf(tmp_path, seed)
    store = Store.create(tmp_path / "store")
    sink = Lines()
    session = Session.start(elf, strategy=strategy, store=store, log_sink=sink)
    result = session.run(every=400_000, max_instructions=MAX_INSTRUCTIONS)
    assert result.outcome is Outcome.EXITED, result.diagnostic
    assert result.exit_code == 0
    name = session.component.name
    reference = parse_fuzz(sink.of(name))
    assert reference.violations == []
    assert machine_violations(session.machine) == []
    ids = store.ids()
    assert len(ids) >= 3
    assert store.verify().ok
    rng = random.Random(seed)
    for cid in sorted({ids[0], ids[-1], *rng.sample(ids, 2)}):
        resumed_sink = Lines()
        resumed = Session.resume(store, cid, log_sink=resumed_sink, checkpoint=False)
        again = resumed.run(max_instructions=MAX_INSTRUCTIONS)
        assert again.outcome is Outcome.EXITED, (cid, again.diagnostic)
        lines = sink.of(name)[:resumed.restored_log_lines] + resumed_sink.of(name)
        outcome = parse_fuzz(lines)
        assert outcome.checksum == reference.checksum, cid
        assert lines == reference.lines, cid
        assert machine_violations(resumed.machine) == [], cid
    store.close()


def test_fuzz_chain_continues_across_restores(tmp_path: Path) -> None:
    """Checkpoint, restore the newest, keep checkpointing into the same store, repeat."""
    elf = fuzz_elf(tmp_path, 99, 8000)
    store = Store.create(tmp_path / "store")
    sink = Lines()
    session = Session.start(elf, store=store, log_sink=sink)
    reference_sink = Lines()
    Session.start(elf, log_sink=reference_sink).run(max_instructions=MAX_INSTRUCTIONS)
    name = session.component.name
    reference = parse_fuzz(reference_sink.of(name))
    result = session.run(every=300_000, max_instructions=350_000)
    assert result.outcome is Outcome.LIMIT
    lines = sink.of(name)
    for _hop in range(4):
        newest = store.newest()
        assert newest is not None
        hop_sink = Lines()
        session = Session.resume(store, newest, log_sink=hop_sink)
        lines = lines[:session.restored_log_lines]
        result = session.run(every=250_000, max_instructions=300_000)
        lines += hop_sink.of(name)
        if result.outcome is Outcome.EXITED:
            break
    if result.outcome is not Outcome.EXITED:
        newest = store.newest()
        assert newest is not None
        final_sink = Lines()
        session = Session.resume(store, newest, log_sink=final_sink, checkpoint=False)
        lines = lines[:session.restored_log_lines]
        result = session.run(max_instructions=MAX_INSTRUCTIONS)
        lines += final_sink.of(name)
    assert result.outcome is Outcome.EXITED, result.diagnostic
    assert lines == reference.lines
    assert store.verify().ok
    store.close()
