"""The fault protocol: one reflection per fault, dispatched on the handler's kind.

``reflect`` takes a failed walk to the map it belongs to and counts it
once. A signal handler gets the faulter queued on a ticket and is
submitted; a synchronous handler answers with a verdict (resolved, forward
one map up the walk, declined); without a handler the fault is reflected
nowhere (Genode's pager stops the thread).
"""

from __future__ import annotations

import pytest
from core_support import Recording

from rtcr.core import (
    PAGE_SIZE,
    RESOLVED,
    Access,
    Core,
    Fault,
    FaultTicket,
    FaultType,
    ProtectionDomain,
    RegionMap,
    Rights,
    Unhandled,
    Unresolved,
    Verdict,
    WalkFailure,
    host_read,
    host_write,
    reflect,
    resolve,
)
from rtcr.errors import PageFault


class Waiter:
    """A faulter that records the tickets resolved for it."""

    def __init__(self) -> None:
        self.resolved: list[FaultTicket] = []

    def fault_resolved(self, ticket: FaultTicket) -> None:
        self.resolved.append(ticket)


def _walk(rm: RegionMap, addr: int, access: Access) -> Unresolved:
    result = resolve(rm, addr, access)
    assert isinstance(result, Unresolved)
    return result


def test_fault_without_faulters_is_none(core: Core) -> None:
    assert core.create_region_map(PAGE_SIZE).fault() == Fault(FaultType.NONE, 0)


def test_signal_handler_queues_a_ticket_and_is_submitted(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ctx = pd.signal_receiver.create_context()
    rm.fault_handler(ctx)
    waiter = Waiter()
    ticket = reflect(_walk(rm, 0x3008, Access.READ), waiter)
    assert isinstance(ticket, FaultTicket)
    assert (ticket.region_map, ticket.fault, ticket.resolved) == (
        rm, Fault(FaultType.READ, 0x3008), False)
    assert pd.signal_receiver.pending() == [(ctx, 1)]
    assert rm.fault() == Fault(FaultType.READ, 0x3008)


def test_tickets_queue_fifo_and_fault_returns_the_head(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.fault_handler(pd.signal_receiver.create_context())
    a, b = Waiter(), Waiter()
    reflect(_walk(rm, 0x3000, Access.WRITE), a)
    reflect(_walk(rm, 0x1000, Access.READ), b)
    assert rm.fault() == Fault(FaultType.WRITE, 0x3000)
    assert rm.faulters() == [(a, Fault(FaultType.WRITE, 0x3000)),
                             (b, Fault(FaultType.READ, 0x1000))]


def test_attach_resolves_only_covered_tickets(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.fault_handler(pd.signal_receiver.create_context())
    a, b = Waiter(), Waiter()
    ta = reflect(_walk(rm, 0x3008, Access.READ), a)
    tb = reflect(_walk(rm, 0x9000, Access.READ), b)
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=0x3000)
    assert (a.resolved, b.resolved) == ([ta], [])
    assert isinstance(ta, FaultTicket) and ta.resolved
    assert isinstance(tb, FaultTicket) and not tb.resolved
    assert rm.fault() == Fault(FaultType.READ, 0x9000)


def test_attach_resolves_even_without_sufficient_rights(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.fault_handler(pd.signal_receiver.create_context())
    waiter = Waiter()
    reflect(_walk(rm, 0x1000, Access.WRITE), waiter)
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=0x1000, writeable=False)
    assert len(waiter.resolved) == 1
    assert rm.faulters() == []


def test_detach_never_resolves(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.fault_handler(pd.signal_receiver.create_context())
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=0x1000, writeable=False)
    waiter = Waiter()
    reflect(_walk(rm, 0x1000, Access.WRITE), waiter)
    rm.detach(0x1000)
    assert waiter.resolved == []
    assert rm.fault() == Fault(FaultType.WRITE, 0x1000)


def test_cancel_fault_dequeues_without_resolving(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.fault_handler(pd.signal_receiver.create_context())
    waiter = Waiter()
    reflect(_walk(rm, 0, Access.READ), waiter)
    rm.cancel_fault(waiter)
    rm.cancel_fault(waiter)  # no-op when absent
    rm.attach(pd.alloc_ram(PAGE_SIZE), at=0)
    assert waiter.resolved == []
    assert rm.faulters() == []


def test_enqueue_queues_without_telling_the_handler(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ctx = pd.signal_receiver.create_context()
    rm.fault_handler(ctx)
    rm.enqueue(Waiter(), Fault(FaultType.READ, 0x2000))
    assert ctx.count == 0
    assert rm.fault() == Fault(FaultType.READ, 0x2000)


def test_without_handler_the_fault_is_unhandled_and_queued_nowhere(core: Core) -> None:
    rm = core.create_region_map(1 << 20)
    outcome = reflect(_walk(rm, 0x2000, Access.WRITE), Waiter())
    assert outcome == Unhandled(WalkFailure.NO_REGION, Access.WRITE, 0x2000, rm)
    assert outcome.describe() == "illegal WRITE at address 0x2000"
    assert rm.faulters() == []


def test_leaf_without_handler_is_not_reflected_to_the_map_above(
        core: Core, pd: ProtectionDomain) -> None:
    outer = core.create_region_map(1 << 20)
    inner = core.create_region_map(1 << 16)
    outer.fault_handler(pd.signal_receiver.create_context())
    outer.attach(inner.dataspace(), at=0x10000)
    inner.attach(pd.alloc_ram(PAGE_SIZE), at=0, writeable=False)
    outcome = reflect(_walk(outer, 0x10010, Access.WRITE), Waiter())
    assert outcome == Unhandled(WalkFailure.WRITE_VIOLATION, Access.WRITE, 0x10010, inner)
    assert outcome.describe() == "WRITE violation at address 0x10010"
    assert outer.faulters() == []


def test_synchronous_handler_is_told_map_fault_reason_and_rights_above(
        core: Core, pd: ProtectionDomain) -> None:
    outer = core.create_region_map(1 << 20)
    inner = core.create_region_map(1 << 16)
    outer.attach(inner.dataspace(), at=0x10000, writeable=False)
    handler = Recording(Verdict.DECLINED)
    inner.fault_handler(handler)
    reflect(_walk(outer, 0x12004, Access.READ), Waiter())
    assert handler.calls == [(inner, Fault(FaultType.READ, 0x2004), WalkFailure.NO_REGION,
                              Rights(False, False))]


def test_synchronous_handler_that_resolves_is_retried_and_counted_once(
        core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ram = pd.alloc_ram(PAGE_SIZE)
    handler = Recording(Verdict.RESOLVED,
                        lambda r, f: r.attach(ram, at=f.addr & ~(PAGE_SIZE - 1)))
    rm.fault_handler(handler)
    assert reflect(_walk(rm, 0x7010, Access.READ), Waiter()) is RESOLVED
    assert core.fault_counts.get(FaultType.READ) == 1
    assert rm.faulters() == []


def test_forward_reflects_to_the_map_above_at_its_address(
        core: Core, pd: ProtectionDomain) -> None:
    outer = core.create_region_map(1 << 20)
    inner = core.create_region_map(1 << 16)
    ctx = pd.signal_receiver.create_context()
    outer.fault_handler(ctx)
    inner.fault_handler(Recording(Verdict.FORWARD))
    outer.attach(inner.dataspace(), at=0x10000, writeable=False)
    inner.attach(pd.alloc_ram(PAGE_SIZE), at=0x2000)
    waiter = Waiter()
    ticket = reflect(_walk(outer, 0x12008, Access.WRITE), waiter)
    assert isinstance(ticket, FaultTicket)
    assert (ticket.region_map, ticket.fault) == (outer, Fault(FaultType.WRITE, 0x12008))
    assert inner.faulters() == []
    assert ctx.count == 1
    assert core.fault_counts.get(FaultType.WRITE) == 1


def test_forwarded_fault_the_rights_above_deny_is_a_violation_there(
        core: Core, pd: ProtectionDomain) -> None:
    outer = core.create_region_map(1 << 20)
    inner = core.create_region_map(1 << 16)
    inner.fault_handler(Recording(Verdict.FORWARD))
    outer.attach(inner.dataspace(), at=0x10000, writeable=False)
    outcome = reflect(_walk(outer, 0x12008, Access.WRITE), Waiter())
    assert outcome == Unhandled(WalkFailure.WRITE_VIOLATION, Access.WRITE, 0x12008, outer)


def test_declined_fault_is_unhandled_where_it_was_declined(core: Core) -> None:
    rm = core.create_region_map(1 << 20)
    rm.fault_handler(Recording(Verdict.DECLINED))
    outcome = reflect(_walk(rm, 0x5000, Access.EXEC), Waiter())
    assert outcome == Unhandled(WalkFailure.NO_REGION, Access.EXEC, 0x5000, rm)
    assert core.fault_counts.get(FaultType.EXEC) == 0


def test_byte_offset_is_asked_only_when_the_fault_leaves_synchronous_handlers(
        core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.fault_handler(pd.signal_receiver.create_context())
    asked: list[int] = []

    def offset() -> int:
        asked.append(1)
        return 0x24

    ticket = reflect(_walk(rm, 0x6000, Access.READ), Waiter(), byte_offset=offset)
    assert isinstance(ticket, FaultTicket)
    assert ticket.fault == Fault(FaultType.READ, 0x6024)
    ram = pd.alloc_ram(PAGE_SIZE)
    other = core.create_region_map(1 << 20)
    other.fault_handler(Recording(Verdict.RESOLVED, lambda r, f: r.attach(ram, at=0x6000)))
    assert reflect(_walk(other, 0x6000, Access.READ), Waiter(), byte_offset=offset) is RESOLVED
    assert asked == [1]


def test_host_access_never_queues_or_signals(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ctx = pd.signal_receiver.create_context()
    rm.fault_handler(ctx)
    with pytest.raises(PageFault) as info:
        host_read(rm, 0x4000, 1)
    assert info.value.fault == Fault(FaultType.READ, 0x4000)
    assert rm.faulters() == []
    assert ctx.count == 0


def test_host_access_retries_after_a_synchronous_handler_resolved(
        core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    rm.fault_handler(Recording(Verdict.RESOLVED, lambda r, f: r.attach(
        pd.alloc_ram(PAGE_SIZE), at=f.addr & ~(PAGE_SIZE - 1))))
    host_write(rm, 0x4FFE, b"span")  # crosses into a second page: two faults, two attaches
    assert host_read(rm, 0x4FFE, 4) == b"span"
    assert len(rm.regions()) == 2


def test_host_write_that_faults_on_a_later_page_writes_nothing(
        core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ram = pd.alloc_ram(PAGE_SIZE)
    rm.attach(ram, at=0x4000)
    with pytest.raises(PageFault):
        host_write(rm, 0x4FFE, b"span")
    assert ram.read(PAGE_SIZE - 2, 2) == b"\0\0"


def test_host_access_gives_up_when_the_handler_never_grants_rights(
        core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(1 << 20)
    ds = pd.alloc_ram(PAGE_SIZE)
    rm.attach(ds, at=0, writeable=False)

    def stubborn(r: RegionMap, f: Fault) -> None:
        r.detach(0)
        r.attach(ds, at=0, writeable=False)

    handler = Recording(Verdict.RESOLVED, stubborn)
    rm.fault_handler(handler)
    with pytest.raises(PageFault):
        host_write(rm, 0, b"x")
    assert len(handler.calls) > 1
    assert rm.faulters() == []


def test_handler_exception_propagates(core: Core) -> None:
    rm = core.create_region_map(1 << 20)

    def broken(r: RegionMap, f: Fault) -> None:
        raise RuntimeError("handler bug")

    rm.fault_handler(Recording(Verdict.RESOLVED, broken))
    with pytest.raises(RuntimeError):
        host_read(rm, 0, 1)
    assert rm.faulters() == []


def test_installed_handler_is_readable(core: Core, pd: ProtectionDomain) -> None:
    rm = core.create_region_map(PAGE_SIZE)
    ctx = pd.signal_receiver.create_context()
    assert rm.handler is None
    rm.fault_handler(ctx)
    assert rm.handler is ctx
    rm.fault_handler(None)
    assert rm.handler is None
