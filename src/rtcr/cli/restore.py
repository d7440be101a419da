"""`rtcr restore`: continue a stored checkpoint in a fresh machine."""

from __future__ import annotations

from pathlib import Path

import click

from rtcr.checkpoint import Session, Strategy
from rtcr.store import Compression, Store

from ._options import concurrency, interval_options, tracking_options
from ._running import RunSignals, check_summary_path, drive, warn_ineffective
from ._store_options import store_options


@click.command("restore")
@click.argument("store_dir", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--checkpoint", "checkpoint_id", type=click.IntRange(min=1), default=None,
              help="Checkpoint id to restore (default: the newest).")
@tracking_options
@store_options
@interval_options
def command(store_dir: Path, checkpoint_id: int | None, strategy: str | None,
            granularity: int | None, concurrent: bool, concurrent_policy: str,
            compress: Compression, staging_budget: int, on_store_error: str,
            every: int | None, every_ms: float | None,
            max_instructions: int | None, checkpoint_on_exit: bool,
            summary_json: str | None) -> None:
    """Restore a checkpoint from the store DIR and continue it.

    The component continues exactly where it was: same memory, addresses,
    capability selectors, threads and virtual time. Its LOG output continues
    on stdout. New checkpoints (--every/--every-ms, SIGUSR1,
    --checkpoint-on-exit) join the same store, continuing the chain.
    """
    signals = RunSignals()
    store = Store.open(store_dir)
    store.compression = compress
    policy = concurrency(concurrent, concurrent_policy, strategy)
    check_summary_path(summary_json)
    # Every restore may checkpoint: on SIGUSR1 at least.
    warn_ineffective(checkpoints=None, concurrent=concurrent, granularity=granularity,
                     strategy=strategy)
    if policy is not None:
        strategy = Strategy.RO_ATTACH.value
    session = Session.resume(store, checkpoint_id,
                             strategy=Strategy(strategy) if strategy else None,
                             granularity=granularity, concurrent=policy,
                             checkpoint=not store.readonly, staging_budget=staging_budget)
    drive(session, signals, every=every, every_ms=every_ms, max_instructions=max_instructions,
          summary_json=summary_json, on_store_error=on_store_error,
          final_checkpoint=checkpoint_on_exit)
