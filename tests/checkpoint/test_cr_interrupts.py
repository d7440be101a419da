"""SIGINT and SIGTERM during checkpointing `rtcr run` and `rtcr restore --every`.

A signal is a request: the checkpoint in progress commits, the commit worker
finishes, the run ends with 128 + the signal's number and one line naming
the newest committed checkpoint. A second signal stops at once. Either way
every committed checkpoint stays, verifies and restores to the
uninterrupted run's end.
"""

from __future__ import annotations

import array
import fcntl
import random
import re
import signal
import subprocess
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cr_helpers import ROOT, RTCR, Outcome, assert_all_restore, committed, reference, rtcr

from rtcr.store import Store

Example = Callable[[str], Path]
NAME = "kvstore"
EVERY = 300_000
NEWEST = re.compile(r"newest committed checkpoint: (\d+)|no checkpoint committed")


@dataclass(frozen=True)
class Interrupted:
    code: int
    stderr: str
    signals: list[signal.Signals]  # what was sent (empty: the run ended first)
    before: list[int]  # the store's checkpoints when the command started


def interrupt(args: list[str], store_dir: Path, rng: random.Random, signals: list[signal.Signals],
              spread: float) -> Interrupted:
    """Start `rtcr ARGS`; once it committed a checkpoint of its own, wait a random while
    (up to ``spread`` s) and send ``signals`` (the second one soon after the first)."""
    before = committed(store_dir)
    proc = subprocess.Popen([*RTCR, *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while (proc.poll() is None and len(committed(store_dir)) <= len(before)
           and time.monotonic() < deadline):
        time.sleep(0.005)
    time.sleep(rng.uniform(0.0, spread))
    sent: list[signal.Signals] = []
    for sig in signals:
        if proc.poll() is not None:
            break
        proc.send_signal(sig)
        sent.append(sig)
        time.sleep(rng.uniform(0.0, 0.02))
    _, err = proc.communicate(timeout=120)
    return Interrupted(proc.returncode, err, sent, before)


def check_interrupted(done: Interrupted, store_dir: Path, ref: Outcome) -> list[int]:
    """The verdict of one interrupted command; returns the checkpoints it committed."""
    assert "Traceback" not in done.stderr, done.stderr
    ids = committed(store_dir)
    if not done.signals or "rtcr: interrupted" not in done.stderr:
        # the component ended before the signal (or while its last checkpoint committed)
        assert done.code == ref.exit_code, done.stderr
        if len(ids) > len(done.before):
            assert done.stderr.strip().endswith(f"newest {ids[-1]}"), done.stderr
        else:  # restored close to the end: no interval passed
            assert "before its first checkpoint" in done.stderr, done.stderr
    else:
        # Two signals pending at once are handled in the order of their numbers.
        assert done.code in {128 + sig.value for sig in done.signals}, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("rtcr: interrupted"), lines[0]
        named = NEWEST.search(lines[0])
        assert named, lines[0]
        newest = int(named.group(1)) if named.group(1) else None
        if len(done.signals) == 1:  # the checkpoint in progress committed before the exit
            assert newest == (ids[-1] if ids else None), (lines[0], ids)
        else:  # stopped at once: a checkpoint on its way may still have committed
            assert newest is None or newest in ids, (lines[0], ids)
    with Store.open(store_dir) as store:
        report = store.verify()
        assert report.ok, (report.corrupt, report.store_errors)
    assert ids[:len(done.before)] == done.before, "an interrupt removed a committed checkpoint"
    return ids[len(done.before):]


def one_round(mode: str, elf: Path, base: Path, work: Path, rng: random.Random,
              ref: Outcome, spread: float) -> tuple[bool, Path, list[int]]:
    """One interrupted command of ``mode``; (whether a signal landed, store, new ids)."""
    sig = rng.choice([signal.SIGINT, signal.SIGTERM])
    signals = [sig, signal.SIGINT] if rng.random() < 0.25 else [sig]
    if mode == "restore":
        store_dir = base
        # From the first half of the run, so that most signals land before its end
        # however slowly a loaded machine starts the restore.
        early = committed(base)
        start = rng.choice(early[:max(1, len(early) // 2)])
        args = ["restore", str(base), "--checkpoint", str(start), "--every", str(EVERY)]
    else:
        store_dir = work
        args = ["run", str(elf), "--store", str(work), "--every", str(EVERY)]
        if mode == "concurrent":
            args.append("--concurrent")
    done = interrupt(args, store_dir, rng, signals, spread)
    return bool(done.signals), store_dir, check_interrupted(done, store_dir, ref)


@pytest.fixture(scope="module")
def base_store(example: Example, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the uninterrupted run's checkpoints, for restores to continue from."""
    store = tmp_path_factory.mktemp("interrupts") / "base"
    done = rtcr("run", example(NAME), "--store", store, "--every", EVERY * 10)
    assert done.returncode == reference(example(NAME)).exit_code, done.stderr
    return store


MODES = ("run", "restore", "concurrent")


@pytest.mark.parametrize("rounds", [pytest.param(10, id="10-rounds"),
                                    pytest.param(30, id="30-rounds",
                                                 marks=pytest.mark.slow)])
@pytest.mark.parametrize("mode", MODES)
def test_signals_at_random_points_keep_every_committed_checkpoint_restorable(
        example: Example, base_store: Path, tmp_path: Path, mode: str, rounds: int) -> None:
    """`mode`: `rtcr run --every`, `rtcr restore --every` or `rtcr run --every --concurrent`."""
    elf = example(NAME)
    ref = reference(elf)
    rng = random.Random(1010 + rounds + 7 * MODES.index(mode))
    landed = 0
    for n in range(rounds):
        # A restore continues only the rest of the run (a few tenths of a second of
        # kvstore): its signals come sooner, or most would arrive after its end.
        hit, store_dir, new = one_round(mode, elf, base_store, tmp_path / f"s{n}", rng, ref,
                                        spread=0.1 if mode == "restore" else 0.4)
        landed += hit
        with Store.open(store_dir) as store:
            assert_all_restore(store, ref, new)
    # A loaded machine runs the component to its end before some signals; a third landing
    # still shows that the rounds interrupt what they are meant to.
    assert landed >= rounds // 3, "most signals arrived after the run had ended"


def test_sigint_stops_a_run_with_130_naming_the_newest_committed_checkpoint(
        example: Example, tmp_path: Path) -> None:
    store = tmp_path / "store"
    done = interrupt(["run", str(example(NAME)), "--store", str(store), "--every", str(EVERY)],
                     store, random.Random(1), [signal.SIGINT], 0.0)
    assert done.signals, "the run ended before the signal"
    assert done.code == 130
    assert done.stderr.strip() == (f"rtcr: interrupted by SIGINT after "
                                   f"{_instructions(done.stderr)} instructions; newest "
                                   f"committed checkpoint: {committed(store)[-1]}")


def test_sigterm_stops_a_restored_run_with_143_naming_the_newest_committed_checkpoint(
        example: Example, base_store: Path, tmp_path: Path) -> None:
    done = interrupt(["restore", str(base_store), "--checkpoint", "1", "--every", str(EVERY)],
                     base_store, random.Random(2), [signal.SIGTERM], 0.0)
    assert done.signals, "the run ended before the signal"
    assert done.code == 143
    newest = committed(base_store)[-1]
    assert newest > done.before[-1]
    assert done.stderr.strip().endswith(f"; newest committed checkpoint: {newest}")


def _instructions(stderr: str) -> str:
    found = re.search(r"after ([\d,]+) instructions", stderr)
    assert found, stderr
    return found.group(1)


# A real SIGINT, sent by the process to itself the moment it starts importing
# the `run` command's module: the interrupt lands in the middle of rtcr's
# start-up (which takes a second on a loaded machine), before any run began.
_INTERRUPTED_WHILE_LOADING = """
import importlib.abc, os, signal, sys

class InterruptAtRun(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "rtcr.cli.run":
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, InterruptAtRun())
sys.argv = ["rtcr", *sys.argv[1:]]
from rtcr.cli import main
main()
"""


def test_sigint_while_rtcr_loads_its_commands_exits_130_in_one_line(
        example: Example, tmp_path: Path) -> None:
    done = subprocess.run([RTCR[0], "-c", _INTERRUPTED_WHILE_LOADING, "run",
                           str(example(NAME)), "--store", str(tmp_path / "store")],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert (done.returncode, done.stderr) == (130, "rtcr: interrupted\n")
    assert not (tmp_path / "store").exists()


def _unicorn_loaded(pid: int) -> bool:
    """Whether rtcr's start-up got as far as loading the emulator (past click and Python's
    own start, where an interrupt is Python's traceback, not rtcr's)."""
    try:
        return "libunicorn" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def test_sigint_once_or_twice_during_start_up_always_exits_130_in_one_line(
        workload: Example) -> None:
    rng = random.Random(130)
    loading = 0
    for _ in range(12):
        proc = subprocess.Popen([*RTCR, "run", str(workload("spin"))], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not _unicorn_loaded(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGINT)
        if rng.random() < 0.3:  # the impatient second Ctrl-C
            time.sleep(rng.uniform(0.0, 0.03))
            proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err
        assert len(err.splitlines()) == 1 and err.startswith("rtcr: interrupted"), err
        loading += err == "rtcr: interrupted\n"
    assert loading, "every signal came after the start-up"


def _blocked_writing(proc: subprocess.Popen[bytes]) -> bool:
    """Whether ``proc`` filled its stdout pipe (never read here) and waits in a write:
    the pipe holds bytes and no more arrive."""
    assert proc.stdout is not None
    held = array.array("i", [0])
    before = -1
    while proc.poll() is None:
        fcntl.ioctl(proc.stdout.fileno(), termios.FIONREAD, held)
        if held[0] and held[0] == before:
            return True
        before = held[0]
        time.sleep(0.3)
    return False


def test_sigint_while_the_stdout_pipe_is_full_keeps_every_printed_line_whole(
        workload: Example) -> None:
    """The write the signal interrupts has put part of a line into the pipe: the rest of
    that line, and nothing else, follows it."""
    elf = workload("long_lines")
    want = [f"[long_lines] {line}" for line in reference(elf).lines]
    proc = subprocess.Popen([*RTCR, "run", str(elf)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert _blocked_writing(proc), "the run ended before its output filled the pipe"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    lines = out.decode().splitlines()  # UTF-8 throughout: no line cut inside a character
    assert lines and lines == want[:len(lines)]
