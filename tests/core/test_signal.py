"""Signal receivers and contexts."""

from __future__ import annotations

from rtcr.core import ProtectionDomain, SignalContext


class Waiter:
    def __init__(self) -> None:
        self.got: list[SignalContext] = []

    def wake_signal(self, context: SignalContext) -> None:
        self.got.append(context)


def test_each_pd_has_one_receiver(pd: ProtectionDomain) -> None:
    assert pd.signal_receiver is pd.signal_receiver


def test_wait_returns_pending_signal_immediately(pd: ProtectionDomain) -> None:
    rx = pd.signal_receiver
    ctx = rx.create_context()
    ctx.submit()
    assert rx.wait(Waiter()) is ctx
    assert rx.pending() == []


def test_wait_without_signal_registers_waiter(pd: ProtectionDomain) -> None:
    rx = pd.signal_receiver
    w = Waiter()
    assert rx.wait(w) is None
    assert rx.waiters() == [w]


def test_submit_wakes_oldest_waiter_exactly_once(pd: ProtectionDomain) -> None:
    rx = pd.signal_receiver
    ctx = rx.create_context()
    first, second = Waiter(), Waiter()
    rx.wait(first)
    rx.wait(second)
    ctx.submit()
    assert first.got == [ctx]
    assert second.got == []
    assert rx.waiters() == [second]
    assert rx.pending() == []


def test_submissions_count_and_deliver_in_order(pd: ProtectionDomain) -> None:
    rx = pd.signal_receiver
    a, b = rx.create_context(), rx.create_context()
    a.submit()
    b.submit()
    a.submit()
    assert rx.pending() == [(a, 2), (b, 1)]
    assert [rx.wait(Waiter()) for _ in range(3)] == [a, b, a]
    assert rx.wait(Waiter()) is None


def test_cancelled_waiter_is_not_woken(pd: ProtectionDomain) -> None:
    rx = pd.signal_receiver
    ctx = rx.create_context()
    w = Waiter()
    rx.wait(w)
    rx.cancel_wait(w)
    rx.cancel_wait(w)
    ctx.submit()
    assert w.got == []
    assert rx.pending() == [(ctx, 1)]
