"""Options of `rtcr run` and `rtcr restore` that shape how checkpoints are stored."""

from __future__ import annotations

from typing import Any

import click

from rtcr.checkpoint.staging import DEFAULT_BUDGET
from rtcr.errors import InvalidArgument
from rtcr.store import Compression, Retention

from ._options import SIZE
from ._running import STORE_ERROR_POLICIES


class _CompressionType(click.ParamType):  # type: ignore[type-arg]
    name = "compression"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Compression:
        if isinstance(value, Compression):
            return value
        try:
            return Compression.parse(str(value))
        except InvalidArgument as exc:
            self.fail(str(exc), param, ctx)


def store_options(func: Any) -> Any:
    func = click.option("--on-store-error", type=click.Choice(STORE_ERROR_POLICIES),
                        default="stop", show_default=True,
                        help="When a checkpoint cannot be written (disk full, I/O error): "
                             "stop the run (exit status 74), or continue it without "
                             "checkpoints (with a warning).")(func)
    func = click.option("--staging-budget", type=SIZE, default=DEFAULT_BUDGET,
                        show_default=f"{DEFAULT_BUDGET >> 20}M",
                        help="Memory for the pages of checkpoints on their way to the store. "
                             "A checkpoint that does not fit waits for earlier ones to commit "
                             "(or is skipped with --concurrent-policy skip); one larger than "
                             "the whole budget is stored while the component stays "
                             "stopped.")(func)
    func = click.option("--compress", type=_CompressionType(), default="lz4",
                        show_default=True,
                        help="Compression of new pages: none, lz4 or zstd:LEVEL (-7..19).")(func)
    return func


def retention_options(func: Any) -> Any:
    func = click.option("--max-store-size", type=SIZE, default=None, metavar="SIZE",
                        help="With --store: keep only as many of the newest checkpoints as "
                             "fit in SIZE (e.g. 200M, 1G) of disk, checked after every "
                             "commit; the newest and the tagged ones are always kept (a "
                             "checkpoint larger than SIZE alone is kept, with a warning).")(func)
    func = click.option("--keep", type=click.IntRange(min=1), default=None, metavar="N",
                        help="With --store: keep only the newest N checkpoints while the run "
                             "goes on (a rolling window: older ones are removed after each "
                             "commit, as `rtcr gc --keep N --keep-tagged` would). Tagged "
                             "checkpoints are kept besides; every kept one restores.")(func)
    return func


def retention(keep: int | None, max_store_size: int | None, *, store: bool,
              migrating: bool) -> Retention | None:
    """The rolling window the options ask for (None: keep everything), refused before
    anything is created where it cannot apply."""
    if keep is None and max_store_size is None:
        return None
    if not store:
        raise click.UsageError("--keep/--max-store-size need a store to keep checkpoints in "
                               "(--store DIR)")
    if migrating:
        raise click.UsageError("--keep/--max-store-size keep a store's checkpoints; "
                               "--migrate-to writes none here")
    return Retention(keep=keep, max_bytes=max_store_size)
