"""`rtcr serve`: receive migrated components and run them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rtcr.checkpoint import Outcome
from rtcr.migrate.receiver import Receiver, listen
from rtcr.migrate.wire import read_secret

from ._running import check_summary_path


def _tell(line: str) -> None:
    click.echo(line, err=True)


@click.command("serve")
@click.option("--listen", "address", required=True, metavar="HOST:PORT",
              help="Address to accept migrations on (port 0: any free port, printed).")
@click.option("--store", "store_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Store the migrated checkpoints are committed to (created if missing).")
@click.option("--secret-file", required=True, type=click.Path(path_type=Path),
              help="File holding the secret shared with the sources (16 bytes at least).")
@click.option("--once", is_flag=True,
              help="Take one migration, run it to its end, exit with its exit status.")
@click.option("--summary-json", type=click.Path(dir_okay=False),
              help="With --once: write the continued run's summary (and its final memory "
                   "digest) here.")
def command(address: str, store_dir: Path, secret_file: Path, once: bool,
            summary_json: str | None) -> None:
    """Receive migrations (`rtcr run --migrate-to`) into DIR and run their components.

    Their LOG lines go to stdout as `rtcr run` prints them. Peers that do
    not know the secret, speak another protocol version or send malformed
    frames are refused with one line on stderr; the next one is served.
    """
    check_summary_path(summary_json)
    secret = read_secret(secret_file)
    receiver = Receiver(listen(address), store_dir, secret, _tell)
    _tell(f"rtcr: serving migrations on {receiver.address} into {store_dir}")
    receiver.start(once=once)
    try:
        while True:
            landed = receiver.land()
            result = landed.result
            if result.outcome is not Outcome.EXITED:
                _tell(f"rtcr: {result.outcome.value}: {result.diagnostic}")
            if once:
                break
            _tell(f"rtcr: {landed.name} (from checkpoint {landed.checkpoint}) ended with exit "
                  f"status {result.exit_code}; serving on")
    finally:
        receiver.close()
    if summary_json:
        summary = result.summary()
        summary.update(checkpoint=landed.checkpoint, memory_digest=landed.memory_digest)
        Path(summary_json).write_text(json.dumps(summary, indent=2) + "\n")
    sys.stdout.flush()
    sys.exit(result.exit_code)
