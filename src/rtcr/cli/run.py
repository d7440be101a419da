"""`rtcr run`: run a component, optionally with periodic checkpoints."""

from __future__ import annotations

from pathlib import Path

import click

from rtcr.checkpoint import Session, Strategy
from rtcr.checkpoint.provenance import read_binary
from rtcr.migrate.source import MigrationPlan
from rtcr.store import Compression, Store

from ._migrate_options import drive_or_migrate, migrate_options
from ._options import (
    SIZE,
    concurrency,
    input_options,
    inputs,
    interval_options,
    rom_options,
    roms,
    tracking_options,
)
from ._running import RunSignals, check_summary_path, warn, warn_ineffective
from ._scenario import is_scenario, scenario_launches
from ._store_options import retention, retention_options, store_options


@click.command("run")
# No exists=True: the ELF loader reports a missing file (or a directory) as one line.
@click.argument("elf", metavar="ELF|SCENARIO", type=click.Path(path_type=Path))
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="[-- ARGS...]")
@click.option("--ram", type=SIZE, default="16M", show_default=True,
              help="RAM quota of the component.")
@click.option("--store", "store_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Checkpoint store directory (created if missing).")
@tracking_options
@store_options
@retention_options
@interval_options
@rom_options
@input_options
@migrate_options
def command(elf: Path, args: tuple[str, ...], ram: int, store_dir: Path | None,
            strategy: str | None, granularity: int | None, concurrent: bool, concurrent_policy: str,
            compress: Compression, staging_budget: int, on_store_error: str,
            keep: int | None, max_store_size: int | None,
            every: int | None, every_ms: float | None,
            max_instructions: int | None, checkpoint_on_exit: bool, summary_json: str | None,
            rom: tuple[str, ...], config: Path | None, env: tuple[str, ...],
            stdin: Path | None, migration: MigrationPlan | None) -> None:
    """Run the component ELF (or every component of SCENARIO) on the emulated machine.

    SCENARIO is an init-style config (`*.config`, Genode init's XML: <start>
    nodes with ram, caps, <binary>, <config>, <provides> and <route>); its
    quotas replace --ram, and every component's LOG is labelled with its
    start node's name (see docs/architecture.md, "Scenarios"); ARGS, --env
    and --stdin are for a single component.

    Its LOG lines go to stdout as "[name] text"; rtcr's own messages go to
    stderr; the exit status is the component's exit code (123: idle, every
    thread waits for a signal nothing can send; 124: stopped by
    --max-instructions, 125: deadlock, 139: crash, 74: a checkpoint could
    not be written, 130/143: stopped by SIGINT/SIGTERM).

    SIGINT (Ctrl-C) or SIGTERM stops the run once the checkpoint in progress
    is committed, and names the newest committed checkpoint; a second one
    stops at once (nothing committed is ever lost).

    With --store, incremental checkpoints are written to the store: every
    --every instructions or --every-ms milliseconds, on SIGUSR1 (kill -USR1
    PID takes one now) and, with --checkpoint-on-exit, where the run stops;
    continue any of them with `rtcr restore`. --keep N and --max-store-size
    SIZE make the store a rolling window, so a long run cannot fill the
    disk (tagged checkpoints are kept).

    ARGS after -- are the component's arguments: main(argc, argv, envp) gets
    its name as argv[0], then ARGS; --env K=V adds to envp and --stdin FILE|-
    gives it a stdin. These inputs are part of every checkpoint: a restored
    run sees the same ones and cannot be given others.

    \b
    Example:
      rtcr run counter.elf --store ck --every 1M --keep 3
      rtcr run counter.elf --store ck --every-ms 100 --max-store-size 200M
      rtcr run hello.elf --env NAME=Ada --stdin words.txt -- one two
    """
    signals = RunSignals()
    modules = roms(rom, config)
    # A scenario config starts several components; either way, refuse bad input
    # (a bad ELF, a bad config) before creating a store for it.
    scenario = scenario_launches(elf, modules) if is_scenario(elf) else None
    binary, image = read_binary(elf) if scenario is None else (None, None)
    given = inputs(args, env, stdin)
    if scenario is not None and (args or env or stdin is not None):
        raise click.UsageError("ARGS, --env and --stdin are for one component, not a "
                               "scenario (give each its <config>)")
    policy = concurrency(concurrent, concurrent_policy, strategy)
    check_summary_path(summary_json)
    window = retention(keep, max_store_size, store=store_dir is not None,
                       migrating=migration is not None)
    if store_dir is not None and not (every or every_ms or checkpoint_on_exit):
        warn("--store without --every, --every-ms or --checkpoint-on-exit: checkpoints "
             "only on SIGUSR1 (kill -USR1 <pid>)")
    warn_ineffective(checkpoints=None if store_dir is not None
                     else "no checkpoints without --store",
                     concurrent=concurrent, granularity=granularity, strategy=strategy)
    store = None
    if store_dir is not None:
        store = Store.open_or_create(store_dir)
        store.compression = compress
    tracking = Strategy(strategy or "ro-attach")
    if scenario is not None:
        session = Session.start_all(scenario[0], services=scenario[1], strategy=tracking,
                                    granularity=granularity or 1, store=store,
                                    concurrent=policy, staging_budget=staging_budget)
    else:
        assert image is not None
        session = Session.start(image, ram_quota=ram, strategy=tracking,
                                granularity=granularity or 1, store=store, concurrent=policy,
                                roms=modules, staging_budget=staging_budget, binary=binary,
                                inputs=given)
    drive_or_migrate(session, migration, signals, every=every, every_ms=every_ms,
                     max_instructions=max_instructions, summary_json=summary_json,
                     on_store_error=on_store_error, final_checkpoint=checkpoint_on_exit,
                     retention=window)
