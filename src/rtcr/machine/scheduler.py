"""Deterministic scheduling and virtual time.

Preemption is driven by guest progress, never by host time: a thread runs
for a quantum of instructions, then the next runnable thread (FIFO) gets
the CPU. Virtual time advances one nanosecond per guest instruction and
jumps ahead when every thread sleeps. The same program therefore gets the
same interleaving, output and instruction count on every run, which is
what lets a restored run be compared bit for bit with an uninterrupted one.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable

from .thread import SleepUntil, Thread, ThreadState

DEFAULT_QUANTUM = 200_000  # instructions; about a millisecond of emulation


class Scheduler:
    """The run queue, the sleepers and virtual time.

    ``instructions`` counts the guest instructions executed so far (the
    machine's): the scheduler reads time from it and knows nothing else of
    the machine.
    """

    def __init__(self, instructions: Callable[[], int], quantum: int = DEFAULT_QUANTUM) -> None:
        if quantum <= 0:
            raise ValueError("the scheduling quantum must be positive")
        self._instructions = instructions
        self.quantum = quantum
        self.run_queue: deque[Thread] = deque()
        self._sleepers: list[tuple[int, int, Thread]] = []
        self._sleep_sequence = 0
        self.idle_ns = 0  # virtual time that passed with every thread asleep
        self.preempt_requested = False
        # A slice cut short by a pause (not by the schedule) continues after it,
        # so that pausing -- to checkpoint, say -- never changes the interleaving.
        self.carried: tuple[Thread, int] | None = None

    @property
    def now_ns(self) -> int:
        return self._instructions() + self.idle_ns

    def make_runnable(self, thread: Thread) -> None:
        if thread not in self.run_queue:
            self.run_queue.append(thread)

    def sleep(self, thread: Thread, deadline_ns: int) -> None:
        thread.block(SleepUntil(deadline_ns))
        self._sleep_sequence += 1
        heapq.heappush(self._sleepers, (deadline_ns, self._sleep_sequence, thread))

    def next_deadline(self) -> int | None:
        self._drop_stale_sleepers()
        return self._sleepers[0][0] if self._sleepers else None

    def wake_sleepers(self) -> None:
        now = self.now_ns
        while self._sleepers and self._sleepers[0][0] <= now:
            deadline, _, thread = heapq.heappop(self._sleepers)
            if _sleeps_until(thread, deadline):
                thread.unblock(result=0)

    def idle_until_next_deadline(self) -> bool:
        """Nothing can run: let virtual time jump to the next sleeper's deadline."""
        deadline = self.next_deadline()
        if deadline is None:
            return False
        self.idle_ns += max(0, deadline - self.now_ns)
        self.wake_sleepers()
        return True

    def pick(self) -> tuple[Thread, int] | None:
        """The next thread to run and its slice budget in instructions."""
        if self.carried is not None:
            thread, left = self.carried
            self.carried = None
            if thread.state is ThreadState.RUNNABLE:
                return thread, left
        while self.run_queue:
            thread = self.run_queue.popleft()
            if thread.state is ThreadState.RUNNABLE:
                return thread, self.quantum
        return None

    def carry(self, thread: Thread, left: int) -> None:
        """`thread` was paused mid-slice: it continues first, with `left` instructions."""
        self.carried = (thread, left)

    def slice_state(self) -> dict[str, int] | None:
        if self.carried is None or self.carried[0].state is not ThreadState.RUNNABLE:
            return None
        return {"tid": self.carried[0].tid, "left": self.carried[1]}

    def requeue(self, thread: Thread) -> None:
        if thread.state is ThreadState.RUNNABLE:
            self.make_runnable(thread)

    def sleepers(self) -> list[Thread]:
        self._drop_stale_sleepers()
        return [thread for _, _, thread in sorted(self._sleepers, key=lambda s: s[:2])]

    def _drop_stale_sleepers(self) -> None:
        while self._sleepers and not _sleeps_until(self._sleepers[0][2], self._sleepers[0][0]):
            heapq.heappop(self._sleepers)


def _sleeps_until(thread: Thread, deadline: int) -> bool:
    blocker = thread.blocker
    return (thread.state is ThreadState.BLOCKED and isinstance(blocker, SleepUntil)
            and blocker.deadline_ns == deadline)
