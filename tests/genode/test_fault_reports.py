"""Fault reports of Genode components: what core logs when it stops a thread."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from genode_support import Build, assert_every_checkpoint_restores, run

from rtcr.store import Store


def _run_api_fault(genode_component: Build, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config"
    config.write_text("<config/>\n")
    proc = subprocess.run([sys.executable, "-m", "rtcr", "run", "--config", str(config),
                           str(genode_component("api_fault"))],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc


def _report(proc: subprocess.CompletedProcess[str]) -> str:
    (report,) = [line for line in proc.stderr.splitlines() if "violation" in line]
    return report


def test_a_write_to_a_read_only_attachment_below_a_stack_is_no_stack_overflow(
        genode_component: Build, tmp_path: Path) -> None:
    # api_fault's worker stack lies right above the read-only page it writes to.
    report = _report(_run_api_fault(genode_component, tmp_path))
    assert "WRITE violation at address" in report
    assert "stack overflow" not in report


def test_the_fault_report_names_the_genode_thread(genode_component: Build,
                                                  tmp_path: Path) -> None:
    assert " by thread writer ip=" in _report(_run_api_fault(genode_component, tmp_path))


def test_dataspace_writeable_tells_ram_and_region_maps_from_rom(genode_component: Build,
                                                              tmp_path: Path) -> None:
    proc = _run_api_fault(genode_component, tmp_path)
    # Genode prints a bool as a number.
    assert "[api_fault] writeable: RAM 1, region map 1, ROM 0" in proc.stdout


def test_a_rom_first_opened_after_a_checkpoint_opens_in_the_restored_run(
        genode_component: Build, tmp_path: Path) -> None:
    # api_fault opens its config ROM only at the end, after every checkpoint below.
    elf = genode_component("api_fault")
    roms = {"config": b"<config/>\n"}
    reference = run(elf, roms=roms)
    with Store.create(tmp_path / "s") as store:
        run(elf, roms=roms, store=store, every=300)
        ids = store.ids()
        assert len(ids) >= 5
        assert_every_checkpoint_restores(reference, store, ids)


def test_a_fault_the_runtime_forwards_to_the_components_handler_counts_once_in_the_summary(
        genode_component: Build, tmp_path: Path) -> None:
    # api_seal's two writes to sealed RAM pass the runtime's map (which forwards them,
    # tracking nothing under `full`) before they reach the component's own handler.
    summary = tmp_path / "summary.json"
    proc = subprocess.run([sys.executable, "-m", "rtcr", "run", "--strategy", "full",
                           "--summary-json", str(summary), str(genode_component("api_seal"))],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(summary.read_text())["faults"] == {"read": 0, "write": 2, "exec": 0}
