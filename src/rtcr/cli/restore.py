"""`rtcr restore`: continue a stored checkpoint in a fresh machine."""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path

import click

from rtcr.checkpoint import PREFETCH_PAGES, Session, Strategy
from rtcr.checkpoint.provenance import IncompatibleCheckpoint
from rtcr.errors import InvalidArgument, StoreError, UnknownCheckpoint
from rtcr.migrate.source import MigrationPlan
from rtcr.store import Compression, Retention, Store
from rtcr.store.archive import copy_checkpoint, import_archive, is_archive

from ._migrate_options import drive_or_migrate, migrate_options
from ._options import SIZE, concurrency, interval_options, tracking_options
from ._progress import progress
from ._running import RunSignals, check_summary_path, warn, warn_ineffective
from ._store_options import retention, retention_options, store_options


@click.command("restore")
@click.argument("store_dir", metavar="DIR|FILE", type=click.Path(path_type=Path))
# Only to refuse them with a reason: a restored component keeps the inputs it started with.
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="")
@click.option("--checkpoint", "checkpoint_ref", default=None, metavar="ID|TAG",
              help="Checkpoint to restore, by id or tag (default: the newest).")
@click.option("--into", "into", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="NEW_STORE", help="Copy the checkpoint into this store (created if "
                                        "missing) and continue there: new checkpoints go to "
                                        "it, the source store stays as it is.")
@click.option("--lazy", is_flag=True, help="Start the component before its memory is back: "
                                          "each page is loaded (and verified) on its first "
                                          "access, the rest is prefetched between time "
                                          "slices. A page that fails verification stops the "
                                          "run with exit status 65.")
@click.option("--prefetch-pages", type=click.IntRange(min=0), default=None, metavar="N",
              help=f"With --lazy: pages loaded between two time slices (default "
                   f"{PREFETCH_PAGES}; 0: only on access).")
@click.option("--binary", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="NEW.elf",
              help="Restore onto this rebuilt ELF: its code and constants (read-only "
                   "segments) replace the checkpointed ones, data and heap stay as "
                   "checkpointed. Refused unless its entry point and every segment's "
                   "address, size and rights are the checkpointed binary's.")
@click.option("--force", is_flag=True,
              help="Restore although the checkpoint was taken of another binary, guest ABI "
                   "or CPU model than here (with a warning saying what differs).")
@click.option("--ram", type=SIZE, default=None, metavar="SIZE",
              help="Give the component this RAM quota (suffixes K, M, G) instead of the one "
                   "it had: more room to grow; refused if less than the RAM it uses.")
@tracking_options
@store_options
@retention_options
@interval_options
@migrate_options
def command(store_dir: Path, args: tuple[str, ...], checkpoint_ref: str | None,
            into: Path | None, lazy: bool,
            prefetch_pages: int | None, binary: Path | None, force: bool, ram: int | None,
            strategy: str | None,
            granularity: int | None, concurrent: bool, concurrent_policy: str,
            compress: Compression, staging_budget: int, on_store_error: str,
            keep: int | None, max_store_size: int | None,
            every: int | None, every_ms: float | None,
            max_instructions: int | None, checkpoint_on_exit: bool,
            summary_json: str | None,
            migration: MigrationPlan | None) -> None:
    """Restore a checkpoint from the store DIR and continue it.

    The component continues exactly where it was: same memory, addresses,
    capability selectors, threads and virtual time. Its LOG output continues
    on stdout. New checkpoints (--every/--every-ms, SIGUSR1,
    --checkpoint-on-exit) join the same store, continuing the chain, or the
    store named by --into.

    FILE is an archive written by `rtcr export`; it is checked whole before
    the component runs, and new checkpoints need --into.

    Every checkpoint records what it was taken of: the ELF (path, sha256,
    build-id, layout), the rtcr version, the guest-ABI version and the CPU
    model (`rtcr show` prints them). A restore refuses a checkpoint of
    another guest ABI or CPU model, or whose ELF was rebuilt since (the
    restored component would go on running the old code); --force restores
    anyway, --binary restores onto the rebuilt ELF. The component's inputs
    (arguments, environment, stdin) are part of the checkpoint and cannot
    be changed by a restore.

    \b
    Example:
      rtcr restore ck --checkpoint halfway --every 2M
      rtcr restore cp5.rtcr --into ck2
      rtcr restore ck --binary build/counter.elf
      rtcr restore ck --ram 64M --every 2M
    """
    signals = RunSignals()
    if args:
        raise click.UsageError(f"a restored component keeps the arguments, environment and "
                               f"stdin it was started with (they are part of the checkpoint); "
                               f"{' '.join(args)!r} cannot change them")
    window = retention(keep, max_store_size, store=True, migrating=migration is not None)
    if prefetch_pages is not None and not lazy:
        raise click.UsageError("--prefetch-pages applies to a lazy restore: add --lazy")
    if lazy and migration is not None:
        raise click.UsageError("--lazy cannot be combined with --migrate-to: a migration "
                               "sends every page at once, so restore eagerly")
    if store_dir.is_file() and into is None and (every or every_ms or checkpoint_on_exit):
        raise click.UsageError(f"new checkpoints of the archive {store_dir} need a store: "
                               "add --into NEW_STORE")
    with ExitStack() as stack:
        store, checkpoint_id = _source(stack, store_dir, checkpoint_ref, into)
        _continue(store, checkpoint_id, signals, lazy=lazy, binary=binary, force=force,
                  ram=ram,
                  prefetch_pages=PREFETCH_PAGES if prefetch_pages is None else prefetch_pages,
                  strategy=strategy,
                  granularity=granularity,
                  concurrent=concurrent, concurrent_policy=concurrent_policy,
                  compress=compress, staging_budget=staging_budget,
                  on_store_error=on_store_error, every=every, every_ms=every_ms,
                  retention=window,
                  max_instructions=max_instructions, checkpoint_on_exit=checkpoint_on_exit,
                  summary_json=summary_json, migration=migration)


def _source(stack: ExitStack, path: Path, ref: str | None, into: Path | None
            ) -> tuple[Store, int | None]:
    """The store to continue in and the checkpoint there (None: its newest)."""
    if path.is_file():
        if not is_archive(path):
            raise StoreError(f"{path}: is neither an rtcr store (a directory) nor a "
                             "checkpoint archive (rtcr export)")
        if ref is not None:
            raise click.UsageError("--checkpoint names a checkpoint of a store, not of "
                                   f"the archive {path}")
        if into is None:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(
                prefix="rtcr-restore-")))
            target = stack.enter_context(Store.create(scratch / "store"))
        else:
            target = stack.enter_context(Store.open_or_create(into))
        imported, _info = import_archive(target, path)
        return target, imported
    store = stack.enter_context(Store.open(path))
    try:
        named = None if ref is None else store.resolve(ref)
    except (UnknownCheckpoint, InvalidArgument) as exc:
        raise StoreError(f"--checkpoint {ref}: {exc}") from exc
    if into is None:
        return store, named
    target = stack.enter_context(Store.open_or_create(into))
    return target, copy_checkpoint(store, named if named is not None else _newest(store), target)


def _way_out(refused: IncompatibleCheckpoint) -> str:
    """What the user may do about a refused restore, as the end of its line."""
    if not refused.forceable:
        return ""
    if refused.rebuilt:
        return " — use --binary to restore onto a rebuilt binary or --force"
    return " — use --force to restore anyway"


def _newest(store: Store) -> int:
    newest = store.newest()
    if newest is None:
        raise StoreError(f"{store.path} holds no checkpoint to restore")
    return newest


def _continue(store: Store, checkpoint_id: int | None, signals: RunSignals, *,
              lazy: bool, binary: Path | None, force: bool, ram: int | None,
              prefetch_pages: int, strategy: str | None,
              granularity: int | None, concurrent: bool,
              concurrent_policy: str, compress: Compression, staging_budget: int,
              on_store_error: str, every: int | None, every_ms: float | None,
              retention: Retention | None,
              max_instructions: int | None, checkpoint_on_exit: bool,
              summary_json: str | None, migration: MigrationPlan | None) -> None:
    store.compression = compress
    policy = concurrency(concurrent, concurrent_policy, strategy)
    check_summary_path(summary_json)
    if store.readonly and (every or every_ms or checkpoint_on_exit or retention):
        raise StoreError(f"{store.path}: the store is read-only, so the restored run cannot "
                         "checkpoint into it (--every, --every-ms, --checkpoint-on-exit, "
                         "--keep, --max-store-size); --into NEW_STORE continues in a new one")
    # Every restore may checkpoint: on SIGUSR1 at least.
    warn_ineffective(checkpoints=None, concurrent=concurrent, granularity=granularity,
                     strategy=strategy)
    if policy is not None:
        strategy = Strategy.RO_ATTACH.value
    which = "the newest checkpoint" if checkpoint_id is None else f"checkpoint {checkpoint_id}"
    try:
        with progress(f"restoring {which}"):
            session = Session.resume(store, checkpoint_id,
                                     strategy=Strategy(strategy) if strategy else None,
                                     granularity=granularity, concurrent=policy,
                                     checkpoint=not store.readonly, staging_budget=staging_budget,
                                     lazy=lazy, prefetch_pages=prefetch_pages,
                                     binary=binary, force=force, ram_quota=ram)
    except IncompatibleCheckpoint as refused:
        raise IncompatibleCheckpoint(f"{refused}{_way_out(refused)}") from None
    if session.forced is not None:
        warn(f"restoring despite the difference (--force): {session.forced}")
    drive_or_migrate(session, migration, signals, every=every, every_ms=every_ms,
                     max_instructions=max_instructions, summary_json=summary_json,
                     on_store_error=on_store_error, final_checkpoint=checkpoint_on_exit,
                     retention=retention)
