"""Migrations between two rtcr processes on loopback: the component continues exactly."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from migrate_helpers import (
    RTCR,
    Finished,
    Receiver,
    Reference,
    assert_continued,
    assert_ran_here,
    migrate,
    reference,
)

from rtcr.toolchain import compile_component

ROOT = Path(__file__).resolve().parent.parent.parent

# (example, where to migrate: a fraction of its uninterrupted instruction count)
STOP_AND_COPY_POINTS = [("counter", 1 / 3), ("counter", 2 / 3), ("kvstore", 1 / 2),
                        ("life", 1 / 3), ("sort", 2 / 3), ("threads", 0.0),
                        ("threads", 0.4), ("hello", 0.0)]


@pytest.fixture(scope="module")
def long_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A component that runs for a few hundred million instructions, writing 10 % of its
    4 MiB per round: pre-copy has time for its rounds while it runs."""
    out = tmp_path_factory.mktemp("long") / "long_target.elf"
    return compile_component([ROOT / "benchmarks" / "concurrent_target.c"], out,
                             extra_flags=["-DTARGET_MB=4", "-DROUNDS=400",
                                          "-DDIRTY_PERMILLE=100"])


@pytest.fixture(scope="module")
def rewriting_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A component that writes every page of its 4 MiB per round, a round in a few
    milliseconds: faster than any pre-copy round can send them."""
    out = tmp_path_factory.mktemp("rewriting") / "rewriting_target.elf"
    return compile_component([ROOT / "benchmarks" / "concurrent_target.c"], out,
                             extra_flags=["-DTARGET_MB=4", "-DROUNDS=300",
                                          "-DDIRTY_PERMILLE=1000"])


def migrated(elf: Path, tmp_path: Path, at: int, *args: str) -> tuple[Finished, Finished]:
    receiver = Receiver(tmp_path)
    try:
        where = ("--migrate-at", str(at)) if at else ()  # default: at once
        source = migrate(elf, receiver.address, tmp_path, *where, *args)
        if source.summary is None or source.summary["outcome"] != "migrated":
            receiver.kill()
            return source, Finished(-1, (), receiver.messages(), None)
        return source, receiver.wait()
    finally:
        receiver.kill()


@pytest.mark.parametrize(("name", "fraction"), STOP_AND_COPY_POINTS)
def test_stop_and_copy_continues_an_example_exactly_where_it_stopped(
        example: Callable[[str], Path], tmp_path: Path, name: str, fraction: float) -> None:
    elf = example(name)
    ref = reference(elf)
    source, receiver = migrated(elf, tmp_path, int(ref.instructions * fraction),
                                "--migrate-mode", "stop-and-copy")
    assert_continued(ref, source, receiver)
    assert source.summary is not None
    assert source.summary["migration"]["rounds"] == 1


@pytest.mark.parametrize("fraction", [0.1, 0.5])
def test_pre_copy_continues_a_long_running_component_exactly(
        long_target: Path, tmp_path: Path, fraction: float) -> None:
    ref = reference(long_target)
    source, receiver = migrated(long_target, tmp_path, int(ref.instructions * fraction),
                                "--max-rounds", "4")
    assert_continued(ref, source, receiver)


def test_pre_copy_sends_rounds_while_the_component_runs(long_target: Path,
                                                        tmp_path: Path) -> None:
    ref = reference(long_target)
    source, receiver = migrated(long_target, tmp_path, ref.instructions // 10,
                                "--max-rounds", "3", "--downtime-ms", "0.001")
    assert_continued(ref, source, receiver)
    assert source.summary is not None
    migration = source.summary["migration"]
    assert migration["mode"] == "pre-copy"
    assert migration["rounds"] == 3
    assert source.summary["instructions"] > ref.instructions // 10 + 1_000_000


def test_pre_copy_throttles_a_component_that_writes_faster_than_rounds_go(
        rewriting_target: Path, tmp_path: Path) -> None:
    ref = reference(rewriting_target)
    source, receiver = migrated(rewriting_target, tmp_path, ref.instructions // 10,
                                "--downtime-ms", "0.001")
    assert_continued(ref, source, receiver)  # held back, it is the same run
    assert source.summary is not None
    assert source.summary["migration"]["throttle_percent"] > 0
    assert "throttled up to" in source.stderr


def test_no_auto_converge_never_throttles(rewriting_target: Path, tmp_path: Path) -> None:
    ref = reference(rewriting_target)
    source, receiver = migrated(rewriting_target, tmp_path, ref.instructions // 10,
                                "--downtime-ms", "0.001", "--no-auto-converge")
    assert_continued(ref, source, receiver)
    assert source.summary is not None
    assert source.summary["migration"]["throttle_percent"] == 0


def test_the_source_summary_reports_the_migration(example: Callable[[str], Path],
                                                  tmp_path: Path) -> None:
    elf = example("counter")
    source, _ = migrated(elf, tmp_path, 1_000_000, "--migrate-mode", "stop-and-copy")
    assert source.summary is not None
    migration = source.summary["migration"]
    assert set(migration) >= {"mode", "rounds", "bytes_sent", "downtime_ms", "total_ms"}
    assert migration["bytes_sent"] > 0 and migration["pages_sent"] > 0
    assert 0 < migration["downtime_ms"] <= migration["total_ms"]


@pytest.mark.parametrize("name", ["life", "sort"])
def test_pre_copy_of_a_short_example_is_never_wrong(example: Callable[[str], Path],
                                                    tmp_path: Path, name: str) -> None:
    """A component may end at the source before its pre-copy rounds are through; either
    way the output and the end are those of the uninterrupted run."""
    elf = example(name)
    ref = reference(elf)
    source, receiver = migrated(elf, tmp_path, ref.instructions // 4)
    if source.summary is not None and source.summary["outcome"] == "migrated":
        assert_continued(ref, source, receiver)
    else:
        assert "ended at the source during pre-copy" in source.stderr
        assert_ran_here(ref, source)


def test_restore_migrates_a_stored_checkpoint(example: Callable[[str], Path],
                                              tmp_path: Path) -> None:
    elf = example("counter")
    ref: Reference = reference(elf)
    store = tmp_path / "local"
    first = subprocess.run([*RTCR, "run", str(elf), "--store", str(store), "--every", "3M"],
                           capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    receiver = Receiver(tmp_path)
    try:
        source = migrate(elf, receiver.address, tmp_path, "--migrate-at", "4M",
                         "--migrate-mode", "stop-and-copy",
                         command=("restore", str(store), "--checkpoint", "1"))
        there = receiver.wait()
    finally:
        receiver.kill()
    assert source.returncode == 0, source.stderr
    after_checkpoint = source.lines + there.lines  # the lines printed before it are not again
    assert 0 < len(after_checkpoint) < len(ref.lines)
    assert after_checkpoint == ref.lines[len(ref.lines) - len(after_checkpoint):]
    assert there.summary is not None
    assert there.summary["instructions"] == ref.instructions
    assert there.summary["memory_digest"] == ref.digest


def test_serve_without_once_runs_one_migration_after_another(
        example: Callable[[str], Path], tmp_path: Path) -> None:
    elf = example("counter")
    ref = reference(elf)
    receiver = Receiver(tmp_path, once=False)
    try:
        sources = [migrate(elf, receiver.address, tmp_path, "--migrate-at", at,
                           "--migrate-mode", "stop-and-copy") for at in ("2M", "6M")]
        deadline = time.monotonic() + 60
        while receiver.messages().count("serving on") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        there = receiver.kill()
    assert all(s.returncode == 0 for s in sources)
    assert there == ref.lines[len(sources[0].lines):] + ref.lines[len(sources[1].lines):]


def test_serve_refuses_an_unwritable_summary_json_before_it_listens(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(bytes(range(32)))
    done = subprocess.run([*RTCR, "serve", "--listen", "127.0.0.1:0", "--store",
                           tmp_path / "store", "--secret-file", secret, "--once",
                           "--summary-json", tmp_path / "missing" / "s.json"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--summary-json" in done.stderr and "does not exist" in done.stderr
    assert "serving" not in done.stderr and not (tmp_path / "store").exists()
