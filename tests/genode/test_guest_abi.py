"""The system calls the Genode API is built on: right answers, and error
codes -- never a crash -- for bad arguments."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rtcr.abi import Errno
from rtcr.machine import Machine, Status

CompileC = Callable[[str, str], Path]

PROBE = r"""
#include <rtcr.h>
static void show(const char *what, long value) { rtcr_printf("%s=%ld\n", what, value); }
static void idle(void *arg) { (void)arg; long r = rtcr_signal_receiver(); rtcr_signal_wait_at(r); }
int main(void)
{
	long ds = rtcr_ram_alloc(3 * 4096);
	show("ds_size", rtcr_ds_size(ds));
	show("ds_size_of_rm_ds", rtcr_ds_size(rtcr_rm_dataspace(rtcr_rm_create(8192))));
	show("ds_size_bad_cap", rtcr_ds_size(12345));
	show("ds_size_not_ds", rtcr_ds_size(rtcr_rm_create(4096)));
	long rom = rtcr_rom_open("greeting");
	show("rom_same_twice", rom == rtcr_rom_open("greeting"));
	char *text = (char *)rtcr_attach(RTCR_ADDRESS_SPACE, rom, 0, 0, -1, 0);
	rtcr_printf("rom_text=%s\n", text);
	show("rom_size", rtcr_ds_size(rom));
	show("rom_missing", rtcr_rom_open("nope"));
	show("rom_bad_ptr", rtcr_syscall2(RTCR_SYS_ROM_OPEN, 0x10, 4));
	show("rom_empty_name", rtcr_syscall2(RTCR_SYS_ROM_OPEN, (long)"x", 0));
	show("rom_long_name", rtcr_syscall2(RTCR_SYS_ROM_OPEN, (long)"x", RTCR_ROM_NAME_MAX + 1));
	show("seal_bad_flags", rtcr_ram_seal_flags(ds, 6));
	show("destroy_own_address_space", rtcr_rm_destroy(RTCR_ADDRESS_SPACE));
	show("destroy_bad_cap", rtcr_rm_destroy(4242));
	long doomed = rtcr_rm_create(8192);
	show("destroy", rtcr_rm_destroy(doomed));
	show("attach_into_destroyed", rtcr_attach(doomed, ds, 0, 0, -1, RTCR_W));
	long caps_before = rtcr_caps_avail();
	long charged = rtcr_rm_create(8192);
	rtcr_rm_dataspace(charged);
	show("rm_create_charges_caps", caps_before - rtcr_caps_avail());
	rtcr_rm_destroy(charged);
	show("destroy_refunds_caps", rtcr_caps_avail() == caps_before);
	show("thread_self", rtcr_thread_self());
	show("kill_self", rtcr_thread_kill(rtcr_thread_self()));
	show("kill_unknown", rtcr_thread_kill(777));
	long receiver = rtcr_signal_receiver();
	show("context_at_not_receiver", rtcr_signal_context_at(ds));
	show("wait_at_not_receiver", rtcr_signal_wait_at(ds));
	long ctx = rtcr_signal_context_at(receiver);
	rtcr_signal_submit(ctx);
	show("wait_at_pending", rtcr_signal_wait_at(receiver) == ctx);
	long pd_ctx = rtcr_signal_context();
	rtcr_signal_submit(ctx);      /* submitted first, but at the other receiver */
	rtcr_signal_submit(pd_ctx);
	show("pd_wait_gets_pd_signal", rtcr_signal_wait() == pd_ctx);
	show("receiver_keeps_its_own", rtcr_signal_wait_at(receiver) == ctx);
	long t = rtcr_thread_create(idle, 0, 0);
	rtcr_yield();
	show("kill_waiting", rtcr_thread_kill(t));
	show("join_killed", rtcr_thread_join(t));
	show("kill_again", rtcr_thread_kill(t));
	return 0;
}
"""


@pytest.fixture(scope="module")
def probes(compile_c: CompileC) -> dict[str, str]:
    lines: list[str] = []
    machine = Machine(32 << 20, log_sink=lambda c, line: lines.append(line))
    component = machine.load(compile_c("abi_genode", PROBE))
    component.roms = {"greeting": b"hello from a ROM"}
    assert machine.run(max_instructions=10_000_000).status is Status.FINISHED
    assert component.exit_code == 0
    return dict(line.split("=", 1) for line in lines)


@pytest.mark.parametrize(("name", "expected"), [
    ("ds_size", 3 * 4096),
    ("ds_size_of_rm_ds", 8192),
    ("ds_size_bad_cap", -Errno.ECAP),
    ("ds_size_not_ds", -Errno.ECAP),
    ("rom_same_twice", 1),
    ("rom_size", 4096),
    ("rom_missing", -Errno.EDENIED),
    ("rom_bad_ptr", -Errno.EFAULT),
    ("rom_empty_name", -Errno.EINVAL),
    ("rom_long_name", -Errno.EINVAL),
    ("seal_bad_flags", -Errno.EINVAL),
    ("destroy_own_address_space", -Errno.EDENIED),
    ("destroy_bad_cap", -Errno.ECAP),
    ("destroy", 0),
    ("attach_into_destroyed", -Errno.ECAP),
    ("rm_create_charges_caps", 2),
    ("destroy_refunds_caps", 1),
    ("thread_self", 1),
    ("kill_self", -Errno.EINVAL),
    ("kill_unknown", -Errno.ENOTHREAD),
    ("context_at_not_receiver", -Errno.ECAP),
    ("wait_at_not_receiver", -Errno.ECAP),
    ("wait_at_pending", 1),
    ("pd_wait_gets_pd_signal", 1),
    ("receiver_keeps_its_own", 1),
    ("kill_waiting", 0),
    ("join_killed", 0),
    ("kill_again", -Errno.ENOTHREAD),
])
def test_system_call_answers(probes: dict[str, str], name: str, expected: int) -> None:
    assert int(probes[name]) == expected


def test_a_rom_reads_as_its_file(probes: dict[str, str]) -> None:
    assert probes["rom_text"] == "hello from a ROM"
