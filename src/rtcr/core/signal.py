"""Signal receivers and contexts (Genode's asynchronous notifications).

A signal carries no data, only "this context fired n times". Submissions
are delivered in the order they were made, one per ``wait``, so that a
busy context cannot starve the others and a run is deterministic.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol


class SignalWaiter(Protocol):
    """Something blocked in ``SignalReceiver.wait`` (a thread)."""

    def wake_signal(self, context: SignalContext) -> None: ...


class SignalContext:
    """One source of signals, bound to the receiver that delivers them."""

    __slots__ = ("_count", "_freed", "badge", "receiver")

    def __init__(self, badge: int, receiver: SignalReceiver) -> None:
        self.badge = badge
        self.receiver = receiver
        self._count = 0
        self._freed = False

    def __repr__(self) -> str:
        return f"<SignalContext badge={self.badge} pending={self._count}>"

    @property
    def count(self) -> int:
        """Submissions not yet delivered."""
        return self._count

    @property
    def freed(self) -> bool:
        """Dissolved by its owner: submitting it does nothing any more."""
        return self._freed

    def submit(self) -> None:
        """Fire once: hand it to the oldest waiter, or keep it pending (freed: nothing)."""
        if not self._freed:
            self.receiver._submit(self)


class SignalReceiver:
    """Per-PD receiver: a FIFO of pending submissions and a FIFO of waiters."""

    __slots__ = ("_badges", "_contexts", "_pending", "_waiters")

    def __init__(self, badges: Callable[[], int]) -> None:
        self._badges = badges
        self._contexts: list[SignalContext] = []
        self._pending: deque[SignalContext] = deque()
        self._waiters: deque[SignalWaiter] = deque()

    def create_context(self) -> SignalContext:
        """A new context delivering to this receiver (not charged; the caller installs it)."""
        ctx = SignalContext(self._badges(), self)
        self._contexts.append(ctx)
        return ctx

    def dissolve(self, ctx: SignalContext) -> None:
        """Genode's ``free_context``: drop its undelivered submissions, ignore later ones.

        Whoever still names it (a holder's selector, a region map's fault
        handler) reaches nothing from now on; dissolving twice is a no-op.
        """
        if ctx._freed:
            return
        ctx._freed = True
        ctx._count = 0
        self._contexts.remove(ctx)
        self._pending = deque(c for c in self._pending if c is not ctx)

    def contexts(self) -> list[SignalContext]:
        """Every context created on this receiver, oldest first."""
        return list(self._contexts)

    def _submit(self, ctx: SignalContext) -> None:
        if self._waiters:
            waiter = self._waiters.popleft()
            waiter.wake_signal(ctx)
            return
        ctx._count += 1
        self._pending.append(ctx)

    def wait(self, waiter: SignalWaiter) -> SignalContext | None:
        """Take the oldest pending submission, or register ``waiter`` and return None.

        A registered waiter gets exactly one ``wake_signal(ctx)`` later
        (unless it cancels first).
        """
        if self._pending:
            ctx = self._pending.popleft()
            ctx._count -= 1
            return ctx
        self._waiters.append(waiter)
        return None

    def cancel_wait(self, waiter: SignalWaiter) -> None:
        """Forget a waiter (its thread was killed); no-op if it is not waiting."""
        for i, w in enumerate(self._waiters):
            if w is waiter:
                del self._waiters[i]
                return

    def pending(self) -> list[tuple[SignalContext, int]]:
        """Contexts with undelivered submissions and their counts, by first pending submission."""
        seen: dict[int, SignalContext] = {}
        for ctx in self._pending:
            seen.setdefault(id(ctx), ctx)
        return [(ctx, ctx._count) for ctx in seen.values()]

    def pending_queue(self) -> list[SignalContext]:
        """Undelivered submissions in delivery order (one entry per submission)."""
        return list(self._pending)

    def waiters(self) -> list[SignalWaiter]:
        """Registered waiters, oldest first."""
        return list(self._waiters)
