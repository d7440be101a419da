"""Concurrent copy-on-write checkpoints (issue 7): same checkpoints as stopped ones,
a pause that does not depend on how much was written."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rtcr.checkpoint import (
    ConcurrentCheckpointer,
    Policy,
    Session,
    Strategy,
    committer,
    concurrent,
)
from rtcr.checkpoint.image import object_key
from rtcr.checkpoint.runtime import RamRecord
from rtcr.core import PAGE_SIZE
from rtcr.errors import StoreError
from rtcr.machine import Status
from rtcr.store import CheckpointWriter, Store
from rtcr.toolchain import compile_component

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def rewriter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("concurrent") / "rewriter.elf"
    return Path(compile_component([HERE / "rewriter.c"], out))


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, component: object, line: str) -> None:
        self.lines.append(line)


def uninterrupted(elf: Path) -> tuple[list[str], str, int]:
    log = Lines()
    session = Session.start(elf, log_sink=log)
    result = session.run()
    assert result.exit_code == 0
    return log.lines, session.memory_digest(), result.instructions


@pytest.fixture
def slow_copier(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make the commit worker slow to copy, so the target rewrites pages first."""
    copy_rest = concurrent._Copy.copy_rest

    def slow(self: concurrent._Copy) -> None:
        time.sleep(0.3)
        copy_rest(self)

    monkeypatch.setattr(concurrent._Copy, "copy_rest", slow)
    yield


def concurrent_session(elf: Path, store: Store, policy: Policy = Policy.WAIT,
                       staging_budget: int | None = None
                       ) -> tuple[Session, ConcurrentCheckpointer]:
    session = Session.start(elf, log_sink=Lines(), store=store, concurrent=policy,
                            staging_budget=staging_budget)
    checkpointer = session.checkpointer
    assert isinstance(checkpointer, ConcurrentCheckpointer)
    return session, checkpointer


def paused_at_first_checkpoint(
        elf: Path, tmp_path: Path
) -> tuple[Store, Session, ConcurrentCheckpointer, dict[int, bytes]]:
    """A concurrent session of ``elf`` paused at instruction 1.5M, and what each RAM object
    holds there: what a checkpoint taken now must store."""
    store = Store.create(tmp_path / "s")
    session, checkpointer = concurrent_session(elf, store)
    assert session.machine.run(pause_at=1_500_000).status is Status.PAUSED
    expected = {record.oid: record.tracked.ram.read(0, record.size)
                for record in session.runtime.ram_records() if record.tracked.ram is not None}
    return store, session, checkpointer, expected


def run_concurrent(elf: Path, store_dir: Path, every: int,
                   policy: Policy = Policy.WAIT) -> tuple[Session, list[str]]:
    log = Lines()
    session = Session.start(elf, log_sink=log, store=Store.create(store_dir), concurrent=policy)
    result = session.run(every=every)
    assert result.exit_code == 0
    return session, log.lines


def test_restoring_concurrent_checkpoints_continues_exactly(rewriter: Path,
                                                            tmp_path: Path) -> None:
    lines, digest, instructions = uninterrupted(rewriter)
    _, run_lines = run_concurrent(rewriter, tmp_path / "s", every=400_000)
    assert run_lines == lines
    store = Store.open(tmp_path / "s")
    ids = [info.id for info in store.checkpoints()]
    assert len(ids) >= 5
    for cid in ids:
        log = Lines()
        restored = Session.resume(store, cid, log_sink=log, checkpoint=False)
        result = restored.run()
        assert result.exit_code == 0
        assert lines[len(lines) - len(log.lines):] == log.lines
        assert restored.memory_digest() == digest
        assert result.instructions == instructions


def test_copy_on_write_stores_the_content_at_checkpoint_time(
        rewriter: Path, tmp_path: Path, slow_copier: None) -> None:
    store, session, checkpointer, expected = paused_at_first_checkpoint(rewriter, tmp_path)
    saved_before_write = []
    hook = session.runtime.before_upgrade
    assert hook is not None

    def counting(record: RamRecord, part: int) -> None:
        if part in checkpointer.pending(record.oid):
            saved_before_write.append((record.oid, part))
        hook(record, part)

    session.runtime.before_upgrade = counting
    checkpointer.take()
    session.machine.run(pause_at=4_000_000)  # rewrites every page while copying
    cid = checkpointer.finish()[-1].id
    assert saved_before_write, "the target never wrote a page still being copied"
    assert_stored_as(store, cid, expected)


def test_pause_work_does_not_depend_on_dirty_pages(compile_c: Callable[[str, str], Path],
                                                   tmp_path: Path) -> None:
    source = (HERE / "rewriter.c").read_text()
    operations = []
    for stride in (64, 1):
        elf = compile_c(f"rewriter_stride{stride}",
                        f"#define STRIDE {stride}\n#define ROUNDS 4\n" + source)
        session = Session.start(elf, log_sink=Lines(), store=Store.create(tmp_path / f"{stride}"),
                                concurrent=Policy.WAIT)
        session.machine.run(pause_at=1_500_000)
        checkpointer = session.checkpointer
        assert isinstance(checkpointer, ConcurrentCheckpointer)
        checkpointer.take()
        checkpointer.finish()
        # Between slices the session recycles the bank swapped out (off the pause).
        session.machine.run(pause_at=3_000_000, between_slices=checkpointer.background)
        rams = [r for r in session.runtime.ram_records() if r.tracked.ram is not None]
        dirty = sum(len(r.tracked.dirty) for r in rams)
        counted = _count_region_operations(session, checkpointer.take)
        checkpointer.finish()
        operations.append((dirty, counted))
    (few_dirty, few_ops), (many_dirty, many_ops) = operations
    assert many_dirty > 8 * few_dirty
    assert few_ops == many_ops


def assert_stored_as(store: Store, cid: int, expected: dict[int, bytes]) -> None:
    """Checkpoint ``cid`` holds exactly ``expected`` (RAM object id -> content at the pause)."""
    checkpoint = store.load(cid)
    for oid, content in expected.items():
        stored = bytearray(len(content))
        for index, page in checkpoint.pages(object_key(oid)):
            stored[index * PAGE_SIZE:(index + 1) * PAGE_SIZE] = page
        assert bytes(stored) == content, f"RAM object {oid} differs from checkpoint time"


def _count_region_operations(session: Session, action: Callable[[], object]) -> int:
    """Region-map attaches and detaches (by anyone) while ``action`` runs."""
    from rtcr.core import RegionMap

    calls = 0
    attach, detach = RegionMap.attach, RegionMap.detach

    def counted_attach(self: RegionMap, *args: Any, **kwargs: Any) -> object:
        nonlocal calls
        calls += 1
        return attach(self, *args, **kwargs)

    def counted_detach(self: RegionMap, at: int) -> object:
        nonlocal calls
        calls += 1
        return detach(self, at)

    with pytest.MonkeyPatch.context() as spy:
        spy.setattr(RegionMap, "attach", counted_attach)
        spy.setattr(RegionMap, "detach", counted_detach)
        action()
    return calls


# Room for the first (full) checkpoint of the rewriter, not for a second one beside it.
ONE_CHECKPOINT = 3 << 20


def test_checkpoints_are_pipelined_while_staging_memory_lasts(
        rewriter: Path, tmp_path: Path, slow_copier: None) -> None:
    session, checkpointer = concurrent_session(rewriter, Store.create(tmp_path / "s"))
    session.machine.run(pause_at=1_000_000)
    checkpointer.take()
    session.machine.run(pause_at=1_100_000)
    checkpointer.take()
    assert len(checkpointer.committer.in_flight) == 2, "the second one did not wait"
    assert [s.id for s in checkpointer.finish()] == [1, 2]
    second = checkpointer.history[1]
    assert second.wait_us is not None and second.commit_us is not None
    assert second.wait_us == 0 or second.wait_us < second.commit_us
    assert checkpointer.skipped == 0


def test_skip_policy_skips_only_when_the_staging_budget_is_spent(
        rewriter: Path, tmp_path: Path, slow_copier: None) -> None:
    session, checkpointer = concurrent_session(rewriter, Store.create(tmp_path / "s"),
                                               Policy.SKIP, staging_budget=ONE_CHECKPOINT)
    session.machine.run(pause_at=1_000_000)
    checkpointer.take()
    session.machine.run(pause_at=1_100_000)
    checkpointer.take()
    assert checkpointer.skipped == 1
    assert [s.id for s in checkpointer.finish()] == [1]


def test_wait_policy_waits_for_staging_memory_when_the_budget_is_spent(
        rewriter: Path, tmp_path: Path, slow_copier: None) -> None:
    session, checkpointer = concurrent_session(rewriter, Store.create(tmp_path / "s"),
                                               staging_budget=ONE_CHECKPOINT)
    session.machine.run(pause_at=1_000_000)
    checkpointer.take()
    session.machine.run(pause_at=1_100_000)
    checkpointer.take()
    assert checkpointer.committer.in_flight[0].done.is_set(), "it did not wait for the first"
    first, second = checkpointer.finish()
    assert (first.id, second.id) == (1, 2)
    assert second.wait_us is not None and second.wait_us > 0
    assert checkpointer.skipped == 0


def test_failed_copy_loses_no_change(rewriter: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    lines, digest, _ = uninterrupted(rewriter)
    store = Store.create(tmp_path / "s")
    session, checkpointer = concurrent_session(rewriter, store)
    session.machine.run(pause_at=1_000_000)
    session.checkpoint()
    session.machine.run(pause_at=2_500_000)
    commit = CheckpointWriter.commit

    def disk_full(self: CheckpointWriter, *args: object, **kwargs: object) -> int:
        raise StoreError("no space left on device")

    monkeypatch.setattr(CheckpointWriter, "commit", disk_full)
    checkpointer.take()
    with pytest.raises(StoreError, match="no space left"):
        checkpointer.finish()
    monkeypatch.setattr(CheckpointWriter, "commit", commit)
    session.machine.run(pause_at=4_000_000)
    cid = session.checkpoint().id
    assert store.load(cid).parent == 1
    log = Lines()
    restored = Session.resume(store, cid, log_sink=log, checkpoint=False)
    assert restored.run().exit_code == 0
    assert lines[len(lines) - len(log.lines):] == log.lines
    assert restored.memory_digest() == digest


def test_copier_runs_beside_the_target(rewriter: Path, tmp_path: Path,
                                       slow_copier: None) -> None:
    session, checkpointer = concurrent_session(rewriter, Store.create(tmp_path / "s"))
    session.machine.run(pause_at=1_000_000)
    checkpointer.take()
    [job] = checkpointer.committer.in_flight
    before = session.machine.instructions
    session.machine.run(pause_at=before + 500_000)
    assert session.machine.instructions > before
    assert not job.done.is_set(), "the target ran only after the copy was done"
    assert threading.active_count() >= 2
    checkpointer.finish()


def test_concurrent_mode_needs_ro_attach(rewriter: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ro-attach"):
        Session.start(rewriter, strategy=Strategy.DETACH, store=Store.create(tmp_path / "s"),
                      concurrent=Policy.WAIT)


def test_a_write_to_a_part_the_worker_is_copying_waits_for_its_copy(
        rewriter: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker takes a batch out of `pending` before it copies it; the copy it
    belongs to must still catch writes (and wait for the batch) until its job is done.

    The interleaving is forced: the worker's one batch (all parts) stops before
    copying until a write fault asks that copy to save a part; meanwhile the
    main thread does its between-slices work, as a run does.
    """
    monkeypatch.setattr(concurrent, "_COPY_CHUNK", 1 << 30)  # one batch: pending empties
    copying, asked = threading.Event(), threading.Event()
    scatter_gather = concurrent._scatter_gather

    def held(*args: Any) -> None:
        copying.set()
        asked.wait()
        scatter_gather(*args)

    save_part = concurrent._Copy.save_part

    def asking(self: concurrent._Copy, oid: int, part: int) -> None:
        asked.set()
        save_part(self, oid, part)

    monkeypatch.setattr(concurrent, "_scatter_gather", held)
    monkeypatch.setattr(concurrent._Copy, "save_part", asking)
    store, session, checkpointer, expected = paused_at_first_checkpoint(rewriter, tmp_path)
    checkpointer.take()
    assert copying.wait(timeout=60), "the worker never copied"
    checkpointer.background()  # between time slices, while the batch is being copied
    session.machine.run(pause_at=4_000_000)  # rewrites every page
    asked.set()  # (if no write asked: let the worker finish, with what RAM holds now)
    cid = checkpointer.finish()[-1].id
    assert_stored_as(store, cid, expected)


def test_the_worker_copies_nothing_until_the_target_runs_again(
        rewriter: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pause and the time slice after it are the target's: the worker, held, waits
    at its first step and copies only from the second slice boundary on."""
    monkeypatch.setattr(committer, "HOLD_LIMIT", 3600.0)  # only a release lets it go on
    waiting, copies = threading.Event(), []
    give_way, scatter_gather = committer.Committer.give_way, concurrent._scatter_gather

    def noted(self: committer.Committer) -> None:
        waiting.set()
        give_way(self)

    def counted(*args: Any) -> None:
        copies.append(args)
        scatter_gather(*args)

    monkeypatch.setattr(committer.Committer, "give_way", noted)
    monkeypatch.setattr(concurrent, "_scatter_gather", counted)
    store, _session, checkpointer, expected = paused_at_first_checkpoint(rewriter, tmp_path)
    checkpointer.take()
    assert waiting.wait(timeout=60), "the worker never reached its first step"
    checkpointer.background()  # the pause ends here; the slice after it is the target's too
    assert copies == []
    assert all(checkpointer.pending(oid) for oid in expected)
    checkpointer.background()  # the second slice boundary: the worker goes on
    cid = checkpointer.finish()[-1].id
    assert copies
    assert_stored_as(store, cid, expected)


def test_the_pause_lasts_until_the_target_runs_again(rewriter: Path, tmp_path: Path) -> None:
    """`pause_us` runs from the start of `take` to the slice boundary the target resumes
    at, covers every part of the pause, and is what the store records."""
    store = Store.create(tmp_path / "s")
    session, checkpointer = concurrent_session(rewriter, store)
    session.machine.run(pause_at=1_000_000)
    checkpointer.take()
    checkpointer.background()
    [stats] = checkpointer.finish()
    parts = stats.pause_parts
    assert parts is not None
    assert set(parts) == {"capture_us", "rearm_us", "plan_us", "resume_us", "offcpu_us",
                          "worker_us"}
    assert stats.pause_us >= sum(parts[k] for k in ("capture_us", "rearm_us", "plan_us",
                                                    "resume_us"))
    assert store.info(stats.id).pause_us == stats.pause_us


def test_the_pause_hands_the_dirty_parts_over_unsorted(rewriter: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """No page index is built in the pause: the worker (or the first write that must
    save a part) sorts the dirty parts into pages once the target runs."""
    monkeypatch.setattr(committer, "HOLD_LIMIT", 3600.0)
    session, checkpointer = concurrent_session(rewriter, Store.create(tmp_path / "s"))
    session.machine.run(pause_at=1_000_000)
    rams = {object_key(r.oid) for r in session.runtime.ram_records() if r.tracked.ram is not None}
    checkpointer.take()
    [job] = checkpointer.committer.in_flight
    assert rams and all(len(source.indices) == len(source.addrs) == 0
                        for source in job.sources if source.key in rams)
    checkpointer.finish()
    assert all(len(source.indices) == len(source.addrs) > 0 for source in job.sources)


def test_concurrent_checkpoints_of_multi_page_parts_continue_exactly(
        rewriter: Path, tmp_path: Path, slow_copier: None) -> None:
    """Parts of three pages (512 of them do not divide evenly: the last part is short):
    a part's slot follows from its rank, and a write saves the whole part -- every
    checkpoint still restores exactly."""
    lines, digest, instructions = uninterrupted(rewriter)
    log = Lines()
    session = Session.start(rewriter, log_sink=log, store=Store.create(tmp_path / "s"),
                            concurrent=Policy.WAIT, granularity=3)
    checkpointer = session.checkpointer
    assert isinstance(checkpointer, ConcurrentCheckpointer)
    assert session.run(every=800_000).exit_code == 0
    assert log.lines == lines
    assert checkpointer.saves, "no write saved a part before the worker: the test is vacuous"
    store = Store.open(tmp_path / "s")
    for info in store.checkpoints():
        restored = Session.resume(store, info.id, log_sink=Lines(), checkpoint=False)
        result = restored.run()
        assert result.exit_code == 0
        assert restored.memory_digest() == digest
        assert result.instructions == instructions
