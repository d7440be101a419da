"""`rtcr run SCENARIO.config`: the components a scenario config starts, built now."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from rtcr.checkpoint import Launch, Services
from rtcr.genode.scenario import is_scenario, launches, load_scenario

__all__ = ["is_scenario", "scenario_launches"]


def scenario_launches(path: Path, modules: dict[str, bytes]) -> tuple[list[Launch], Services]:
    """Check the config, find (or compile) each binary; one line on a mistake."""
    scenario = load_scenario(path)

    def show(text: str) -> None:
        click.echo(text.rstrip("\n"), err=True)

    with tempfile.TemporaryDirectory(prefix="rtcr-scenario-") as build:
        return launches(scenario, modules, Path(build), on_diagnostics=show)
