"""Post-copy migrations between two rtcr processes on loopback.

The component runs at the receiver as soon as its state is there, and its
pages follow; the run adds up to the uninterrupted one, the receiver ends
with a complete verified checkpoint, and a failure before the receiver
started the component leaves it running at the source. A failure after
it started stops it at the receiver with one line naming checkpoint and
page, and the source reports that its copy is split.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from migrate_helpers import (
    RTCR,
    TIMEOUT,
    Finished,
    Receiver,
    assert_continued,
    assert_ran_here,
    migrate,
    reference,
    secret_file,
)
from net_helpers import Relay

from rtcr.checkpoint.session import EXIT_PAGE_CORRUPT
from rtcr.migrate.source import EXIT_HANDED_OVER
from rtcr.migrate.wire import HEADER, MAC_SIZE, NONCE_SIZE
from rtcr.toolchain import compile_component

POST_COPY = ("--migrate-mode", "post-copy")
HANDSHAKE_UPSTREAM = 2 * (HEADER.size + NONCE_SIZE + MAC_SIZE)
# Past the state and the ROMs of `noisy` (a few kB), inside its 2 MiB of random pages.
INTO_THE_PUSH = 1 << 20

# (example, where to migrate: a fraction of its uninterrupted instruction count)
POINTS = [("counter", 1 / 3), ("counter", 2 / 3), ("kvstore", 0.0), ("kvstore", 1 / 2),
          ("life", 1 / 3), ("sort", 2 / 3), ("threads", 0.4), ("hello", 0.0)]


# The checkpoint tests' components that stress a lazy restore: RAM freed and allocated
# again, remapped regions, a pager of its own, generated code, threads sharing RAM.
COMPONENTS = ("ram_churn", "remap", "pager", "jit", "shared_threads", "sig_sleep")
COMPONENT_DIR = Path(__file__).resolve().parent.parent / "checkpoint" / "components"


@pytest.fixture(scope="module")
def component(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    out = tmp_path_factory.mktemp("components")
    return lambda name: compile_component([COMPONENT_DIR / f"{name}.c"], out / f"{name}.elf")


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    serving = Receiver(tmp_path)
    yield serving
    serving.kill()


def post_copied(elf: Path, receiver: Receiver, tmp_path: Path, at: int,
                *args: str) -> tuple[Finished, Finished]:
    where = ("--migrate-at", str(at)) if at else ()
    source = migrate(elf, receiver.address, tmp_path, *where, *POST_COPY, *args)
    if source.summary is None or source.summary["outcome"] != "migrated":
        return source, Finished(-1, tuple(receiver.kill()), receiver.messages(), None)
    return source, receiver.wait()


def after_start(stderr: str) -> list[str]:
    """The receiver's lines after it said it continues the component."""
    lines = stderr.splitlines()
    starts = [i for i, line in enumerate(lines) if "while its memory arrives" in line]
    assert starts, stderr
    return lines[starts[0] + 1:]


@pytest.mark.parametrize(("name", "fraction"), POINTS)
def test_post_copy_continues_an_example_exactly_where_it_stopped(
        example: Callable[[str], Path], receiver: Receiver, tmp_path: Path, name: str,
        fraction: float) -> None:
    elf = example(name)
    ref = reference(elf)
    source, there = post_copied(elf, receiver, tmp_path, int(ref.instructions * fraction))
    assert_continued(ref, source, there)


@pytest.mark.parametrize("name", ["seal", "self_pager", "signals", "ro_fault", "abi_garbage"])
def test_post_copy_continues_the_other_examples_exactly_halfway(
        example: Callable[[str], Path], receiver: Receiver, tmp_path: Path, name: str) -> None:
    elf = example(name)
    ref = reference(elf)
    source, there = post_copied(elf, receiver, tmp_path, ref.instructions // 2)
    assert_continued(ref, source, there)


@pytest.mark.parametrize("name", COMPONENTS)
def test_post_copy_continues_a_component_that_stresses_lazy_restore_exactly(
        component: Callable[[str], Path], receiver: Receiver, tmp_path: Path,
        name: str) -> None:
    elf = component(name)
    ref = reference(elf)
    source, there = post_copied(elf, receiver, tmp_path, ref.instructions // 2)
    assert_continued(ref, source, there)


def test_post_copy_continues_a_component_larger_than_what_it_touches_first(
        noisy: Path, receiver: Receiver, tmp_path: Path) -> None:
    ref = reference(noisy)
    source, there = post_copied(noisy, receiver, tmp_path, 20_000_000)
    assert_continued(ref, source, there)


def test_the_receiver_ends_with_a_complete_verified_checkpoint_that_continues_exactly(
        example: Callable[[str], Path], receiver: Receiver, tmp_path: Path) -> None:
    elf = example("kvstore")
    ref = reference(elf)
    source, there = post_copied(elf, receiver, tmp_path, ref.instructions // 2)
    assert there.summary is not None
    checkpoint = str(there.summary["checkpoint"])
    verified = subprocess.run([*RTCR, "verify", str(receiver.store)],
                              capture_output=True, text=True, timeout=TIMEOUT)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    again = subprocess.run([*RTCR, "restore", str(receiver.store), "--checkpoint", checkpoint],
                           capture_output=True, text=True, timeout=TIMEOUT)
    assert again.returncode == ref.exit_code, again.stderr
    assert tuple(again.stdout.splitlines()) == ref.lines[len(source.lines):]


def test_the_source_summary_reports_a_post_copy_migration(
        example: Callable[[str], Path], receiver: Receiver, tmp_path: Path) -> None:
    source, _ = post_copied(example("counter"), receiver, tmp_path, 1_000_000)
    assert source.summary is not None
    migration = source.summary["migration"]
    assert migration["mode"] == "post-copy"
    assert migration["rounds"] == 1
    assert migration["bytes_sent"] > 0 and migration["pages_sent"] > 0
    assert 0 < migration["downtime_ms"] <= migration["total_ms"]
    assert 0 <= migration["pages_pulled"] <= migration["pages_sent"]


def test_restore_migrates_a_stored_checkpoint_post_copy(
        example: Callable[[str], Path], receiver: Receiver, tmp_path: Path) -> None:
    elf = example("counter")
    ref = reference(elf)
    store = tmp_path / "local"
    first = subprocess.run([*RTCR, "run", str(elf), "--store", str(store), "--every", "3M"],
                           capture_output=True, text=True, timeout=TIMEOUT)
    assert first.returncode == 0, first.stderr
    source = migrate(elf, receiver.address, tmp_path, "--migrate-at", "4M", *POST_COPY,
                     command=("restore", str(store), "--checkpoint", "1"))
    there = receiver.wait()
    assert source.returncode == 0, source.stderr
    assert there.summary is not None
    assert there.summary["instructions"] == ref.instructions
    assert there.summary["memory_digest"] == ref.digest


# -- failures before the receiver started the component ------------------------------------

@pytest.mark.parametrize("cut_after", [10, HANDSHAKE_UPSTREAM + 10, HANDSHAKE_UPSTREAM + 2000])
def test_a_connection_cut_before_the_start_leaves_the_component_running_at_the_source(
        example: Callable[[str], Path], noisy: Path, receiver: Receiver, tmp_path: Path,
        cut_after: int) -> None:
    relay = Relay(receiver.address, cut_after=cut_after)
    source = migrate(noisy, relay.address, tmp_path, "--migrate-at", "20M", *POST_COPY)
    assert "the component keeps running here" in source.stderr
    assert_ran_here(reference(noisy), source)
    counter = example("counter")
    retried, there = post_copied(counter, receiver, tmp_path, 1_000_000)
    assert_continued(reference(counter), retried, there)


def test_a_wrong_secret_leaves_the_component_running_at_the_source(
        example: Callable[[str], Path], receiver: Receiver, tmp_path: Path) -> None:
    elf = example("counter")
    wrong = secret_file(tmp_path, "not the secret the receiver was given\n")
    source = migrate(elf, receiver.address, tmp_path, "--migrate-at", "1M", *POST_COPY,
                     secret=wrong)
    assert "the component keeps running here" in source.stderr
    assert_ran_here(reference(elf), source)
    assert "does not know the secret" in receiver.messages()


# -- failures after it started -------------------------------------------------------------

def split(noisy: Path, receiver: Receiver, relay: Relay, tmp_path: Path,
          *args: str) -> tuple[Finished, Finished]:
    source = migrate(noisy, relay.address, tmp_path, "--migrate-at", "20M", *POST_COPY, *args)
    return source, receiver.wait()


def test_a_connection_cut_after_the_start_stops_the_component_naming_checkpoint_and_page(
        noisy: Path, receiver: Receiver, tmp_path: Path) -> None:
    source, there = split(noisy, receiver, Relay(receiver.address, cut_after=INTO_THE_PUSH),
                          tmp_path)
    assert there.returncode == EXIT_PAGE_CORRUPT
    (line,) = after_start(there.stderr)
    assert "page obj:" in line and "of checkpoint 1 did not arrive intact" in line
    assert "the component was stopped" in line
    assert source.returncode == EXIT_HANDED_OVER
    assert "failed after the component started there" in source.stderr


def test_a_corrupted_page_stops_the_component_naming_checkpoint_and_page(
        noisy: Path, receiver: Receiver, tmp_path: Path) -> None:
    relay = Relay(receiver.address, flip_bit=8 * INTO_THE_PUSH + 3)
    source, there = split(noisy, receiver, relay, tmp_path)
    assert there.returncode == EXIT_PAGE_CORRUPT
    (line,) = after_start(there.stderr)
    assert "page obj:" in line and "of checkpoint 1 did not arrive intact" in line
    assert "failed its integrity check" in line
    assert source.returncode == EXIT_HANDED_OVER
    assert source.summary is not None
    assert source.summary["migration"]["handed_over"] is True


def test_a_receiver_killed_after_the_start_leaves_the_source_reporting_the_split(
        noisy: Path, receiver: Receiver, tmp_path: Path) -> None:
    relay = Relay(receiver.address)
    outcome: list[Finished] = []
    thread = threading.Thread(target=lambda: outcome.append(migrate(
        noisy, relay.address, tmp_path, "--migrate-at", "20M", *POST_COPY)))
    thread.start()
    relay.wait_upstream(INTO_THE_PUSH, timeout=TIMEOUT)
    receiver.kill()
    thread.join(timeout=TIMEOUT)
    (source,) = outcome
    assert source.returncode == EXIT_HANDED_OVER
    assert "failed after the component started there" in source.stderr


def test_after_a_failure_past_the_start_a_source_with_a_store_keeps_a_checkpoint_that_continues(
        noisy: Path, receiver: Receiver, tmp_path: Path) -> None:
    ref = reference(noisy)
    store = tmp_path / "source-store"
    source, _there = split(noisy, receiver, Relay(receiver.address, cut_after=INTO_THE_PUSH),
                           tmp_path, "--store", str(store))
    assert source.returncode == EXIT_HANDED_OVER
    assert "of this run's store" in source.stderr
    again = subprocess.run([*RTCR, "restore", str(store), "--summary-json",
                            str(tmp_path / "again.json")],
                           capture_output=True, text=True, timeout=TIMEOUT)
    assert again.returncode == ref.exit_code, again.stderr
    assert source.lines + tuple(again.stdout.splitlines()) == ref.lines
