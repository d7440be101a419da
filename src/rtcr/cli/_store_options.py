"""Options of `rtcr run` and `rtcr restore` that shape how checkpoints are stored."""

from __future__ import annotations

from typing import Any

import click

from rtcr.checkpoint.staging import DEFAULT_BUDGET
from rtcr.errors import InvalidArgument
from rtcr.store import Compression

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
