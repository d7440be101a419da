"""`rtcr test`: a PASS or FAIL line with the reason, exit 0 or 1."""

from __future__ import annotations

import re
from pathlib import Path

from genode_support import EXAMPLES, Build, rtcr

from rtcr.store import Store


def _runtime(tmp_path: Path, criteria: str) -> Path:
    path = tmp_path / "runtime"
    path.write_text(f"runtime | ram: 8M | caps: 200 | binary: api_text\n{criteria}\n"
                    "+ config\n-\n")
    return path


def test_a_passing_package_prints_its_log_and_pass(genode_component: Build) -> None:
    proc = rtcr("test", str(EXAMPLES / "runtime"), "--binary",
                str(genode_component("sheep_counter")))
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stderr
    assert lines[0] == "[sheep_counter] 1 sheep. zzZ (1000 ms)"
    assert lines[-1].startswith("PASS sheep_counter: exit: log '1 sheep. zzZ*' ..., exit 0")


def test_the_packages_quotas_and_config_reach_the_component(genode_component: Build,
                                                             tmp_path: Path) -> None:
    path = tmp_path / "runtime"
    path.write_text("runtime | ram: 6M | caps: 150 | binary: api_config\n"
                    "+ succeed | exit: 0\n  : number: 12 hex: 0x0*quota: 6M 150\n"
                    "+ config | number: 12\n-\n")
    proc = rtcr("test", str(path), "--binary", str(genode_component("api_config")), "-q")
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.startswith("PASS api_config: exit: log 'number: 12 hex: 0x0*quota: "
                                  "6M 150', exit 0")


def test_a_fail_pattern_fails_with_its_line(genode_component: Build, tmp_path: Path) -> None:
    proc = rtcr("test", str(_runtime(tmp_path, "+ succeed | exit: 0\n+ fail | : *Error:")),
                "--binary", str(genode_component("api_text")), "-q")
    assert proc.returncode == 1
    assert proc.stdout.startswith("FAIL api_text: log: log '*Error:' (line 3) at ")


def test_an_unexpected_exit_value_fails(genode_component: Build, tmp_path: Path) -> None:
    proc = rtcr("test", str(_runtime(tmp_path, "+ succeed | exit: 1")), "--binary",
                str(genode_component("api_text")), "-q")
    assert proc.returncode == 1
    assert proc.stdout.startswith("FAIL api_text: exited with value 0 at ")


def test_an_idle_component_runs_into_its_deadline(genode_component: Build,
                                                  tmp_path: Path) -> None:
    path = tmp_path / "runtime"
    path.write_text("runtime | ram: 8M | caps: 200 | binary: api_threads\n"
                    "+ succeed | after_seconds: 20\n  : --- done ---\n+ config\n-\n")
    proc = rtcr("test", str(path), "--binary", str(genode_component("api_threads")), "-q")
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.startswith("PASS api_threads: timeout 20 s (log '--- done ---', "
                                  "after 20 s) at 20.000000 s virtual time")


def test_every_checkpoint_is_restored_and_passes(genode_component: Build,
                                                 tmp_path: Path) -> None:
    store = tmp_path / "store"
    proc = rtcr("test", str(EXAMPLES / "runtime"), "--binary",
                str(genode_component("sheep_counter_legacy")), "--every", "997",
                "--store", str(store), "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    restored = re.search(r"restored from each of (\d+) checkpoints, each passes the same way",
                         proc.stdout)
    assert restored is not None, proc.stdout
    with Store.open(store) as kept:
        assert int(restored.group(1)) == len(kept.ids()) >= 10


def test_a_source_binary_is_compiled_first(tmp_path: Path) -> None:
    proc = rtcr("test", str(EXAMPLES / "runtime"), "--binary",
                str(EXAMPLES / "sheep_counter.cc"), "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("PASS sheep_counter:")


def test_a_bad_runtime_file_is_one_line_on_stderr(genode_component: Build,
                                                  tmp_path: Path) -> None:
    path = tmp_path / "runtime"
    path.write_text("runtime | ram: 8M | caps: 200\n+ succeed | exit: 0\n-\n")
    proc = rtcr("test", str(path), "--binary", str(genode_component("api_text")))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"rtcr: error: {path}:1: 'runtime' has no 'binary' attribute"
    assert "Traceback" not in proc.stderr


def test_rtcr_run_reports_an_idle_component_as_idle(genode_component: Build) -> None:
    proc = rtcr("run", str(genode_component("api_threads")))
    assert proc.returncode == 123
    assert proc.stderr.startswith("rtcr: idle: every thread waits for a signal")


def test_restored_runs_do_not_repeat_the_fault_report_of_the_original(
        genode_component: Build, tmp_path: Path) -> None:
    path = tmp_path / "runtime"
    path.write_text("runtime | ram: 8M | caps: 200 | binary: api_fault\n"
                    "+ succeed | exit: 0\n  : --- main goes on ---\n+ config\n-\n")
    proc = rtcr("test", str(path), "--binary", str(genode_component("api_fault")),
                "--every", "300", "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "restored from each of" in proc.stdout
    reports = [line for line in proc.stderr.splitlines() if "WRITE violation" in line]
    assert len(reports) == 1, proc.stderr
