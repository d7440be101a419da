"""What `rtcr run` and `rtcr restore` share: driving a session and reporting it.

Exit statuses beyond the component's own: 74 when a checkpoint could not be
written and the run stopped (`--on-store-error stop`), 128 + the signal's
number when SIGINT (130) or SIGTERM (143) ended the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from types import FrameType

import click
from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner

from rtcr.checkpoint import CheckpointStats, Outcome, Session, SessionResult, Strategy
from rtcr.core.quota import format_bytes
from rtcr.errors import StoreError
from rtcr.store import Retained, Retention

from ._intervals import interval_warning
from ._ranges import id_ranges

# What `--on-store-error` offers: end the run (exit 74), or run on without checkpoints.
STORE_ERROR_POLICIES = ("stop", "continue")
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def warn(text: str) -> None:
    """One line on stderr, marked as a warning (the run goes on)."""
    click.echo(f"rtcr: warning: {text}", err=True)


def warn_ineffective(*, checkpoints: str | None, concurrent: bool, granularity: int | None,
                     strategy: str | None) -> None:
    """Warn about options that change nothing in this run.

    ``checkpoints`` is why no checkpoint will be taken (None: some will).
    """
    if checkpoints is not None:
        for name, given in (("--concurrent", concurrent), ("--granularity", granularity)):
            if given:
                warn(f"{name} does nothing: {checkpoints}")
    if granularity is not None and strategy == Strategy.FULL.value:
        warn("--granularity does nothing with --strategy full (it copies every page)")


def newest_line(newest: int | None) -> str:
    return (f"newest committed checkpoint: {newest}" if newest is not None
            else "no checkpoint committed")


class RunSignals:
    """SIGINT and SIGTERM as a request to stop, SIGUSR1 as one to checkpoint.

    Installed when `rtcr run`/`restore` starts (a signal that arrives while
    the store opens or a checkpoint loads is honoured when the run begins)
    and kept until the process exits.

    SIGUSR1 takes a checkpoint between the next two time slices, one per
    signal (ignored when the run has no store to write to).

    The first SIGINT/SIGTERM only sets `received`: the run stops between two
    time slices, the checkpoint in progress (if any) finishes and commits,
    and the run ends with 128 + the signal's number. A second one ends the
    process at once, naming the newest committed checkpoint, as a kill -9
    would: nothing committed is ever removed, and the next writer cleans up
    what an unfinished commit left. (Raising an exception instead is not
    safe: the handler may run inside a callback of the emulated CPU, where
    the exception would be swallowed and the guest would "crash".)
    """

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self.session: Session | None = None  # set once the run is about to begin
        self._demands = 0
        for sig in _STOP_SIGNALS:
            signal.signal(sig, self._stop)
        signal.signal(signal.SIGUSR1, self._demand)

    def settle(self) -> None:
        """The run is over and about to be reported: ignore the signals from now on.

        Ignored, not handled: the interpreter resets Python handlers to the
        default when it shuts down, and a late signal must not turn a finished
        run into a killed one.
        """
        for sig in (*_STOP_SIGNALS, signal.SIGUSR1):
            signal.signal(sig, signal.SIG_IGN)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signal.Signals(signum)
            return
        newest = self.session.newest if self.session is not None else None
        # The main thread may be inside a write to stdout: flush if it can.
        with contextlib.suppress(RuntimeError, OSError, ValueError):
            sys.stdout.flush()
        os.write(2, f"rtcr: interrupted twice ({self.received.name} first): stopped at once; "
                    f"{newest_line(newest)}\n".encode())
        os._exit(128 + self.received.value)

    def _demand(self, signum: int, frame: FrameType | None) -> None:
        self._demands += 1

    def requested(self) -> bool:
        return self.received is not None

    def demanded(self) -> bool:
        """Whether a SIGUSR1 asks for a checkpoint (each one answers True once)."""
        if self._demands == 0 or self.received is not None:
            return False
        self._demands -= 1
        return True


def check_summary_path(summary_json: str | None) -> None:
    """Refuse an unwritable --summary-json before the run, not after it."""
    if summary_json is None:
        return
    path = Path(summary_json)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        why = "a directory"
    elif not parent.is_dir():
        why = f"its directory {parent} does not exist"
    else:
        refused = _refused_write(path)
        if refused is None:
            return
        why = f"not writable ({refused})"
    raise click.BadParameter(f"{summary_json}: {why}", param_hint="--summary-json")


def _refused_write(path: Path) -> str | None:
    """Why the file system refuses to write ``path`` (None: it does not), found by trying:
    permission bits do not tell (root, /proc, read-only and network mounts). A file
    there is opened for appending, unchanged; a new one is created and removed."""
    try:
        if path.exists():
            with open(path, "a"):
                pass
        else:
            with open(path, "x"):
                pass
            path.unlink()
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


class RetentionReport:
    """What the rolling window (--keep, --max-store-size) did during a run, for its end."""

    def __init__(self, retention: Retention) -> None:
        self.retention = retention
        self.removed: list[int] = []
        self.size: int | None = None
        self._oversized: set[int] = set()
        self._failed = False

    def __call__(self, retained: Retained | StoreError) -> None:
        if isinstance(retained, StoreError):
            if not self._failed:  # once: the next commits will likely fail the same way
                warn(f"could not remove old checkpoints: {retained}; the run goes on and "
                     "keeps them")
            self._failed = True
            return
        self.removed += retained.removed
        self.size = retained.size
        bound = self.retention.max_bytes
        if retained.oversized is not None and bound is not None \
                and retained.oversized not in self._oversized:
            self._oversized.add(retained.oversized)
            warn(f"the store takes {format_bytes(retained.size)} with only checkpoint "
                 f"{retained.oversized} (and the tagged ones) left, more than --max-store-size "
                 f"{format_bytes(bound)}: the newest checkpoint is always kept")

    def line(self) -> str | None:
        if not self.removed:
            return None
        size = "" if self.size is None else f" ({format_bytes(self.size)} on disk)"
        return f"rtcr: removed checkpoints {id_ranges(self.removed)} while running{size}"


def drive(session: Session, signals: RunSignals, *, every: int | None, every_ms: float | None,
          max_instructions: int | None, summary_json: str | None,
          on_store_error: str = "stop", final_checkpoint: bool = False,
          retention: Retention | None = None) -> None:
    """Run the session to its end, show progress on a terminal, exit with its status."""
    if (every or every_ms or final_checkpoint) and session.checkpointer is None:
        raise click.UsageError("--every/--every-ms/--checkpoint-on-exit need a store to "
                               "write checkpoints to (--store DIR)")
    if session.checkpointer is not None and (every or every_ms):
        warning = interval_warning(session, every, every_ms, max_instructions)
        if warning:
            warn(warning)

    def store_failed(error: StoreError) -> bool:
        if on_store_error != "continue":
            return False
        warn(f"{error}; the component continues WITHOUT checkpoints "
             f"({newest_line(session.newest)}; --on-store-error continue)")
        return True

    signals.session = session
    retained = RetentionReport(retention) if retention is not None else None
    began = session.machine.instructions  # a restore begins at its checkpoint's count
    result = _run(session, every, every_ms, max_instructions, signals, store_failed,
                  final_checkpoint, retention, retained)
    signals.settle()
    received = signals.received
    if received is not None and result.outcome is Outcome.STOPPED:
        result = replace(result, outcome=Outcome.INTERRUPTED, exit_code=128 + received.value,
                         diagnostic=f"{received.name} after {result.instructions:,} "
                                    "instructions")
    _finish(result, summary_json, every, every_ms, began,
            checkpointing=session.checkpointer is not None,
            retained=None if retained is None else retained.line())


def _run(session: Session, every: int | None, every_ms: float | None,
         max_instructions: int | None, signals: RunSignals,
         store_failed: Callable[[StoreError], bool], final_checkpoint: bool,
         retention: Retention | None, retained: RetentionReport | None) -> SessionResult:
    console = Console(stderr=True)
    run = partial(session.run, every=every, every_ms=every_ms,
                  max_instructions=max_instructions, stop_when=signals.requested,
                  checkpoint_now=signals.demanded if session.checkpointer else None,
                  on_store_error=store_failed,
                  final_checkpoint=final_checkpoint, retention=retention,
                  on_retained=retained)
    if not console.is_terminal:  # piped or redirected: stay quiet
        return run()
    name = session.component.name
    checkpoints = 0
    shown_at = 0.0

    def status_text() -> str:
        return (f"[bold]{name}[/bold]: {session.machine.instructions:,} instructions, "
                f"{checkpoints} checkpoints")

    spinner = Spinner("dots", status_text())
    # On one terminal the component's lines print above the status line; when
    # stdout goes elsewhere it is left alone.
    with Live(spinner, console=console, transient=True, refresh_per_second=10,
              redirect_stdout=sys.stdout.isatty(), redirect_stderr=False):

        def report(stats: CheckpointStats) -> None:
            nonlocal checkpoints
            checkpoints += 1
            console.print(f"[dim]checkpoint {stats.id}: {stats.instructions:,} instructions, "
                          f"{stats.dirty_pages} dirty pages, {stats.bytes:,} bytes, "
                          f"paused {stats.pause_us / 1000:.2f} ms[/dim]")

        def progress() -> None:
            nonlocal shown_at
            now = time.monotonic()
            if now - shown_at >= 0.1:
                shown_at = now
                spinner.update(text=status_text())

        return run(on_checkpoint=report, on_progress=progress)


def _finish(result: SessionResult, summary_json: str | None, every: int | None,
            every_ms: float | None, began: int, *, checkpointing: bool,
            retained: str | None) -> None:
    if summary_json:
        try:
            Path(summary_json).write_text(json.dumps(result.summary(), indent=2) + "\n")
        except OSError as exc:
            raise click.FileError(summary_json, exc.strerror or str(exc)) from exc
    if result.outcome is Outcome.INTERRUPTED:
        click.echo(f"rtcr: interrupted by {result.diagnostic}; "
                   f"{newest_line(result.newest)}", err=True)
    elif result.outcome is Outcome.STORE_FAILED:
        click.echo(f"rtcr: error: {result.diagnostic}; the run stopped "
                   f"({newest_line(result.newest)}; --on-store-error continue runs on "
                   "without checkpoints)", err=True)
    else:
        if result.outcome is not Outcome.EXITED:
            click.echo(f"rtcr: {result.outcome.value}: {result.diagnostic}", err=True)
        if result.checkpoints:
            click.echo(f"rtcr: {len(result.checkpoints)} checkpoints, newest "
                       f"{result.checkpoints[-1].id}", err=True)
        elif checkpointing and (every or every_ms):
            ran = (f"after {result.instructions:,} instructions" if not began else
                   f"{result.instructions - began:,} instructions after the checkpoint it "
                   f"restored (at instruction {began:,})")
            warn(f"the run ended {ran}, before its first checkpoint "
                 f"({f'--every {every:,}' if every else f'--every-ms {every_ms:g}'} "
                 "is longer than the run)")
    if retained is not None:
        click.echo(retained, err=True)
    sys.stdout.flush()
    sys.exit(result.exit_code)
