"""Guest ABI validation: each kind of bad argument gets its documented error code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from machine_support import ApiRun, run_api

from rtcr.abi import Errno
from rtcr.machine import Status

CompileC = Callable[[str, str], Path]

PROBES = r"""
#include <rtcr.h>

static void show(const char *what, long r) { rtcr_printf("%s %ld\n", what, r); }

int main(void)
{
	long ds = rtcr_ram_alloc(2 * RTCR_PAGE_SIZE);
	long rm = rtcr_rm_create(1UL << 20);
	long sig = rtcr_signal_context();
	struct rtcr_fault f;

	show("bad_cap_ram_free", rtcr_ram_free(9999));
	show("bad_cap_attach_rm", rtcr_attach(9999, ds, 0, 0, RTCR_ANYWHERE, 0));
	show("bad_cap_negative", rtcr_fault(-5, &f));
	show("wrong_kind_cap", rtcr_attach(ds, ds, 0, 0, RTCR_ANYWHERE, 0));
	show("bad_cap_signal", rtcr_signal_submit(rm));
	show("bad_pointer_log_null", rtcr_log_n(0, 10));
	show("bad_pointer_log_wild", rtcr_log_n((const char *)0xdead0000UL, 10));
	show("log_too_long", rtcr_log_n((const char *)main, 1UL << 24));
	show("bad_pointer_fault_record", rtcr_fault(rm, (struct rtcr_fault *)0x10UL));
	show("misaligned_offset", rtcr_attach(RTCR_ADDRESS_SPACE, ds, RTCR_PAGE_SIZE, 123,
		RTCR_ANYWHERE, 0));
	show("misaligned_at", rtcr_attach(rm, ds, 0, 0, 0x1234, 0));
	long before = rtcr_ram_avail();
	show("ram_exhausted", rtcr_ram_alloc(1UL << 30));
	show("ram_quota_unchanged", rtcr_ram_avail() - before);
	long n = 0, r;
	while ((r = rtcr_ram_alloc(1UL << 20)) >= 0)
		n++;
	show("ram_exhausted_by_many", r);
	show("detach_never_attached", rtcr_detach(rm, 0x5000));
	show("detach_address_space_never_attached", rtcr_detach(RTCR_ADDRESS_SPACE, 0x70000000UL));
	show("unknown_syscall_64", rtcr_syscall0(64));
	show("unknown_syscall_99", rtcr_syscall0(99));
	show("unknown_syscall_negative", rtcr_syscall0(-1));
	show("valid_calls_still_work", rtcr_attach(rm, ds, 0, 0, 0, RTCR_W) == 0
		&& rtcr_detach(rm, 0) == 0 && sig > 0 ? 0 : -100);
	show("done", 0);
	return 0;
}
"""

EXPECTED = {
    "bad_cap_ram_free": -Errno.ECAP,
    "bad_cap_attach_rm": -Errno.ECAP,
    "bad_cap_negative": -Errno.ECAP,
    "wrong_kind_cap": -Errno.ECAP,
    "bad_cap_signal": -Errno.ECAP,
    "bad_pointer_log_null": -Errno.EFAULT,
    "bad_pointer_log_wild": -Errno.EFAULT,
    "log_too_long": -Errno.EINVAL,  # longer than a LOG line may be (64 KiB)
    "bad_pointer_fault_record": -Errno.EFAULT,
    "misaligned_offset": -Errno.EINVAL,
    "misaligned_at": -Errno.EINVAL,
    "ram_exhausted": -Errno.ENORAM,
    "ram_quota_unchanged": 0,
    "ram_exhausted_by_many": -Errno.ENORAM,
    "detach_never_attached": -Errno.ENOREGION,
    "detach_address_space_never_attached": -Errno.ENOREGION,
    "unknown_syscall_64": -Errno.ENOSYS,
    "unknown_syscall_99": -Errno.ENOSYS,
    "unknown_syscall_negative": -Errno.ENOSYS,
    "valid_calls_still_work": 0,
    "done": 0,
}


@pytest.fixture(scope="module")
def probes(compile_c: CompileC) -> dict[str, int]:
    run: ApiRun = run_api(compile_c("abi_probes", PROBES))
    assert run.result.status is Status.FINISHED, run.result.diagnostic
    assert run.component.crash is None
    assert run.component.exit_code == 0
    results = {}
    for line in run.lines:
        what, value = line.split()
        results[what] = int(value)
    return results


def test_error_numbers_match_the_abi() -> None:
    assert (Errno.EINVAL, Errno.ECAP, Errno.EFAULT, Errno.ENORAM, Errno.ENOREGION,
            Errno.ENOSYS, Errno.ENOTHREAD) == (1, 2, 3, 4, 9, 11, 12)


def test_every_probe_ran(probes: dict[str, int]) -> None:
    assert list(probes) == list(EXPECTED)


@pytest.mark.parametrize("what", [w for w in EXPECTED if w.startswith(("bad_cap", "wrong_kind"))])
def test_bad_capability_is_ecap(probes: dict[str, int], what: str) -> None:
    assert probes[what] == EXPECTED[what] == -2


@pytest.mark.parametrize("what", ["bad_pointer_log_null", "bad_pointer_log_wild",
                                  "bad_pointer_fault_record"])
def test_bad_pointer_is_efault(probes: dict[str, int], what: str) -> None:
    assert probes[what] == -3


def test_oversized_log_is_einval(probes: dict[str, int]) -> None:
    assert probes["log_too_long"] == EXPECTED["log_too_long"]


@pytest.mark.parametrize("what", ["misaligned_offset", "misaligned_at"])
def test_misaligned_attach_is_einval(probes: dict[str, int], what: str) -> None:
    assert probes[what] == -1


def test_ram_quota_exhaustion_is_enoram(probes: dict[str, int]) -> None:
    assert probes["ram_exhausted"] == -4
    assert probes["ram_exhausted_by_many"] == -4


def test_failed_allocation_charges_nothing(probes: dict[str, int]) -> None:
    assert probes["ram_quota_unchanged"] == 0


@pytest.mark.parametrize("what", ["detach_never_attached", "detach_address_space_never_attached"])
def test_detach_of_never_attached_address_is_enoregion(probes: dict[str, int], what: str) -> None:
    assert probes[what] == -9


@pytest.mark.parametrize("what", ["unknown_syscall_64", "unknown_syscall_99",
                                  "unknown_syscall_negative"])
def test_unknown_syscall_is_enosys(probes: dict[str, int], what: str) -> None:
    assert probes[what] == -11


def test_valid_calls_work_after_the_bad_ones(probes: dict[str, int]) -> None:
    assert probes["valid_calls_still_work"] == 0
    assert probes["done"] == 0
