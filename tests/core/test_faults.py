"""Fault queues, handlers, wake-ups and host access through the pager."""

from __future__ import annotations

import logging

import pytest

from rtcr.core import PAGE_SIZE, Core, Fault, FaultType, ProtectionDomain, RegionMap
from rtcr.errors import PageFault


class Thread:
    def __init__(self, name: str) -> None:
        self.name = name
        self.woken = 0

    def wake(self) -> None:
        self.woken += 1


def test_fault_without_faulters_is_none(core: Core) -> None:
    assert core.create_region_map(PAGE_SIZE).fault() == Fault(FaultType.NONE, 0)


def test_faulters_queue_fifo_and_fault_returns_head(core: Core) -> None:
    rm = core.create_region_map(1 << 20)
    rm.fault_handler(lambda rm: None)
    a, b = Thread("a"), Thread("b")
    rm.enqueue_fault(a, Fault(FaultType.WRITE, 0x3000))
    rm.enqueue_fault(b, Fault(FaultType.READ, 0x1000))
    assert rm.fault() == Fault(FaultType.WRITE, 0x3000)
    assert rm.faulters() == [
        (a, Fault(FaultType.WRITE, 0x3000)),
        (b, Fault(FaultType.READ, 0x1000)),
    ]


def test_attach_wakes_only_covered_faulters(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.fault_handler(lambda rm: None)
    a, b = Thread("a"), Thread("b")
    rm.enqueue_fault(a, Fault(FaultType.READ, 0x3008))
    rm.enqueue_fault(b, Fault(FaultType.READ, 0x9000))
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=0x3000)
    assert (a.woken, b.woken) == (1, 0)
    assert rm.fault() == Fault(FaultType.READ, 0x9000)


def test_attach_wakes_even_without_sufficient_rights(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.fault_handler(lambda rm: None)
    t = Thread("t")
    rm.enqueue_fault(t, Fault(FaultType.WRITE, 0x1000))
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=0x1000, writeable=False)
    assert t.woken == 1
    assert rm.faulters() == []


def test_detach_never_wakes(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.fault_handler(lambda rm: None)
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=0x1000, writeable=False)
    t = Thread("t")
    rm.enqueue_fault(t, Fault(FaultType.WRITE, 0x1000))
    rm.detach(0x1000)
    assert t.woken == 0
    assert rm.fault() == Fault(FaultType.WRITE, 0x1000)


def test_cancel_fault_removes_faulter_without_waking(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.fault_handler(lambda rm: None)
    t = Thread("t")
    rm.enqueue_fault(t, Fault(FaultType.READ, 0))
    rm.cancel_fault(t)
    rm.cancel_fault(t)  # no-op when absent
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=0)
    assert t.woken == 0
    assert rm.faulters() == []


def test_callable_handler_runs_synchronously_and_may_wake(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    t = Thread("t")

    def handler(r: RegionMap) -> None:
        assert r is rm
        r.attach(pd.alloc_ram(PAGE_SIZE), at=r.fault().addr & ~(PAGE_SIZE - 1))

    rm.fault_handler(handler)
    rm.enqueue_fault(t, Fault(FaultType.READ, 0x7010))
    assert t.woken == 1


def test_signal_context_handler_is_submitted(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ctx = pd.signal_receiver.create_context()
    rm.fault_handler(ctx)
    rm.enqueue_fault(Thread("t"), Fault(FaultType.READ, 0))
    assert pd.signal_receiver.pending() == [(ctx, 1)]
    assert rm.fault() == Fault(FaultType.READ, 0)


def test_fault_without_handler_is_logged_and_stays_queued(
    core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    rm = core.create_region_map(1 << 20)
    t = Thread("t")
    with caplog.at_level(logging.WARNING, logger="rtcr.core"):
        rm.enqueue_fault(t, Fault(FaultType.WRITE, 0x2000))
    assert "illegal WRITE at address 0x2000" in caplog.text
    assert rm.faulters() == [(t, Fault(FaultType.WRITE, 0x2000))]


def test_clearing_handler_with_none(core: Core, caplog: pytest.LogCaptureFixture) -> None:
    rm = core.create_region_map(1 << 20)
    calls: list[RegionMap] = []
    rm.fault_handler(calls.append)
    rm.fault_handler(None)
    with caplog.at_level(logging.WARNING, logger="rtcr.core"):
        rm.enqueue_fault(Thread("t"), Fault(FaultType.READ, 0))
    assert calls == []
    assert "illegal READ" in caplog.text


def test_host_access_with_signal_handler_raises_page_fault(
    core: Core, pd: ProtectionDomain
) -> None:
    rm = core.create_region_map(1 << 20)
    ctx = pd.signal_receiver.create_context()
    rm.fault_handler(ctx)
    with pytest.raises(PageFault) as info:
        rm.read(0x4000, 1)
    assert info.value.fault == Fault(FaultType.READ, 0x4000)
    assert rm.faulters() == []
    assert ctx.count == 1


def test_host_access_retries_after_handler_attach(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.fault_handler(lambda r: r.attach(pd.alloc_ram(PAGE_SIZE), at=r.fault().addr & ~0xFFF))
    rm.write(0x4FFE, b"span")  # crosses into a second page: two faults, two attaches
    assert rm.read(0x4FFE, 4) == b"span"
    assert len(rm.regions()) == 2


def test_host_access_gives_up_when_handler_never_grants_rights(
    core: Core, pd: ProtectionDomain
) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(PAGE_SIZE)
    rm.attach(ds, at=0, writeable=False)
    calls = 0

    def stubborn(r: RegionMap) -> None:
        nonlocal calls
        calls += 1
        r.detach(0)
        r.attach(ds, at=0, writeable=False)

    rm.fault_handler(stubborn)
    with pytest.raises(PageFault):
        rm.write(0, b"x")
    assert calls > 1
    assert rm.faulters() == []


def test_handler_exception_propagates_and_dequeues_host_faulter(core: Core) -> None:
    rm = core.create_region_map(1 << 20)

    def broken(r: RegionMap) -> None:
        raise RuntimeError("handler bug")

    rm.fault_handler(broken)
    with pytest.raises(RuntimeError):
        rm.read(0, 1)
    assert rm.faulters() == []


def test_installed_handler_is_readable(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(PAGE_SIZE)
    ctx = pd.signal_receiver.create_context()
    assert rm.handler is None
    rm.fault_handler(ctx)
    assert rm.handler is ctx
