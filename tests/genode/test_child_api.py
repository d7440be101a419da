"""base/child.h: Child and Child_policy start a child from a ROM and page it.

The component (components/child_policy.cc) starts itself as the child
"worker"; its parent's policy pays the child's quota, routes its ROM
requests to the parent's services and handles its address-space faults.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from genode_support import Build, Capture, rtcr

from rtcr.checkpoint import Outcome, Session, SessionResult


@pytest.fixture(scope="module")
def tree(genode_component: Build) -> tuple[Capture, SessionResult]:
    elf = genode_component("child_policy")
    capture = Capture()
    session = Session.start(elf, ram_quota=8 << 20, log_sink=capture,
                            roms={"child_policy": elf.read_bytes(),
                                  "config": b'<config word="hello"/>'})
    return capture, session.run()


def test_the_policys_init_pays_the_childs_quota_before_it_runs(
        tree: tuple[Capture, SessionResult]) -> None:
    capture, _ = tree
    init = capture.labelled.index(
        "[child_policy] parent: policy init for PD of worker, quota now 1245184")
    assert init < capture.labelled.index("[worker] child: config hello")


def test_the_binary_comes_through_the_policys_rom_route(
        tree: tuple[Capture, SessionResult]) -> None:
    capture, _ = tree
    assert '[child_policy] parent: route ROM "child_policy" to the parent' in capture.labelled
    assert "[child_policy] parent: child active: 1 label element: config" in capture.labelled


def test_the_child_opens_its_parents_roms(tree: tuple[Capture, SessionResult]) -> None:
    capture, _ = tree
    assert "[worker] child: config hello" in capture.labelled


def test_a_fault_of_the_child_reaches_the_handler_the_policy_installed(
        tree: tuple[Capture, SessionResult]) -> None:
    capture, _ = tree
    at = capture.labelled.index("[child_policy] parent: worker faults at 0x28000000")
    assert capture.labelled[at + 1:at + 3] == ["[worker] child: read 0x77",
                                               "[child_policy] parent: child answered 0x78"]


def test_a_fault_on_a_child_stack_reaches_the_stack_area_handler(
        tree: tuple[Capture, SessionResult]) -> None:
    capture, _ = tree
    assert capture.labelled[-2:] == [
        "[child_policy] parent: stack-area fault: EXEC in the stack area: 1",
        "[child_policy] parent: services destroyed, 0 left, heap holds 0"]


def test_the_parent_exits_and_the_child_ends_with_it(tree: tuple[Capture, SessionResult]) -> None:
    _, result = tree
    assert (result.outcome, result.exit_code) == (Outcome.EXITED, 0)


def test_rtcr_test_serves_the_binary_and_linker_roms_a_package_lists(
        genode_component: Build, tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    runtime.write_text("runtime | ram: 8M | caps: 200 | binary: child_policy\n"
                       "+ fail | after_seconds: 20\n+ succeed | exit: 0\n"
                       "+ content\n  + rom | label: ld.lib.so\n  + rom | label: child_policy\n"
                       "+ config | word: hello\n-\n")
    proc = rtcr("test", str(runtime), "--binary", str(genode_component("child_policy")), "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("PASS child_policy: exit: exit 0")


@pytest.fixture(scope="module")
def exits(genode_component: Build) -> tuple[Capture, SessionResult]:
    elf = genode_component("child_exit")
    capture = Capture()
    session = Session.start(elf, ram_quota=8 << 20, log_sink=capture,
                            roms={"child_exit": elf.read_bytes()})
    return capture, session.run()


def test_a_childs_exit_value_reaches_its_policys_exit(
        exits: tuple[Capture, SessionResult]) -> None:
    capture, _ = exits
    assert "[child_exit] parent: leaver exited with 42" in capture.labelled


def test_the_default_policy_exit_logs_the_value_as_genode_does(
        exits: tuple[Capture, SessionResult]) -> None:
    capture, result = exits
    assert '[child_exit] child "other" exited with exit value 42' in capture.labelled
    assert (result.outcome, result.exit_code) == (Outcome.EXITED, 0)
