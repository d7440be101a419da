"""The ``rtcr`` command.

Each sub-command lives in its own module of this package and exports a
click command named ``command``; they are discovered here so that adding a
command never means editing a shared list.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
import signal
import sys
from typing import NoReturn

import click

from rtcr.errors import RtcrError, StoreFull


class _Interrupted(Exception):
    """Ctrl-C before a run took over SIGINT (click would turn it into its Abort)."""


class _Commands(click.Group):
    """The group whose sub-commands are loaded when it first runs, not when it is imported.

    Loading them imports the whole runtime (unicorn, the store, ...), which
    takes a second on a loaded machine; done inside `main`, a Ctrl-C then
    ends as every other interrupt before a run began ("rtcr: interrupted",
    130), not as a traceback from the middle of an import.
    """

    _loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        try:
            self._add_commands()
        except KeyboardInterrupt as exc:
            raise _Interrupted from exc
        self._loaded = True

    def _add_commands(self) -> None:
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            command = getattr(module, "command", None)
            if isinstance(command, click.Command):
                self.add_command(command)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load()
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            raise _Interrupted from exc


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rtcr")
def cli() -> None:
    """Real-time checkpoint/restore for Genode-style components.

    Compile a C component against the SDK (``rtcr cc``), run it on the
    emulated machine with periodic incremental checkpoints (``rtcr run``),
    look at the store (``rtcr inspect``), and continue any checkpoint in a
    fresh machine (``rtcr restore``).
    """


def main() -> None:
    """Entry point: rtcr errors become one line on stderr and exit status 2 (74 for a
    full disk)."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("rtcr: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except StoreFull as exc:  # the disk, not the input: the status of a failed checkpoint
        from rtcr.checkpoint import EXIT_STORE  # (loaded with the command that failed)

        click.echo(f"rtcr: error: {exc}", err=True)
        sys.exit(EXIT_STORE)
    except RtcrError as exc:
        click.echo(f"rtcr: error: {exc}", err=True)
        sys.exit(2)
    except (KeyboardInterrupt, _Interrupted):
        _interrupted()


def _interrupted() -> NoReturn:
    """End a command Ctrl-C stopped before a run took over SIGINT: one line, exit 130.

    Another Ctrl-C is ignored from here on, and the process ends without the
    interpreter's shutdown, which (after an interrupt during start-up) could
    still end it by SIGINT instead of with the status (-2, not 130). Nothing
    is left to clean up: leaving the command closed its stores.
    """
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    click.echo("rtcr: interrupted", err=True)
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(130)
