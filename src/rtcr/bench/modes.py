"""The checkpoint modes a benchmark matrix can contain.

A mode says how to start a session for a configuration. Every member of
:class:`rtcr.checkpoint.Strategy` is a mode of the same name automatically;
a mode that is not a plain strategy (say a copy-on-write ``concurrent``
checkpointer selected by a `Session.start` keyword) is registered with
:func:`register_mode`, after which ``rtcr bench --strategies NAME`` runs it
like any other matrix entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rtcr.checkpoint import Policy, Session, Strategy
from rtcr.machine.component import LogSink
from rtcr.store import Store

#: How a mode starts a session: (elf, ram_quota, granularity, store, log_sink) -> Session.
Starter = Callable[[Path, int, int, Store | None, LogSink], Session]


@dataclass(frozen=True)
class Mode:
    """One matrix entry: a named way of checkpointing."""

    name: str
    strategy: Strategy
    #: Does the tracking granularity change anything? (False: run at granularity 1 only.)
    granular: bool = True
    #: Extra keyword arguments for `Session.start`.
    session_kwargs: Mapping[str, Any] = field(default_factory=dict)
    #: Replaces `Session.start` entirely when given.
    starter: Starter | None = None

    def start(self, elf: Path, *, ram_quota: int, granularity: int, store: Store | None,
              log_sink: LogSink) -> Session:
        if self.starter is not None:
            return self.starter(elf, ram_quota, granularity, store, log_sink)
        return Session.start(elf, ram_quota=ram_quota, strategy=self.strategy,
                             granularity=granularity, store=store, log_sink=log_sink,
                             **dict(self.session_kwargs))


MODES: dict[str, Mode] = {}


def register_mode(mode: Mode) -> Mode:
    """Add (or replace) a mode of the benchmark matrix."""
    MODES[mode.name] = mode
    return mode


for _strategy in Strategy:
    register_mode(Mode(_strategy.value, _strategy,
                       granular=_strategy is not Strategy.FULL))

#: Copy-on-write checkpoints: pause to swap tracking banks, copy while the target runs.
CONCURRENT = register_mode(Mode("concurrent", Strategy.RO_ATTACH,
                                session_kwargs={"concurrent": Policy.WAIT}))

#: The no-checkpointing baseline: nothing tracked, nothing stored.
BASELINE = Mode("none", Strategy.FULL, granular=False)

#: Modes compared against each other in the report's ratio figures.
TRACKED = "ro-attach"
ACCESS_TRACKED = "detach"
COPY_ALL = "full"

__all__ = ["ACCESS_TRACKED", "BASELINE", "CONCURRENT", "COPY_ALL", "MODES", "TRACKED", "Mode",
           "Starter", "register_mode"]
