"""Checkpoints over the wire: the source's commit target and the receiver's intake.

The source's checkpointer commits into a `WireTarget` instead of a store:
its commit worker sends what it would write (BEGIN, a DECLARE per object,
PAGES batches, COMMIT) and waits for the receiver's COMMITTED, which the
receiver sends only once the checkpoint is durable in its own store -- and,
for the final one, verified. The checkpoint ids the source chains on are
the receiver's, so the chain in the receiver's store is exactly the chain
the source took.

The receiver (`receive`) writes each checkpoint with the ordinary
`CheckpointWriter`, so everything it stores is hashed and checked like a
local checkpoint. A parent that is not a checkpoint of this same transfer
is refused: a source can only build on what it sent itself. A post-copy
migration sends one full checkpoint whose pages follow its state; its
receiving half is `_pull` (the protocol is described in `postcopy`).
"""

from __future__ import annotations

import dataclasses
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from rtcr.core import PAGE_SIZE
from rtcr.errors import RtcrError
from rtcr.store import CheckpointInfo, Store
from rtcr.store.native import address

from .pages import PAGES_PER_FRAME, PageReader, PageSender
from .postcopy import PulledImage
from .wire import Channel, Kind, ProtocolError


class WireSink:
    """One checkpoint on its way to the receiver (the `CheckpointSink` of the wire)."""

    def __init__(self, target: WireTarget, parent: int | None) -> None:
        self._target = target
        self._channel = target.channel
        self._committed = False
        self._started = time.perf_counter()
        self._channel.send_json(Kind.BEGIN, {"parent": parent, "final": target.final})

    def __enter__(self) -> WireSink:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self._committed and exc is not None and not isinstance(exc, ProtocolError):
            self._channel.send_json(Kind.ABORT, {"reason": str(exc)})

    def declare(self, key: str, npages: int, fresh: bool = False) -> None:
        self._channel.send_json(Kind.DECLARE, {"key": key, "npages": npages, "fresh": fresh})

    def put_pages(self, key: str, indices: array[int], base: int, addrs: array[int]) -> None:
        self._target.pages.send(key, indices, base, addrs)

    def commit(self, manifest: dict[str, Any], *, instructions: int = 0,
               dirty_pages: int | None = None, pause_us: float = 0.0, strategy: str = "",
               since: float | None = None) -> int:
        self._channel.send_json(Kind.COMMIT, {
            "manifest": manifest, "instructions": instructions, "dirty_pages": dirty_pages,
            "pause_us": pause_us, "strategy": strategy})
        reply = self._channel.recv(Kind.COMMITTED).json()
        try:
            info = CheckpointInfo(**reply["info"])
        except (KeyError, TypeError) as exc:
            raise ProtocolError(f"{self._channel.peer} sent a malformed COMMITTED "
                                f"({exc})") from None
        self._committed = True
        self._target.record(info, time.perf_counter() - self._started)
        return info.id


@dataclass(frozen=True)
class Round:
    """One checkpoint the receiver committed: its record there and how long it took here."""

    info: CheckpointInfo
    seconds: float  # from BEGIN to COMMITTED, as the source measured it


class WireTarget:
    """A `CommitTarget` whose checkpoints go to the receiver at the other end of ``channel``.

    ``final`` marks the checkpoints begun from now on as the last one: the
    receiver verifies it before it says COMMITTED, then continues it.
    """

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.final = False
        self.rounds: list[Round] = []
        self.pages = PageSender(channel)

    @property
    def pages_sent(self) -> int:
        return self.pages.pages_sent

    def begin(self, parent: int | None = None) -> WireSink:
        return WireSink(self, parent)

    def info(self, cid: int) -> CheckpointInfo:
        for done in self.rounds:
            if done.info.id == cid:
                return done.info
        raise ProtocolError(f"checkpoint {cid} was not committed over this connection")

    def record(self, info: CheckpointInfo, seconds: float) -> None:
        self.rounds.append(Round(info, seconds))


# -- the receiving side --------------------------------------------------------------------

class _Intake:
    """The checkpoint a receiver is writing, from BEGIN to COMMIT."""

    def __init__(self, store: Store, parent: int | None, final: bool) -> None:
        self.writer = store.begin(parent=parent)
        self.final = final
        self.started = time.perf_counter()
        self._buffer = bytearray(PAGES_PER_FRAME * PAGE_SIZE)
        self._addrs = array("Q", range(0, PAGES_PER_FRAME * PAGE_SIZE, PAGE_SIZE))
        self._reader = PageReader()

    def pages(self, payload: bytes) -> tuple[str, array[int], memoryview]:
        """Store the pages of a PAGES frame; (key, indices, data) of them."""
        key, indices, data = self._reader.decode(payload)
        self._buffer[:len(data)] = data
        self.writer.put_pages(key, indices, address(self._buffer), self._addrs[:len(indices)])
        return key, indices, data


def _commit(intake: _Intake, store: Store, fields: dict[str, Any]) -> CheckpointInfo:
    try:
        cid = intake.writer.commit(fields["manifest"], instructions=fields["instructions"],
                                   dirty_pages=fields["dirty_pages"],
                                   pause_us=fields["pause_us"], strategy=fields["strategy"],
                                   since=intake.started)
    except KeyError as exc:
        raise ProtocolError(f"COMMIT lacks its field {exc}") from None
    if intake.final:
        report = store.verify(cid)
        if not report.ok:
            problem = report.status(cid) or "; ".join(report.store_errors)
            raise RtcrError(f"checkpoint {cid} did not verify after its commit: {problem}")
    return store.info(cid)


def _pull(channel: Channel, store: Store, intake: _Intake, image: PulledImage,
          land: Callable[[PulledImage], None]) -> CheckpointInfo:
    """The rest of a post-copy migration, from STATE: hand the image over to be run,
    take the pages as they come, commit and verify the checkpoint once all are in."""
    land(image)
    try:
        channel.recv(Kind.GO)
        image.started()
        while True:
            frame = channel.recv(Kind.PAGES, Kind.COMMIT)
            if frame.kind is Kind.PAGES:
                image.deposit(*intake.pages(frame.payload))
                continue
            missing = image.missing()
            if missing is not None:
                raise ProtocolError(f"the source says it sent every page, but page {missing} "
                                    "did not come")
            info = _commit(intake, store, image.fields)
            channel.send_json(Kind.COMMITTED, {"info": dataclasses.asdict(info)})
            image.finish()
            return info
    except RtcrError as exc:
        image.fail(str(exc))
        raise


def receive(channel: Channel, store: Store,
            land: Callable[[PulledImage], None] = lambda image: None) -> CheckpointInfo:
    """Take checkpoints from ``channel`` into ``store`` until the final one is committed.

    Returns the final checkpoint's record (committed, verified, and the
    source told so). A store error (a full disk, say) is sent to the
    source as the reason of a REFUSE and raised here; so is a protocol
    violation. A post-copy migration's checkpoint is given to ``land`` as
    soon as its state is here, to run while its pages arrive (`postcopy`).
    """
    committed: set[int] = set()
    intake: _Intake | None = None
    pulled: PulledImage | None = None
    try:
        while True:
            frame = channel.recv(Kind.BEGIN, Kind.DECLARE, Kind.PAGES, Kind.COMMIT, Kind.ABORT,
                                 *((Kind.STATE,) if pulled is not None else ()))
            if frame.kind is Kind.BEGIN:
                if intake is not None:
                    raise ProtocolError("BEGIN while a checkpoint is still open")
                fields = frame.json()
                parent = fields.get("parent")
                if parent is not None and parent not in committed:
                    raise ProtocolError(f"the source builds on checkpoint {parent!r}, which it "
                                        "did not send in this migration")
                post_copy = bool(fields.get("post_copy"))
                intake = _Intake(store, parent, bool(fields.get("final")) or post_copy)
                if post_copy:
                    pulled = PulledImage(channel, intake.writer.id)
                continue
            if intake is None:
                raise ProtocolError(f"{frame.kind.name} outside a checkpoint")
            if frame.kind is Kind.DECLARE:
                fields = frame.json()
                intake.writer.declare(fields.get("key", ""), fields.get("npages", -1),
                                      fresh=bool(fields.get("fresh")))
                if pulled is not None:
                    pulled.declare(fields["key"], fields["npages"])
            elif frame.kind is Kind.PAGES:
                stored = intake.pages(frame.payload)
                if pulled is not None:
                    pulled.deposit(*stored)
            elif frame.kind is Kind.STATE:
                assert pulled is not None
                pulled.fields = frame.json()
                info = _pull(channel, store, intake, pulled, land)
                intake = None
                return info
            elif frame.kind is Kind.ABORT:
                intake.writer.abort()
                intake = None
                pulled = None
            else:
                info = _commit(intake, store, frame.json())
                final = intake.final
                intake = None
                committed.add(info.id)
                channel.send_json(Kind.COMMITTED, {"info": dataclasses.asdict(info)})
                if final:
                    return info
    except RtcrError as exc:
        channel.refuse(str(exc))
        raise
    finally:
        if intake is not None:
            intake.writer.abort()
