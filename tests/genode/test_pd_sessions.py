"""PD sessions of the Genode API: quotas, reference accounts and RAM owned by another PD.

The component (components/pd_sessions.cc) prints one LOG line per behaviour.
"""

from __future__ import annotations

import pytest
from genode_support import Build, Run, run

from rtcr.abi import PD_SESSION_CAP_QUOTA, PD_SESSION_RAM_QUOTA
from rtcr.checkpoint import Outcome


@pytest.fixture(scope="module")
def pd_run(genode_component: Build) -> Run:
    return run(genode_component("pd_sessions"))


def _line(pd_run: Run, prefix: str) -> str:
    found = [line for line in pd_run.lines if line.startswith(prefix)]
    assert len(found) == 1, (prefix, pd_run.lines)
    return found[0]


def test_the_sdk_session_quota_is_cores(pd_run: Run) -> None:
    assert _line(pd_run, "session quota:") == (
        f"session quota: {PD_SESSION_RAM_QUOTA} {PD_SESSION_CAP_QUOTA}")


@pytest.mark.parametrize(("prefix", "expected"), [
    ("opening pays", f"opening pays the session quota: ram {PD_SESSION_RAM_QUOTA} "
                     f"caps {PD_SESSION_CAP_QUOTA + 1}"),
    ("a new PD holds", f"a new PD holds its session quota: ram {PD_SESSION_RAM_QUOTA} used 0 "
                       f"caps {PD_SESSION_CAP_QUOTA}"),
    ("transfer before ref_account:", "transfer before ref_account: INVALID"),
    ("transfer to the referencing PD:",
     "transfer to the referencing PD: OK pd gained 65536 env lost 65536"),
    ("transfer of caps:", f"transfer of caps: OK pd caps {PD_SESSION_CAP_QUOTA + 5}"),
    ("transfer beyond", "transfer beyond what is left: EXCEEDED"),
    ("session quota is not transferable:",
     "session quota is not transferable: EXCEEDED back what it got: OK pd keeps 32768"),
    ("ref_account is set once:", "ref_account is set once: 1 siblings may not transfer: INVALID"),
    ("ref_account to a PD without account:",
     "ref_account to a PD without account: INVALID_SESSION"),
])
def test_quota_moves_only_along_reference_accounts(pd_run: Run, prefix: str,
                                                   expected: str) -> None:
    assert _line(pd_run, prefix) == expected


@pytest.mark.parametrize(("prefix", "expected"), [
    ("allocation is charged", "allocation is charged to its PD: pd 8192 env 0"),
    ("ram_size by owner", "ram_size by owner and by another PD: 8192 0"),
    ("the creator may attach it:", "the creator may attach it: attached, read 0 wrote 42"),
    ("more than the PD's quota:", "more than the PD's quota: OUT_OF_RAM"),
    ("Pd_ram_allocator allocates", "Pd_ram_allocator allocates on its PD: 12288"),
    ("Pd_ram_allocator frees", "Pd_ram_allocator frees on its PD: 0"),
])
def test_ram_of_a_pd_session_is_charged_to_it(pd_run: Run, prefix: str, expected: str) -> None:
    assert _line(pd_run, prefix) == expected


@pytest.mark.parametrize(("prefix", "expected"), [
    ("a foreign free", "a foreign free changes nothing: used 8192 size 8192"),
    ("still there after the foreign free:",
     "still there after the foreign free: attached, read 42 wrote 43"),
    ("a foreign seal", "a foreign seal changes nothing: attached, read 43 wrote 44"),
])
def test_only_the_owning_pd_may_free_or_seal(pd_run: Run, prefix: str, expected: str) -> None:
    assert _line(pd_run, prefix) == expected


def test_the_owners_free_refunds_and_revokes_the_callers_capability(pd_run: Run) -> None:
    assert _line(pd_run, "the owner's free") == "the owner's free refunds it: used 0"
    assert _line(pd_run, "after the owner's free:") == "after the owner's free: INVALID_DATASPACE"


def test_opening_pds_until_the_quota_is_spent_throws_out_of_ram(pd_run: Run) -> None:
    assert _line(pd_run, "opening PDs") == (
        "opening PDs until the quota is spent throws Out_of_ram: 1")
    assert (pd_run.result.outcome, pd_run.result.exit_code) == (Outcome.EXITED, 0)
