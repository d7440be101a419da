"""Fault reports of Genode components: what core logs when it stops a thread."""

from __future__ import annotations

import subprocess
import sys

from genode_support import Build


def test_a_write_to_a_read_only_attachment_below_a_stack_is_no_stack_overflow(
        genode_component: Build) -> None:
    # api_fault's worker stack lies right above the read-only page it writes to.
    proc = subprocess.run([sys.executable, "-m", "rtcr", "run",
                           str(genode_component("api_fault"))],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (report,) = [line for line in proc.stderr.splitlines() if "violation" in line]
    assert "WRITE violation at address" in report
    assert "stack overflow" not in report
