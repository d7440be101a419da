"""Progress of a long command: a bar on stderr while it works, and only on a terminal.

A bar drawn into a pipe or a file would be noise in what a script reads
(and in what a test compares), so when stderr is not a terminal nothing is
drawn at all; the bar is transient, so a terminal keeps only what the
command prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

#: Called as the work goes on: ``advance(steps)`` and, optionally, what it does now.
Advance = Callable[..., None]


def _nothing(steps: int = 1, what: str | None = None) -> None:
    """Advance off a terminal: nothing is drawn."""


@contextmanager
def progress(what: str, total: int | None = None) -> Iterator[Advance]:
    """A bar titled ``what`` counting to ``total`` (None: a spinner, the end is unknown)."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield _nothing
        return
    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn()]
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(what, total=total)

        def advance(steps: int = 1, what: str | None = None) -> None:
            if what is None:
                bar.update(task, advance=steps)
            else:
                bar.update(task, advance=steps, description=what)

        yield advance
