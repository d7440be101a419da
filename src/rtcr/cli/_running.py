"""What `rtcr run` and `rtcr restore` share: driving a session and reporting it."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner

from rtcr.checkpoint import CheckpointStats, Outcome, Session, SessionResult


def drive(session: Session, *, every: int | None, every_ms: float | None,
          max_instructions: int | None, summary_json: str | None) -> None:
    """Run the session to its end, show progress on a terminal, exit with its status."""
    if (every or every_ms) and session.checkpointer is None:
        raise click.UsageError("--every/--every-ms need a store to write checkpoints to "
                               "(--store DIR)")
    console = Console(stderr=True)
    if not console.is_terminal:  # piped or redirected: stay quiet
        _finish(session.run(every=every, every_ms=every_ms,
                            max_instructions=max_instructions), summary_json)
        return
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

        result = session.run(every=every, every_ms=every_ms,
                             max_instructions=max_instructions, on_checkpoint=report,
                             on_progress=progress)
    _finish(result, summary_json)


def _finish(result: SessionResult, summary_json: str | None) -> None:
    if summary_json:
        try:
            Path(summary_json).write_text(json.dumps(result.summary(), indent=2) + "\n")
        except OSError as exc:
            raise click.FileError(summary_json, exc.strerror or str(exc)) from exc
    if result.outcome is not Outcome.EXITED:
        click.echo(f"rtcr: {result.outcome.value}: {result.diagnostic}", err=True)
    if result.checkpoints:
        click.echo(f"rtcr: {len(result.checkpoints)} checkpoints, newest "
                   f"{result.checkpoints[-1].id}", err=True)
    sys.stdout.flush()
    sys.exit(result.exit_code)
