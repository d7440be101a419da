"""The source of a migration: a running session's checkpoints, streamed to a receiver.

A migration is a chain of incremental checkpoints committed into the
receiver's store, then a restore there. The source's checkpointer commits
over the wire (`transfer.WireTarget`) instead of into a store:

- *pre-copy* (the default): round 1 is a full checkpoint; its pause only
  copies the pages into staging memory, and the component runs on while
  the commit worker sends them. Round k holds the pages written since
  round k-1 (read-only-attach tracking). When the pages dirty now would
  take no longer than ``downtime_ms`` at the best rate measured so far, or
  ``max_rounds`` is reached, the component is stopped and the last
  increment -- with the complete state -- is sent. A round whose write set
  did not shrink to half of what the round before sent is not converging:
  with ``auto_converge`` the component is throttled (`Throttle`) for the
  next round, as QEMU's auto-converge throttles a vCPU; without it, or once
  the throttle is at its limit, the next round is the last;
- *stop-and-copy* (the baseline): the component is stopped and one full
  checkpoint is sent;
- *post-copy*: the component is stopped, its state sent, and it runs at
  the receiver at once while its pages follow (`postcopy`, which also says
  what a failure after it started there means).

The receiver commits the last checkpoint durably, verifies it, says
COMMITTED, restores it and says STARTED. Only after COMMITTED does the
source give the component up. If the connection fails or the receiver
refuses before that, the component simply runs on here: its state never
left this machine's memory, and tracking is reset so that nothing written
meanwhile is missed by a later checkpoint (`Checkpointer` marks every page
dirty when a commit fails).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass

from rtcr.checkpoint import Outcome, Session, SessionResult
from rtcr.checkpoint.checkpointer import Checkpointer, fault_totals
from rtcr.checkpoint.staging import DEFAULT_BUDGET, StagingArea
from rtcr.errors import RtcrError

from .postcopy import Handover
from .transfer import WireTarget
from .wire import Kind, ProtocolError, connect

DEFAULT_DOWNTIME_MS = 50.0
DEFAULT_MAX_ROUNDS = 8
# Throttling stops here: the component keeps a hundredth of the host's time, so a
# migration that cannot converge even then still ends (with its last round stopped).
MAX_THROTTLE = 0.99
# A throttled component is held back in naps this long at most, so that the end of the
# round in flight is noticed soon after it comes.
_NAP_SECONDS = 0.005
# A post-copy migration failed after the receiver started the component: it runs nowhere
# here, and its memory is split between the two hosts (sysexits' EX_TEMPFAIL).
EXIT_HANDED_OVER = 75


class Mode(enum.Enum):
    PRE_COPY = "pre-copy"
    STOP_AND_COPY = "stop-and-copy"
    POST_COPY = "post-copy"


@dataclass(frozen=True)
class MigrationPlan:
    """Where and how to migrate; ``at`` is the component's instruction count to start at."""

    to: str
    secret: bytes
    at: int = 0
    mode: Mode = Mode.PRE_COPY
    downtime_ms: float = DEFAULT_DOWNTIME_MS
    max_rounds: int = DEFAULT_MAX_ROUNDS
    staging_budget: int = DEFAULT_BUDGET
    auto_converge: bool = True


@dataclass(frozen=True)
class Throttle:
    """The share of the host's time a pre-copy migration holds the component back.

    Pre-copy converges only if the component writes fewer pages per round
    than a round sends. When it writes faster, slowing it down is the only
    lever: the guest cannot tell, because its clock counts instructions, not
    host time (the determinism contract), so a throttled run is the same run,
    only later. Each round that does not converge (its write set is more than
    half of what it sent) halves the component's share of the host's time,
    and quarters it when the component wrote as many pages as were sent: a
    write set saturates at the pages there are, so it then says only that
    the rate is at least that high. Fewer rounds than QEMU's fixed 10 %
    steps, which matters with eight rounds, not hundreds.
    """

    fraction: float = 0.0  # 0: full speed; MAX_THROTTLE: a hundredth of it

    @property
    def at_limit(self) -> bool:
        return self.fraction >= MAX_THROTTLE

    def tightened(self, dirty: int, sent: int) -> Throttle:
        """After a round that sent ``sent`` pages while ``dirty`` were written again."""
        cut = 0.25 if dirty >= sent else 0.5
        return Throttle(min(MAX_THROTTLE, 1.0 - (1.0 - self.fraction) * cut))

    def pause_after(self, ran_seconds: float) -> float:
        """How long to hold the component after it ran ``ran_seconds`` of host time."""
        return ran_seconds * self.fraction / (1.0 - self.fraction)

    @property
    def percent(self) -> int:
        return round(self.fraction * 100)


@dataclass(frozen=True)
class MigrationStats:
    """What `--summary-json` reports as ``migration``.

    ``downtime_ms``: the component stopped at the source until the receiver
    said it runs it (post-copy: said GO); ``total_ms``: from connecting to
    that point (post-copy: until the receiver holds every page). A failed
    migration has ``failure`` and no downtime; ``handed_over`` says that a
    post-copy one failed after the receiver started the component.
    """

    mode: Mode
    rounds: int
    bytes_sent: int
    pages_sent: int
    downtime_ms: float | None
    total_ms: float
    checkpoint: int | None = None  # the final checkpoint's id in the receiver's store
    failure: str | None = None
    handed_over: bool = False
    pages_pulled: int | None = None  # post-copy: pages the receiver asked for first
    throttle_percent: int = 0  # pre-copy: the most the component was held back

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "mode": self.mode.value, "rounds": self.rounds, "bytes_sent": self.bytes_sent,
            "pages_sent": self.pages_sent, "downtime_ms": self.downtime_ms,
            "total_ms": round(self.total_ms, 3)}
        if self.checkpoint is not None:
            out["checkpoint"] = self.checkpoint
        if self.failure is not None:
            out["failure"] = self.failure
        if self.handed_over:
            out["handed_over"] = True
        if self.pages_pulled is not None:
            out["pages_pulled"] = self.pages_pulled
        if self.mode is Mode.PRE_COPY:
            out["throttle_percent"] = self.throttle_percent
        return out


@dataclass(frozen=True)
class MigrationResult:
    """How the run at the source ended: migrated (``stats.failure`` None) or run on here."""

    run: SessionResult
    stats: MigrationStats | None  # None: the component ended before the migration point

    @property
    def migrated(self) -> bool:
        return self.stats is not None and self.stats.failure is None


def dirty_pages(session: Session) -> int:
    """Pages written since the last checkpoint, over every RAM object."""
    return sum(record.tracked.pages_in(record.tracked.dirty)
               for record in session.runtime.ram_records() if record.tracked.ram is not None)


class _Rounds:
    """The pre-copy rounds of one migration: take them, run while they go, decide the last."""

    def __init__(self, session: Session, plan: MigrationPlan, target: WireTarget,
                 limit: Callable[[], int | None], interrupted: Callable[[], bool]) -> None:
        self.session = session
        self.interrupted = interrupted
        self.plan = plan
        self.target = target
        self.limit = limit
        self.checkpointer = Checkpointer(session.machine, session.component, session.runtime,
                                         target, staging=StagingArea(plan.staging_budget))
        self.error: RtcrError | None = None
        self.throttle = Throttle()  # only ever tightened: the last is the most

    def last_round_due(self) -> bool:
        rounds = self.target.rounds
        if self.plan.mode is Mode.STOP_AND_COPY or len(rounds) + 1 >= self.plan.max_rounds:
            return True
        if not rounds:
            return False
        dirty = dirty_pages(self.session)
        rate = max((r.info.pages / r.seconds for r in rounds if r.seconds > 0),
                   default=0.0)  # pages/s
        if rate and dirty / rate * 1000 <= self.plan.downtime_ms:
            return True
        sent = rounds[-1].info.pages
        if 2 * dirty <= sent:
            return False  # converging: the next round is at most half of this one
        if self.plan.auto_converge and not self.throttle.at_limit:
            self.throttle = self.throttle.tightened(dirty, sent)
            return False
        # Not converging at all: another round would send as much again.
        return len(rounds) >= 2 and dirty >= sent

    def run_while_sending(self) -> SessionResult:
        """Run the component until the round in flight is committed (or failed), held back
        by the throttle between its time slices."""
        checkpointer = self.checkpointer
        before = len(checkpointer.history)
        slice_began = time.perf_counter()

        def round_over() -> bool:
            try:
                checkpointer.background()
            except RtcrError as exc:
                self.error = exc
            return (self.error is not None or self.interrupted()
                    or len(checkpointer.history) > before)

        def poll() -> None:
            nonlocal slice_began
            now = time.perf_counter()
            wake = now + self.throttle.pause_after(now - slice_began)
            while now < wake and not round_over():
                time.sleep(min(_NAP_SECONDS, wake - now))
                now = time.perf_counter()
            slice_began = time.perf_counter()

        return self.session.run(max_instructions=self.limit(), on_progress=poll,
                                stop_when=round_over)

    def close(self) -> None:
        self.checkpointer.committer.close()
        self.checkpointer.staging.close()


def migrate(session: Session, plan: MigrationPlan, *, max_instructions: int | None = None,
            tell: Callable[[str], None] = lambda line: None,
            interrupted: Callable[[], bool] = lambda: False) -> MigrationResult:
    """Run ``session`` to instruction ``plan.at``, then migrate it (see the module).

    On failure ``tell`` gets one line saying why and that the component
    keeps running here, and the run goes on to its end at the source.
    When ``interrupted()`` says so (SIGINT), the migration is abandoned the
    same way and the run stops between two time slices.
    """
    machine = session.machine
    end = machine.instructions + max_instructions if max_instructions is not None else None

    def limit() -> int | None:
        return None if end is None else max(0, end - machine.instructions)

    if machine.instructions < plan.at:
        before = session.run(max_instructions=limit(),
                             stop_when=lambda: interrupted() or machine.instructions >= plan.at)
        if before.outcome is not Outcome.STOPPED or interrupted():
            return MigrationResult(before, None)
    started = time.perf_counter()
    if plan.mode is Mode.POST_COPY:
        return _post_copy(session, plan, started, limit, tell, interrupted)
    rounds: _Rounds | None = None
    target: WireTarget | None = None
    try:
        channel = connect(plan.to, plan.secret)
        target = WireTarget(channel)
        rounds = _Rounds(session, plan, target, limit, interrupted)
        while not rounds.last_round_due():
            rounds.checkpointer.take()
            during = rounds.run_while_sending()
            if rounds.error is not None:
                raise rounds.error
            if interrupted():
                raise RtcrError("interrupted")
            if during.outcome is not Outcome.STOPPED:  # it ended here before it could move
                reason = "the component ended at the source during pre-copy"
                tell(f"rtcr: {reason}; it was not migrated")
                rounds.checkpointer.committer.drain()  # the round in flight ends first
                channel.refuse(reason)
                channel.close()
                return MigrationResult(during, _stats(plan, target, started, None, None,
                                                      reason, rounds.throttle))
        stopped = time.perf_counter()
        target.final = True
        rounds.checkpointer.take()
        rounds.checkpointer.finish()  # COMMITTED: durable and verified at the receiver
        try:
            channel.recv(Kind.STARTED)
        except ProtocolError as exc:
            tell(f"rtcr: {plan.to} holds the component but did not confirm starting it: {exc}")
        done = time.perf_counter()
        channel.close()
        gone = SessionResult(Outcome.STOPPED, 0, machine.instructions,
                             f"migrated to {plan.to}", fault_totals(machine),
                             wall_seconds=done - started)
        return MigrationResult(gone, _stats(plan, target, started, (done - stopped) * 1000,
                                            target.rounds[-1].info.id, None, rounds.throttle))
    except RtcrError as exc:
        if target is not None:
            target.channel.close()
        stats = _stats(plan, target, started, None, None, str(exc),
                       rounds.throttle if rounds is not None else Throttle())
        if rounds is not None:
            rounds.close()
            rounds = None
        return _run_on(session, plan, exc, stats, limit, tell, interrupted)
    finally:
        if rounds is not None:
            rounds.close()


def _run_on(session: Session, plan: MigrationPlan, exc: RtcrError, stats: MigrationStats,
            limit: Callable[[], int | None], tell: Callable[[str], None],
            interrupted: Callable[[], bool]) -> MigrationResult:
    """A migration failed before the receiver ran the component: it runs on here."""
    tell(f"rtcr: migration to {plan.to} abandoned: interrupted" if interrupted() else
         f"rtcr: migration to {plan.to} failed: {exc}; the component keeps running here")
    return MigrationResult(session.run(max_instructions=limit(), stop_when=interrupted),
                           stats)


def _post_copy(session: Session, plan: MigrationPlan, started: float,
               limit: Callable[[], int | None], tell: Callable[[str], None],
               interrupted: Callable[[], bool]) -> MigrationResult:
    """Post-copy from the stopped ``session`` (see `postcopy`)."""
    handover: Handover | None = None

    def stats(downtime_ms: float | None, failure: str | None = None,
              handed_over: bool = False) -> MigrationStats:
        return MigrationStats(
            plan.mode, 1 if handover is not None and handover.checkpoint is not None else 0,
            handover.channel.bytes_sent if handover else 0,
            handover.pages_sent if handover else 0,
            None if downtime_ms is None else round(downtime_ms, 3),
            (time.perf_counter() - started) * 1000,
            handover.checkpoint if handover else None, failure,
            handed_over=handed_over, pages_pulled=handover.pages_pulled if handover else None)

    try:
        handover = Handover(session, connect(plan.to, plan.secret))
        handover.offer()
        handover.go()
    except RtcrError as exc:
        if handover is not None:
            handover.channel.close()
        return _run_on(session, plan, exc, stats(None, str(exc)), limit, tell, interrupted)
    try:
        handover.push()
    except RtcrError as exc:  # the receiver runs it, and has not got all of its memory
        handover.channel.close()
        tell(f"rtcr: post-copy to {plan.to} failed after the component started there: "
             f"{exc}; {_keep(session)}")
        assert handover.went is not None
        result = stats((handover.went - started) * 1000, str(exc), handed_over=True)
        return MigrationResult(SessionResult(
            Outcome.STOPPED, EXIT_HANDED_OVER, session.machine.instructions,
            f"post-copy to {plan.to} failed after the component started there",
            fault_totals(session.machine), wall_seconds=time.perf_counter() - started), result)
    handover.channel.close()
    assert handover.went is not None
    result = stats((handover.went - started) * 1000)
    return MigrationResult(SessionResult(
        Outcome.STOPPED, 0, session.machine.instructions, f"migrated to {plan.to}",
        fault_totals(session.machine), wall_seconds=time.perf_counter() - started), result)


def _keep(session: Session) -> str:
    """After a failed post-copy: keep the source's copy in its store if it has one."""
    if session.checkpointer is None:
        return ("the pages not sent yet are lost with this process (a source run with "
                "--store keeps a checkpoint of what it held)")
    try:
        kept = session.checkpoint()
    except RtcrError as exc:
        return f"keeping a checkpoint of what this process held failed too: {exc}"
    return (f"the state it left here with is checkpoint {kept.id} of this run's store (the "
            "receiver may have run it further: continuing it repeats what ran there)")


def _stats(plan: MigrationPlan, target: WireTarget | None, started: float,
           downtime_ms: float | None, checkpoint: int | None,
           failure: str | None, throttle: Throttle) -> MigrationStats:
    return MigrationStats(
        plan.mode, len(target.rounds) if target else 0,
        target.channel.bytes_sent if target else 0, target.pages_sent if target else 0,
        None if downtime_ms is None else round(downtime_ms, 3),
        (time.perf_counter() - started) * 1000, checkpoint, failure,
        throttle_percent=throttle.percent)

