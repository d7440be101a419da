"""Checkpoints of whole component trees: one image, one pause, every component.

The tree is components/tree_pager.cc: a parent that pages its child
(READ, WRITE and EXEC faults on windows of the parent's RAM, resolved
after a stretch of work while the child waits), with quota transfers,
delegated dataspaces and signal contexts, a second child thread, and an
exit value reported through an exit signal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from genode_support import Build, Capture, TreeRun, assert_restores_exactly, rtcr

from rtcr.checkpoint import Outcome, Session, Strategy
from rtcr.checkpoint.concurrent import Policy
from rtcr.checkpoint.image import object_key
from rtcr.machine import FaultWait
from rtcr.store import Store

CHILD_RAM = 1 << 20  # what the parent transfers to its child (tree_pager.cc)


def _run(elf: Path, store: Store | None, *, every: int | None = None,
         strategy: Strategy = Strategy.RO_ATTACH, concurrent: Policy | None = None) -> TreeRun:
    capture = Capture()
    session = Session.start(elf, ram_quota=8 << 20, roms={elf.stem: elf.read_bytes()},
                            store=store, log_sink=capture, strategy=strategy,
                            concurrent=concurrent)
    return TreeRun(session, capture, session.run(every=every))


def _resume(store: Store, checkpoint: int) -> tuple[Session, Capture]:
    capture = Capture()
    return Session.resume(store, checkpoint, log_sink=capture, checkpoint=False), capture


@pytest.mark.parametrize(("strategy", "concurrent"), [
    (Strategy.FULL, None), (Strategy.DETACH, None), (Strategy.RO_ATTACH, None),
    (Strategy.RO_ATTACH, Policy.WAIT)], ids=["full", "detach", "ro-attach", "concurrent"])
def test_a_parent_paging_its_child_restores_byte_exact_from_every_checkpoint(
        genode_component: Build, tmp_path: Path, strategy: Strategy,
        concurrent: Policy | None) -> None:
    store = Store.create(tmp_path / "store")
    reference = _run(genode_component("tree_pager"), store, every=29989, strategy=strategy,
                     concurrent=concurrent)
    assert (reference.result.outcome, reference.result.exit_code) == (Outcome.EXITED, 0)
    assert reference.lines[-1] == "[tree_pager] parent: child exited with 42 after 9 faults"
    assert len(reference.ids) >= 10
    for checkpoint in reference.ids:
        assert_restores_exactly(reference, store, checkpoint)


def test_checkpoints_do_not_change_what_the_tree_does(genode_component: Build,
                                                      tmp_path: Path) -> None:
    elf = genode_component("tree_pager")
    plain = _run(elf, None)
    checkpointed = _run(elf, Store.create(tmp_path / "store"), every=29989)
    assert checkpointed.lines == plain.lines
    assert checkpointed.result.instructions == plain.result.instructions
    assert checkpointed.digest == plain.digest


def _waiting_on_parent(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The child's faulters queued on its address space (whose handler is the parent's)."""
    child_pd = manifest["children"][0]["component"]["pd"]
    space = next(o["oid"] for o in manifest["objects"]
                 if o["kind"] == "rm" and o["pd"] == child_pd and not o["stack_area"])
    return [f for f in manifest["faulters"] if f["component"] == 1 and f["map"] == space]


def test_a_child_waiting_for_its_parent_to_resolve_a_fault_still_waits_after_restore(
        genode_component: Build, tmp_path: Path) -> None:
    store = Store.create(tmp_path / "store")
    reference = _run(genode_component("tree_pager"), store, every=29989)
    waiting = [c for c in reference.ids if _waiting_on_parent(store.load(c).manifest)]
    assert len(waiting) >= 3
    for checkpoint in waiting:
        session, _ = _resume(store, checkpoint)
        child = session.machine.components[1]
        blocker = child.threads[1].blocker
        assert isinstance(blocker, FaultWait), checkpoint
        assert blocker.region_map is child.pd.address_space, checkpoint
        assert_restores_exactly(reference, store, checkpoint)


def test_the_image_holds_the_child_its_quota_its_maps_handler_and_one_copy_of_shared_ram(
        genode_component: Build, tmp_path: Path) -> None:
    store = Store.create(tmp_path / "store")
    reference = _run(genode_component("tree_pager"), store, every=29989)
    manifest = store.load(reference.ids[len(reference.ids) // 2]).manifest
    (child,) = manifest["children"]
    assert (child["component"]["name"], child["component"]["creator"]) == ("paged", 0)
    assert {t["tid"] for t in child["threads"]} == {1, 2}
    objects = {o["oid"]: o for o in manifest["objects"]}
    pd = objects[child["component"]["pd"]]
    assert pd["kind"] == "pd" and pd["ram_quota"] >= CHILD_RAM and pd["ref"] == -1
    space = next(o for o in manifest["objects"]
                 if o["kind"] == "rm" and o["pd"] == pd["oid"] and not o["stack_area"])
    handler = objects[space["handler"]]
    assert handler["kind"] == "signal" and handler["pd"] is None  # a context of the parent's
    # each window the parent delegated: one object, named in both capability spaces
    parents = {oid for _, oid, _ in manifest["selectors"]}
    childs = {oid for _, oid, _ in pd["selectors"]}
    windows = [o for o in manifest["objects"] if o["kind"] == "ram" and o["pd"] is None
               and o["size"] == 2 * 4096 and o["oid"] in parents & childs]
    assert len(windows) == 3
    attached = {r[3] for r in space["regions"]}
    assert attached & {w["oid"] for w in windows}
    assert child["component"]["exit_signal"] in objects


def test_incremental_checkpoints_store_only_the_childs_ram_it_wrote_since_the_last(
        genode_component: Build, tmp_path: Path) -> None:
    store = Store.create(tmp_path / "store")
    reference = _run(genode_component("tree_pager"), store, every=29989)
    first = store.load(reference.ids[0]).manifest
    child_pd = first["children"][0]["component"]["pd"]
    owned = [o for o in first["objects"] if o["kind"] == "ram" and o["pd"] == child_pd]
    pages = sum(o["size"] // 4096 for o in owned)
    later = [store.load(c) for c in reference.ids[1:]]
    stored = sum(len(c.stored(object_key(o["oid"]))) for c in later for o in owned
                 if object_key(o["oid"]) in c.objects())  # a thread's stack goes with it
    assert 0 < stored < pages * len(later)


def test_children_that_exited_restore_with_their_exit_values(genode_component: Build,
                                                             tmp_path: Path) -> None:
    store = Store.create(tmp_path / "store")
    reference = _run(genode_component("child_exit"), store, every=997)
    exited = [c for c in reference.ids
              if any(e["component"]["exit_code"] == 42
                     for e in store.load(c).manifest["children"])]
    assert exited
    for checkpoint in reference.ids:
        assert_restores_exactly(reference, store, checkpoint)


def test_rtcr_test_restores_the_tree_from_every_checkpoint_and_each_passes(
        genode_component: Build, tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    runtime.write_text("runtime | ram: 8M | caps: 200 | binary: tree_pager\n"
                       "+ fail    | after_seconds: 20\n"
                       "+ succeed | exit: 0\n"
                       "  : *parent: fault 9: EXEC at 0x18021000 (window 2)\n"
                       "  : *parent: child exited with 42 after 9 faults\n"
                       "+ fail    | : *Error:\n"
                       "+ content\n  + rom | label: tree_pager\n+ config\n-\n")
    proc = rtcr("test", str(runtime), "--binary", str(genode_component("tree_pager")),
                "--every", "61k", "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("PASS tree_pager: exit:")
    restored = int(proc.stdout.split("restored from each of ")[1].split()[0])
    assert restored >= 10


def test_rtcr_show_prints_the_tree_and_each_childs_threads_and_maps(genode_component: Build,
                                                                    tmp_path: Path) -> None:
    store = Store.create(tmp_path / "store")
    reference = _run(genode_component("tree_pager"), store, every=29989)
    checkpoint = next(c for c in reference.ids if _waiting_on_parent(store.load(c).manifest))
    store.close()
    proc = rtcr("show", str(tmp_path / "store"), str(checkpoint))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    tree = lines.index("component tree:")
    assert lines[tree + 1] == "  tree_pager (the target)"
    assert lines[tree + 2].startswith("    paged: running, PD ")
    main = lines[lines.index("threads of paged:") + 1]
    assert main.startswith("  1 main: blocked, waits for a fault to be resolved;")
    assert any(line.startswith("fault queued: thread 1 of paged ") for line in lines)
    area = lines.index("stack area of paged:")
    assert lines[area + 1].endswith("rw- stack of main")
    # The child's rip and the return addresses on its stack (unnamed: its ELF is a ROM).
    assert lines[lines.index("threads of paged:") + 2].startswith("      at   0x")


def test_a_lazy_restore_of_the_tree_ends_as_the_original(genode_component: Build,
                                                         tmp_path: Path) -> None:
    store = Store.create(tmp_path / "store")
    reference = _run(genode_component("tree_pager"), store, every=29989)
    for checkpoint in reference.ids[::4]:
        capture = Capture()
        session = Session.resume(store, checkpoint, log_sink=capture, checkpoint=False,
                                 lazy=True)
        again = TreeRun(session, capture, session.run())
        assert again.lines == reference.lines[session.restored_log_lines:], checkpoint
        assert again.result.instructions == reference.result.instructions, checkpoint
        assert again.digest == reference.digest, checkpoint


def _quotas(session: Session) -> list[tuple[str, int, int, int, int]]:
    return [(c.name, c.pd.avail_ram(), c.pd.used_ram(), c.pd.avail_caps(), c.pd.used_caps())
            for c in session.machine.components]


@pytest.mark.parametrize("stop_at", [200_000, 500_000, 800_000])
def test_every_pd_of_the_restored_tree_has_the_quota_it_had(genode_component: Build,
                                                             tmp_path: Path,
                                                             stop_at: int) -> None:
    elf = genode_component("tree_pager")
    store = Store.create(tmp_path / "store")
    session = Session.start(elf, ram_quota=8 << 20, roms={elf.stem: elf.read_bytes()},
                            store=store, log_sink=Capture())
    result = session.run(stop_when=lambda: session.machine.instructions >= stop_at,
                         final_checkpoint=True)
    restored, _ = _resume(store, result.checkpoints[-1].id)
    assert restored.machine.instructions == session.machine.instructions
    assert _quotas(restored) == _quotas(session)
