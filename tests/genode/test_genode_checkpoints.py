"""Checkpoints of Genode components restore exactly, wherever they were taken."""

from __future__ import annotations

from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection
from genode_support import Build, assert_every_checkpoint_restores, run

from rtcr.checkpoint import Outcome
from rtcr.store import Store


@pytest.mark.parametrize("name", ["sheep_counter_legacy", "sheep_counter"])
def test_a_sheep_counter_restores_byte_exact_from_every_checkpoint(
        genode_component: Build, tmp_path: Path, name: str) -> None:
    elf = genode_component(name)
    store = Store.create(tmp_path / "store")
    reference = run(elf, store=store, every=997)
    ids = [c.id for c in reference.result.checkpoints]
    assert len(ids) >= 10
    assert reference.lines[0].startswith("1 sheep. zzZ")
    assert reference.lines[-1].startswith("20 sheep. zzZ")
    assert_every_checkpoint_restores(reference, store, ids)


def test_entrypoints_signals_and_timers_restore_from_every_checkpoint(
        genode_component: Build, tmp_path: Path) -> None:
    elf = genode_component("api_threads")
    store = Store.create(tmp_path / "store")
    reference = run(elf, store=store, every=1499)
    ids = [c.id for c in reference.result.checkpoints]
    assert reference.result.outcome is Outcome.IDLE
    assert len(ids) >= 10
    assert_every_checkpoint_restores(reference, store, ids)


def test_sealed_rights_restore_from_every_checkpoint_between_seal_and_write(
        genode_component: Build, tmp_path: Path) -> None:
    store = Store.create(tmp_path / "store")
    reference = run(genode_component("api_seal"), store=store, every=397)
    ids = [c.id for c in reference.result.checkpoints]
    # After the seal, before the write it makes fault: lines 2 and 6 printed, not the next.
    between = {reference.lines.index("attached after the seal, reads: 2") + 1,
               reference.lines.index("sealed, revoking") + 1}
    taken_at = {store.load(cid).manifest["component"]["log_lines"] for cid in ids}
    assert between <= taken_at
    assert_every_checkpoint_restores(reference, store, ids)


def test_the_cxx_runtime_restores_from_every_checkpoint(genode_component: Build,
                                                        tmp_path: Path) -> None:
    # Two threads inside their catch blocks, two racing into one static initialiser.
    store = Store.create(tmp_path / "store")
    reference = run(genode_component("cxx_features"), store=store, every=2003)
    ids = [c.id for c in reference.result.checkpoints]
    assert reference.lines[-1] == "destructor at exit"
    assert len(ids) >= 20
    throwing = reference.lines.index("caught by type: 1.5") + 1  # the threads' lines next
    assert throwing in {store.load(cid).manifest["component"]["log_lines"] for cid in ids}
    assert_every_checkpoint_restores(reference, store, ids)


def _unwinder_ranges(elf: Path) -> list[tuple[int, int]]:
    """Address ranges of GCC's unwinder and personality routine in the ELF."""
    with elf.open("rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        assert isinstance(symtab, SymbolTableSection)
        return [(s["st_value"], s["st_value"] + s["st_size"]) for s in symtab.iter_symbols()
                if s["st_info"]["type"] == "STT_FUNC" and s["st_size"]
                and (s.name.startswith(("_Unwind_", "uw_", "__gxx_personality"))
                     or s.name in ("execute_cfa_program", "execute_stack_op",
                                   "search_object", "linear_search_fdes"))]


def test_a_checkpoint_inside_the_unwinder_restores_exactly(genode_component: Build,
                                                           tmp_path: Path) -> None:
    elf = genode_component("unwind_loop")
    store = Store.create(tmp_path / "store")
    reference = run(elf, store=store, every=6151)
    ids = [c.id for c in reference.result.checkpoints]
    assert reference.lines[-1] == "round 11 sum 66"
    ranges = _unwinder_ranges(elf)
    inside = [cid for cid in ids
              if any(lo <= store.load(cid).manifest["threads"][0]["registers"]["rip"] < hi
                     for lo, hi in ranges)]
    assert inside, "no checkpoint landed inside the unwinder"
    assert_every_checkpoint_restores(reference, store, ids)


def test_pd_sessions_and_their_ram_restore_from_every_checkpoint(genode_component: Build,
                                                                 tmp_path: Path) -> None:
    elf = genode_component("pd_rounds")
    store = Store.create(tmp_path / "store")
    reference = run(elf, store=store, every=4999)
    ids = [c.id for c in reference.result.checkpoints]
    assert (reference.result.outcome, reference.result.exit_code) == (Outcome.EXITED, 0)
    assert reference.lines[-1].startswith("round 23 ")
    assert len(ids) >= 10
    assert_every_checkpoint_restores(reference, store, ids)


def test_the_image_carries_pd_sessions_with_quotas_accounts_and_selectors(
        genode_component: Build, tmp_path: Path) -> None:
    store = Store.create(tmp_path / "store")
    reference = run(genode_component("pd_rounds"), store=store, every=20011)
    manifest = store.load(reference.result.checkpoints[-1].id).manifest
    pds = [o for o in manifest["objects"] if o["kind"] == "pd"]
    assert [p["name"].rsplit(" ", 1)[-1] for p in pds] == ["a", "b"]
    assert all(p["ref"] == -1 for p in pds)  # the target's own PD
    assert all(p["ram_quota"] > p["session_quota"][0] for p in pds)
    oids = {p["oid"] for p in pds}
    owned = [o for o in manifest["objects"] if o["kind"] == "ram" and o["pd"] in oids
             and not o["freed"]]
    assert owned
    held = {oid for p in pds for _, oid, _ in p["selectors"]}
    assert {o["oid"] for o in owned} <= held
    # a PD also holds RAM charged to the other one: delegated to it
    delegated = [(p["oid"], o["oid"]) for p in pds for o in owned if o["pd"] != p["oid"]
                 and o["oid"] in {oid for _, oid, _ in p["selectors"]}]
    assert delegated
    # pd_a's address space, with what the target attached there
    spaces = [o for o in manifest["objects"] if o["kind"] == "rm" and o.get("pd") in oids]
    assert len(spaces) == 1 and spaces[0]["regions"]
