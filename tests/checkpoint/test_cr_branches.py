"""Branches made by restores, and `restore --ram`: through the command line, on real runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cr_helpers import rtcr

Component = Callable[[str], Path]
RUN_LINES = ["[ram_hungry] warmed up d881", "[ram_hungry] got 16064 KiB"]


@pytest.fixture
def hungry(component: Component, tmp_path: Path) -> Path:
    """A store of `ram_hungry` run with the default 16 MiB quota, a checkpoint every 1M."""
    store = tmp_path / "store"
    done = rtcr("run", component("ram_hungry"), "--store", store, "--every", "1M")
    assert (done.returncode, done.stdout.splitlines()) == (0, RUN_LINES), done.stderr
    return store


def _tree(store: Path) -> list[dict[str, object]]:
    done = rtcr("inspect", store, "--tree", "--json")
    assert done.returncode == 0, done.stderr
    tree = json.loads(done.stdout)
    assert isinstance(tree, list)
    return tree


def test_a_restore_that_checkpoints_forks_a_branch_from_the_checkpoint_restored(
        hungry: Path) -> None:
    before = _tree(hungry)
    assert len(before) == 1
    done = rtcr("restore", hungry, "--checkpoint", "2", "--every", "1M")
    assert done.returncode == 0, done.stderr
    after = _tree(hungry)
    assert after[0]["ranges"] == before[0]["ranges"]
    assert (after[1]["fork"], after[1]["current"]) == (2, True)


def test_show_defaults_to_the_newest_checkpoint_of_the_current_branch(hungry: Path) -> None:
    assert rtcr("restore", hungry, "--checkpoint", "2", "--every", "1M").returncode == 0
    current = next(b for b in _tree(hungry) if b["current"])
    done = rtcr("show", hungry, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["checkpoint"]["id"] == current["tip"]


def test_restore_ram_grows_the_quota_and_the_component_gets_the_room(hungry: Path) -> None:
    done = rtcr("restore", hungry, "--checkpoint", "1", "--ram", "32M", "--every", "1M")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[ram_hungry] warmed up d881",
                                        "[ram_hungry] got 32448 KiB"]
    shown = json.loads(rtcr("show", hungry, "--json").stdout)
    assert shown["component"]["ram_quota"] == 32 << 20


def test_restore_ram_may_shrink_the_quota_down_to_what_is_in_use(hungry: Path) -> None:
    done = rtcr("restore", hungry, "--checkpoint", "1", "--ram", "4M")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[ram_hungry] got 3776 KiB"


def test_restore_ram_below_what_is_in_use_is_refused_with_one_line(hungry: Path) -> None:
    done = rtcr("restore", hungry, "--ram", "4K")
    assert (done.returncode, done.stdout) == (2, "")
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("rtcr: error: a RAM quota of 4 KiB is less than the ")
    assert "the component uses at checkpoint 8: give at least" in line


def test_restore_help_shows_ram_with_an_example() -> None:
    done = rtcr("restore", "--help")
    assert done.returncode == 0
    assert "--ram SIZE" in done.stdout and "rtcr restore ck --ram 64M" in done.stdout


@pytest.mark.parametrize("size", ["lots", "0", "-4M"])
def test_restore_ram_that_is_no_size_is_refused_with_the_option_named(hungry: Path,
                                                                      size: str) -> None:
    done = rtcr("restore", hungry, "--ram", size)
    assert (done.returncode, done.stdout) == (2, "")
    assert "--ram" in done.stderr and "Traceback" not in done.stderr
