"""Lazy restore: the target starts before its RAM is back, and runs exactly as after an eager one.

Pages come back on their first access (through the pager) and from the
prefetcher between time slices; whichever brings a page, the restored run
must equal the uninterrupted one: output, exit code, instruction count,
final memory. Checkpoints taken while pages are still missing omit them
(their parent has them) and restore exactly. A page that fails
verification stops the run with one line naming the checkpoint and page.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cr_helpers import (
    COMPONENT_NAMES,
    EXAMPLE_NAMES,
    Lines,
    Outcome,
    assert_continues,
    checkpointed_run,
    every_for,
    finish,
    reference,
    restored_run,
    rtcr,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtcr.checkpoint import EXIT_PAGE_CORRUPT, Policy, Session, SessionResult, Strategy
from rtcr.checkpoint import Outcome as RunOutcome
from rtcr.errors import InvalidArgument
from rtcr.store import Store

Example = Callable[[str], Path]


def _stopped_run(store: Store, cid: int, *, prefetch_pages: int) -> SessionResult:
    """A lazy restore of ``cid`` run to its end (no memory digest: it may not be loadable)."""
    session = Session.resume(store, cid, log_sink=Lines(), checkpoint=False, lazy=True,
                             prefetch_pages=prefetch_pages)
    return session.run()


def _checkpoints(example: Example, name: str, tmp_path: Path, *,
                 strategy: Strategy = Strategy.RO_ATTACH, granularity: int = 1
                 ) -> tuple[Path, Outcome]:
    elf = example(name)
    ref = reference(elf)
    with Store.create(tmp_path / "store") as store:
        checkpointed_run(elf, store, every=every_for(ref.instructions, 4), strategy=strategy,
                         granularity=granularity)
    return tmp_path / "store", ref


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_continues_exactly_after_a_lazy_restore_of_each_checkpoint(
        example: Example, name: str, tmp_path: Path) -> None:
    path, ref = _checkpoints(example, name, tmp_path)
    with Store.open(path) as store:
        for cid in store.ids():
            got, _result, log_lines = restored_run(store, cid, lazy=True)
            assert_continues(ref, got, log_lines, f"{name}: lazy restore of checkpoint {cid}")


@pytest.mark.parametrize("prefetch_pages", [0, 1024])
@pytest.mark.parametrize("name", COMPONENT_NAMES)
def test_workloads_that_free_remap_page_and_jit_continue_exactly_after_a_lazy_restore(
        workload: Example, name: str, prefetch_pages: int, tmp_path: Path) -> None:
    path, ref = _checkpoints(workload, name, tmp_path)
    with Store.open(path) as store:
        for cid in store.ids():
            got, _result, log_lines = restored_run(store, cid, lazy=True,
                                                   prefetch_pages=prefetch_pages)
            assert_continues(ref, got, log_lines, f"{name}: lazy restore of checkpoint {cid}")


@pytest.mark.parametrize("strategy,granularity", [(Strategy.DETACH, 1), (Strategy.RO_ATTACH, 4),
                                                  (Strategy.DETACH, 4)])
@pytest.mark.parametrize("name", ["kvstore", "threads", "self_pager"])
def test_a_lazy_restore_continues_exactly_under_every_strategy_that_has_parts(
        example: Example, name: str, strategy: Strategy, granularity: int,
        tmp_path: Path) -> None:
    path, ref = _checkpoints(example, name, tmp_path, strategy=strategy,
                             granularity=granularity)
    with Store.open(path) as store:
        for cid in store.ids():
            got, _result, log_lines = restored_run(store, cid, lazy=True)
            assert_continues(ref, got, log_lines, f"{strategy.value}/g{granularity}: {cid}")


@pytest.mark.parametrize("name", ["kvstore", "sort", "life"])
def test_pages_loaded_only_on_access_give_the_same_run_as_pages_prefetched(
        example: Example, name: str, tmp_path: Path) -> None:
    path, ref = _checkpoints(example, name, tmp_path)
    with Store.open(path) as store:
        cid = store.ids()[len(store.ids()) // 2]
        on_access, result, log_lines = restored_run(store, cid, lazy=True, prefetch_pages=0)
        assert_continues(ref, on_access, log_lines, "loaded on access only")
        assert result.lazy is not None and result.lazy.pages_prefetched == 0
        assert result.lazy.pages_on_fault > 0


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefetch_pages=st.integers(0, 96), granularity=st.sampled_from([1, 3, 4]))
def test_any_prefetch_budget_and_granularity_give_the_uninterrupted_run(
        example: Example, tmp_path_factory: pytest.TempPathFactory, prefetch_pages: int,
        granularity: int) -> None:
    path, ref = _checkpoints(example, "sort", tmp_path_factory.mktemp("lazy"))
    with Store.open(path) as store:
        cid = store.ids()[1]
        got, _result, log_lines = restored_run(store, cid, lazy=True,
                                               prefetch_pages=prefetch_pages,
                                               granularity=granularity)
        assert_continues(ref, got, log_lines, f"prefetch {prefetch_pages}, g{granularity}")


def test_the_summary_reports_pages_on_fault_prefetched_and_time_to_first_instruction(
        example: Example, tmp_path: Path) -> None:
    path, _ref = _checkpoints(example, "sort", tmp_path)
    with Store.open(path) as store:
        cid = store.ids()[0]
        stored = sum(len(store.load(cid).table(key)) for key in store.load(cid).objects()
                     if key != "obj:0")
        _got, result, _ = restored_run(store, cid, lazy=True, prefetch_pages=1 << 20)
    lazy = result.summary()["lazy"]
    assert isinstance(lazy, dict)
    assert set(lazy) == {"pages_on_fault", "pages_prefetched", "first_instruction_ms"}
    assert isinstance(lazy["first_instruction_ms"], float)
    assert result.lazy is not None
    assert 0 < result.lazy.pages_on_fault + result.lazy.pages_prefetched <= stored


def test_an_eager_restore_has_no_lazy_summary(example: Example, tmp_path: Path) -> None:
    path, _ref = _checkpoints(example, "hello", tmp_path)
    with Store.open(path) as store:
        _got, result, _ = restored_run(store, store.ids()[0])
    assert "lazy" not in result.summary()


def test_full_tracking_refuses_a_lazy_restore(example: Example, tmp_path: Path) -> None:
    path, _ref = _checkpoints(example, "hello", tmp_path)
    with Store.open(path) as store, pytest.raises(InvalidArgument, match="ro-attach or detach"):
        Session.resume(store, store.ids()[0], strategy=Strategy.FULL, lazy=True)


@pytest.mark.parametrize("prefetch_pages", [0, 1, 1024])
@pytest.mark.parametrize("name", ["kvstore", "sort", "threads"])
def test_checkpoints_after_a_lazy_restore_restore_exactly(
        example: Example, name: str, prefetch_pages: int, tmp_path: Path) -> None:
    path, ref = _checkpoints(example, name, tmp_path)
    with Store.open(path) as store:
        first = store.ids()[0]
        before = set(store.ids())
        got, result, log_lines = restored_run(store, first, lazy=True,
                                              prefetch_pages=prefetch_pages, checkpoint=True,
                                              every=every_for(ref.instructions, 6))
        assert_continues(ref, got, log_lines, "the lazily restored run itself")
        later = [c.id for c in result.checkpoints]
        assert later and not before & set(later)
        for cid in later:
            again, _r, lines = restored_run(store, cid)
            assert_continues(ref, again, lines, f"eager restore of {cid}")
            again, _r, lines = restored_run(store, cid, lazy=True, prefetch_pages=0)
            assert_continues(ref, again, lines, f"lazy restore of {cid}")


def test_a_checkpoint_before_anything_was_prefetched_omits_the_missing_pages(
        example: Example, tmp_path: Path) -> None:
    path, ref = _checkpoints(example, "kvstore", tmp_path)
    with Store.open(path) as store:
        first = store.ids()[0]
        sink = Lines()
        session = Session.resume(store, first, log_sink=sink, lazy=True, prefetch_pages=0)
        assert session.lazy is not None
        missing = session.lazy.missing()
        stats = session.checkpoint()
        omitted = store.load(stats.id)
        for key, pages in missing.items():
            assert not set(pages) & set(omitted.stored(key)), key
        got, _r, lines = restored_run(store, stats.id)
        assert_continues(ref, got, lines, "restore of the checkpoint taken at once")


def test_a_checkpoint_storing_every_part_again_loads_the_missing_ones_first(
        example: Example, tmp_path: Path) -> None:
    # What the checkpointer does after a failed commit: every part dirty, stored again.
    path, ref = _checkpoints(example, "kvstore", tmp_path)
    with Store.open(path) as store:
        session = Session.resume(store, store.ids()[0], log_sink=Lines(), lazy=True,
                                 prefetch_pages=0)
        assert session.lazy is not None and session.lazy.missing()
        for record in session.runtime.ram_records():
            record.tracked.dirty.update(range(record.tracked.parts))
        stats = session.checkpoint()
        assert not any(session.lazy.missing().values())
        got, _r, lines = restored_run(store, stats.id)
        assert_continues(ref, got, lines, "restore of the checkpoint storing every part")


# -- corrupt pages -------------------------------------------------------------------


def _damage_page(store_path: Path, cid: int, key: str, index: int) -> None:
    """Flip a byte of the blob holding page ``key[index]`` of checkpoint ``cid``."""
    with Store.open(store_path) as store:
        table = store.load(cid).table(key)
        at = list(table.index_list()).index(index)
        pack, offset, length, _codec = table.location_list()[4 * at:4 * at + 4]
        blob = next(b for b in store.blobs() if (b.pack, b.offset) == (pack, offset))
    data = bytearray(blob.path.read_bytes())
    data[offset + length // 2] ^= 0xFF
    blob.path.write_bytes(bytes(data))


def _unique_pages(store: Store, cid: int) -> dict[str, set[int]]:
    """Stored pages whose blob no other page of the checkpoint shares, by key."""
    checkpoint = store.load(cid)
    tables = {key: checkpoint.table(key) for key in checkpoint.objects()}
    counts: dict[bytes, int] = {}
    for table in tables.values():
        for at in range(len(table)):
            counts[table.hash_at(at)] = counts.get(table.hash_at(at), 0) + 1
    return {key: {table.index_list()[at] for at in range(len(table))
                  if counts[table.hash_at(at)] == 1} for key, table in tables.items()}


def _pages_the_run_touches(store: Store, cid: int) -> tuple[dict[str, set[int]],
                                                            dict[str, set[int]]]:
    """Stored pages a lazy restore of ``cid`` loads on access, and those it never touches."""
    session = Session.resume(store, cid, log_sink=Lines(), checkpoint=False, lazy=True,
                             prefetch_pages=0)
    assert session.lazy is not None
    before = session.lazy.missing()
    session.run()
    after = session.lazy.missing()
    unique = _unique_pages(store, cid)
    touched = {k: (set(v) - set(after.get(k, ()))) & unique[k] for k, v in before.items()}
    untouched = {k: set(v) & unique[k] for k, v in after.items()}
    return touched, untouched


def _one(pages: dict[str, set[int]]) -> tuple[str, int]:
    key = next(k for k in sorted(pages) if pages[k])
    return key, min(pages[key])


def _newest_damaged(build: Example, name: str, tmp_path: Path, *, touched: bool
                    ) -> tuple[Path, int, str, int]:
    """A store of ``name``'s run whose newest checkpoint has one page damaged: one the
    restored run loads on access (``touched``) or one it never touches again."""
    path, _ref = _checkpoints(build, name, tmp_path)
    with Store.open(path) as store:
        cid = store.ids()[-1]
        loaded, never = _pages_the_run_touches(store, cid)
    key, index = _one(loaded if touched else never)
    _damage_page(path, cid, key, index)
    return path, cid, key, index


@pytest.mark.parametrize("prefetch_pages", [0, 1024])
def test_a_corrupt_page_hit_on_first_access_stops_the_run_naming_checkpoint_and_page(
        example: Example, tmp_path: Path, prefetch_pages: int) -> None:
    path, cid, key, index = _newest_damaged(example, "kvstore", tmp_path,
                                            touched=True)
    with Store.open(path) as store:
        result = _stopped_run(store, cid, prefetch_pages=prefetch_pages)
    assert result.outcome is RunOutcome.PAGE_CORRUPT
    assert result.exit_code == EXIT_PAGE_CORRUPT
    assert f"checkpoint {cid} is corrupt: page {key}[{index}]" in result.diagnostic
    assert "\n" not in result.diagnostic


def test_a_corrupt_page_hit_by_the_prefetcher_stops_the_run_naming_checkpoint_and_page(
        workload: Example, tmp_path: Path) -> None:
    path, cid, key, index = _newest_damaged(workload, "pager", tmp_path,
                                            touched=False)  # has pages it never touches again
    with Store.open(path) as store:
        result = _stopped_run(store, cid, prefetch_pages=1 << 20)
    assert result.outcome is RunOutcome.PAGE_CORRUPT
    assert f"checkpoint {cid} is corrupt: page {key}[{index}]" in result.diagnostic
    assert "prefetch" in result.diagnostic


def test_a_corrupt_page_met_loading_for_the_final_checkpoint_stops_the_run_naming_it(
        workload: Example, tmp_path: Path) -> None:
    path, cid, key, index = _newest_damaged(workload, "pager", tmp_path,
                                            touched=False)
    with Store.open(path) as store:
        session = Session.resume(store, cid, log_sink=Lines(), lazy=True, prefetch_pages=0)
        # What the checkpointer does after a failed commit: every part dirty, stored again.
        for record in session.runtime.ram_records():
            record.tracked.dirty.update(range(record.tracked.parts))
        result = session.run(max_instructions=1000, final_checkpoint=True)
    assert result.outcome is RunOutcome.PAGE_CORRUPT
    assert result.exit_code == EXIT_PAGE_CORRUPT
    assert f"checkpoint {cid} is corrupt: page {key}[{index}]" in result.diagnostic
    assert "page loaded on a checkpoint" in result.diagnostic


def test_the_command_line_prints_one_line_and_exits_65_on_a_corrupt_page(
        example: Example, tmp_path: Path) -> None:
    path, cid, key, index = _newest_damaged(example, "kvstore", tmp_path,
                                            touched=True)
    done = rtcr("restore", path, "--checkpoint", cid, "--lazy")
    assert done.returncode == EXIT_PAGE_CORRUPT
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"checkpoint {cid} is corrupt: page {key}[{index}]" in lines[0]


def test_the_command_line_lazy_restore_continues_the_output(example: Example,
                                                           tmp_path: Path) -> None:
    path, ref = _checkpoints(example, "counter", tmp_path)
    with Store.open(path) as store:
        cid = store.ids()[1]
        log_lines = store.load(cid).manifest["component"]["log_lines"]
    summary = tmp_path / "summary.json"
    done = rtcr("restore", path, "--checkpoint", cid, "--lazy", "--prefetch-pages", 0,
                "--summary-json", summary)
    assert done.returncode == ref.exit_code, done.stderr
    assert done.stdout.splitlines() == [f"[counter] {line}" for line in ref.lines[log_lines:]]
    lazy = json.loads(summary.read_text())["lazy"]
    assert lazy["pages_prefetched"] == 0 and lazy["pages_on_fault"] > 0


def test_prefetch_pages_without_lazy_is_refused(example: Example, tmp_path: Path) -> None:
    path, _ref = _checkpoints(example, "hello", tmp_path)
    done = rtcr("restore", path, "--prefetch-pages", 8)
    assert done.returncode == 2
    assert "--prefetch-pages applies to a lazy restore" in done.stderr


@pytest.mark.parametrize("prefetch_pages", [0, 1024])
def test_concurrent_checkpoints_after_a_lazy_restore_restore_exactly(
        example: Example, prefetch_pages: int, tmp_path: Path) -> None:
    path, ref = _checkpoints(example, "sort", tmp_path)
    with Store.open(path) as store:
        sink = Lines()
        session = Session.resume(store, store.ids()[0], log_sink=sink, lazy=True,
                                 concurrent=Policy.WAIT, prefetch_pages=prefetch_pages)
        got, result = finish(session, sink, every=every_for(ref.instructions, 6))
        assert_continues(ref, got, session.restored_log_lines, "the lazily restored run")
        assert result.checkpoints
        for stats in result.checkpoints:
            again, _r, lines = restored_run(store, stats.id)
            assert_continues(ref, again, lines, f"restore of {stats.id}")


def test_the_command_line_refuses_lazy_with_a_migration(example: Example,
                                                      tmp_path: Path) -> None:
    path, _ref = _checkpoints(example, "hello", tmp_path)
    secret = tmp_path / "secret"
    secret.write_text("s3cret-for-the-test\n")
    secret.chmod(0o600)
    done = rtcr("restore", path, "--lazy", "--migrate-to", "127.0.0.1:9", "--secret-file",
                secret)
    assert done.returncode == 2
    assert "--lazy cannot be combined with --migrate-to" in done.stderr
