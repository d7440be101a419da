"""What `rtcr run` and `rtcr restore` share: driving a session and reporting it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console

from rtcr.checkpoint import CheckpointStats, Outcome, Session, SessionResult


def drive(session: Session, *, every: int | None, every_ms: float | None,
          max_instructions: int | None, summary_json: str | None) -> None:
    """Run the session to its end, show progress on a terminal, exit with its status."""
    if (every or every_ms) and session.checkpointer is None:
        raise click.UsageError("--every/--every-ms need a store to write checkpoints to "
                               "(--store DIR)")
    console = Console(stderr=True)
    interactive = console.is_terminal

    def report(stats: CheckpointStats) -> None:
        if interactive:
            console.print(f"[dim]checkpoint {stats.id}: {stats.instructions:,} instructions, "
                          f"{stats.dirty_pages} dirty pages, {stats.bytes:,} bytes, "
                          f"paused {stats.pause_us / 1000:.2f} ms[/dim]")

    result = session.run(every=every, every_ms=every_ms, max_instructions=max_instructions,
                         on_checkpoint=report)
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
