"""`--migrate-to` and its options on `rtcr run` and `rtcr restore`, and driving a migration."""

from __future__ import annotations

import functools
import json
import signal
import sys
from pathlib import Path
from typing import Any

import click

from rtcr.checkpoint import Outcome, Session
from rtcr.checkpoint.staging import DEFAULT_BUDGET
from rtcr.migrate.source import (
    DEFAULT_DOWNTIME_MS,
    DEFAULT_MAX_ROUNDS,
    MigrationPlan,
    MigrationResult,
    Mode,
    migrate,
)
from rtcr.migrate.wire import read_secret
from rtcr.store import Retention

from ._options import COUNT, MILLIS
from ._running import RunSignals, drive

_OPTIONS = [
    click.option("--migrate-to", metavar="HOST:PORT", default=None,
                 help="Move the running component to the `rtcr serve` at HOST:PORT."),
    click.option("--migrate-at", type=COUNT, default=None,
                 help="Start migrating at this instruction count of the component "
                      "(default: at once)."),
    click.option("--migrate-mode", type=click.Choice([m.value for m in Mode]),
                 default=Mode.PRE_COPY.value, show_default=True,
                 help="pre-copy: send memory while the component runs, then what it wrote "
                      "meanwhile, in rounds; stop-and-copy: stop it and send everything; "
                      "post-copy: stop it, send its state, let it run at the receiver at "
                      "once and send its memory after it (pages it needs first)."),
    click.option("--downtime-ms", type=MILLIS, default=DEFAULT_DOWNTIME_MS, show_default=True,
                 help="Pre-copy stops the component once what is left to send would take no "
                      "longer than this at the measured rate."),
    click.option("--max-rounds", type=click.IntRange(min=1), default=DEFAULT_MAX_ROUNDS,
                 show_default=True,
                 help="Pre-copy rounds at most, the last (stopped) one included."),
    click.option("--auto-converge/--no-auto-converge", default=True, show_default=True,
                 help="Pre-copy throttles a component that writes faster than rounds go out "
                      "(it gets less of the host's time; its own clock, counting "
                      "instructions, does not notice), so that the rounds shrink and the "
                      "stopped last one is short."),
    click.option("--secret-file", type=click.Path(path_type=Path), default=None,
                 help="File holding the secret shared with the receiver (16 bytes at least)."),
]
_NAMES = ("migrate_to", "migrate_at", "migrate_mode", "downtime_ms", "max_rounds",
          "auto_converge", "secret_file")


def migrate_options(func: Any) -> Any:
    """Add the migration options; the command receives them as one ``migration`` argument
    (a `MigrationPlan`, or None without --migrate-to). The command's --staging-budget
    (store options), when it has one, bounds the pre-copy rounds in flight too."""

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name) for name in _NAMES}
        kwargs["migration"] = _plan(**given,
                                    staging_budget=kwargs.get("staging_budget", DEFAULT_BUDGET))
        return func(*args, **kwargs)

    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def _plan(migrate_to: str | None, migrate_at: int | None, migrate_mode: str,
          downtime_ms: float, max_rounds: int, auto_converge: bool,
          secret_file: Path | None, staging_budget: int) -> MigrationPlan | None:
    if migrate_to is None:
        if migrate_at is not None or secret_file is not None:
            raise click.UsageError("--migrate-at and --secret-file go with --migrate-to")
        return None
    if secret_file is None:
        raise click.UsageError("--migrate-to needs --secret-file (the secret shared with the "
                               "receiver)")
    return MigrationPlan(migrate_to, read_secret(secret_file), migrate_at or 0,
                         Mode(migrate_mode), downtime_ms, max_rounds, staging_budget,
                         auto_converge)


def _tell(line: str) -> None:
    click.echo(line, err=True)


def drive_migration(session: Session, plan: MigrationPlan, signals: RunSignals, *,
                    every: int | None,
                    every_ms: float | None, final_checkpoint: bool,
                    max_instructions: int | None, summary_json: str | None) -> None:
    """Run the session, migrate it as ``plan`` says, exit: 0 once it runs at the receiver,
    else with the component's status after it ran on here."""
    if every or every_ms or final_checkpoint:
        raise click.UsageError("--migrate-to takes the checkpoints itself; it does not combine "
                               "with --every/--every-ms/--checkpoint-on-exit")
    outcome = migrate(session, plan, max_instructions=max_instructions, tell=_tell,
                      interrupted=signals.requested)
    signals.settle()
    _finish(session, plan, outcome, summary_json, signals.received)


def _finish(session: Session, plan: MigrationPlan, outcome: MigrationResult,
            summary_json: str | None, interrupted: signal.Signals | None) -> None:
    run, stats = outcome.run, outcome.stats
    summary = run.summary()
    if stats is not None:
        summary["migration"] = stats.as_json()
    if outcome.migrated:
        summary.update(outcome="migrated", exit_code=0)
    if summary_json:
        try:
            Path(summary_json).write_text(json.dumps(summary, indent=2) + "\n")
        except OSError as exc:
            raise click.FileError(summary_json, exc.strerror or str(exc)) from exc
    name = session.component.name
    if outcome.migrated and stats is not None:
        _tell(f"rtcr: {name} migrated to {plan.to} (checkpoint {stats.checkpoint} there) "
              f"at instruction {run.instructions} after {stats.rounds} "
              f"round{'s' if stats.rounds != 1 else ''}, "
              f"downtime {stats.downtime_ms:.1f} ms"
              + (f", throttled up to {stats.throttle_percent} %" if stats.throttle_percent
                 else ""))
        sys.stdout.flush()
        sys.exit(0)
    if stats is not None and stats.handed_over:  # said already, by `migrate`
        sys.stdout.flush()
        sys.exit(run.exit_code)
    if interrupted is not None:
        _tell(f"rtcr: stopped by {interrupted.name} at instruction {run.instructions}")
        sys.stdout.flush()
        sys.exit(128 + interrupted.value)
    if stats is None:
        _tell(f"rtcr: {name} ended before instruction {plan.at}; it was not migrated")
    if run.outcome is not Outcome.EXITED:
        _tell(f"rtcr: {run.outcome.value}: {run.diagnostic}")
    sys.stdout.flush()
    sys.exit(run.exit_code)


def drive_or_migrate(session: Session, migration: MigrationPlan | None, signals: RunSignals, *,
                     every: int | None, every_ms: float | None, max_instructions: int | None,
                     summary_json: str | None, on_store_error: str,
                     final_checkpoint: bool, retention: Retention | None = None) -> None:
    """Run the session of `rtcr run`/`restore` to its end, migrating it if asked to."""
    if migration is not None:
        assert retention is None, "refused with the options (_store_options.retention)"
        drive_migration(session, migration, signals, every=every, every_ms=every_ms,
                        final_checkpoint=final_checkpoint,
                        max_instructions=max_instructions, summary_json=summary_json)
        return
    drive(session, signals, every=every, every_ms=every_ms, max_instructions=max_instructions,
          summary_json=summary_json, on_store_error=on_store_error,
          final_checkpoint=final_checkpoint, retention=retention)
