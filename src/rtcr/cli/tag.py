"""``rtcr tag``: name checkpoints, list the names, remove one."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rtcr.store import Store

from ._checkpoint_arg import resolve_checkpoint


@click.command("tag")
@click.argument("directory", metavar="STORE", type=click.Path(path_type=Path))
@click.argument("name", metavar="[NAME]", required=False)
@click.argument("checkpoint", metavar="[ID|TAG]", required=False)
@click.option("--delete", is_flag=True, help="Remove the tag NAME (the checkpoint stays).")
@click.option("--json", "as_json", is_flag=True, help="List the tags as a JSON object.")
def command(directory: Path, name: str | None, checkpoint: str | None, delete: bool,
            as_json: bool) -> None:
    """Name checkpoint ID of STORE NAME (default: the newest), or list the tags.

    A tag names one checkpoint; setting it again moves it. Every command
    that takes a checkpoint takes a tag too (restore --checkpoint NAME,
    show, diff, export). When gc removes a checkpoint, its tags go with it
    (gc --keep-tagged keeps tagged checkpoints).

    \b
    Example:
      rtcr tag ck before-upgrade 12
      rtcr tag ck                  # list
      rtcr tag ck before-upgrade --delete
    """
    if name is None:
        if delete:
            raise click.UsageError("--delete needs the NAME of the tag")
        with Store.open(directory) as store:
            tags = store.tags()
        if as_json:
            click.echo(json.dumps(tags, indent=2))
        else:
            for tag, cid in tags.items():
                click.echo(f"{tag}\t{cid}")
        return
    with Store.open(directory) as store:
        if delete:
            if checkpoint is not None:
                raise click.UsageError("--delete takes no checkpoint")
            store.untag(name)
            click.echo(f"rtcr: removed tag {name}", err=True)
            return
        cid = resolve_checkpoint(store, directory, checkpoint)
        store.tag(name, cid)
    click.echo(f"rtcr: tagged checkpoint {cid} {name}", err=True)
