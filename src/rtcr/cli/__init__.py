"""The ``rtcr`` command.

Each sub-command lives in its own module of this package and exports a
click command named ``command``; they are discovered here so that adding a
command never means editing a shared list.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click

from rtcr.errors import RtcrError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rtcr")
def cli() -> None:
    """Real-time checkpoint/restore for Genode-style components.

    Compile a C component against the SDK (``rtcr cc``), run it on the
    emulated machine with periodic incremental checkpoints (``rtcr run``),
    look at the store (``rtcr inspect``), and continue any checkpoint in a
    fresh machine (``rtcr restore``).
    """


def _register_commands() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        command = getattr(module, "command", None)
        if isinstance(command, click.Command):
            cli.add_command(command)


_register_commands()


def main() -> None:
    """Entry point: rtcr errors become one line on stderr and exit status 2."""
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
    except RtcrError as exc:
        click.echo(f"rtcr: error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("rtcr: interrupted", err=True)
        sys.exit(130)
