"""The receiving host: take migrations into a store and run what arrives.

An intake thread accepts connections one at a time: it authenticates the
peer, takes its checkpoints into the store (`transfer.receive`), and hands
a migration whose final checkpoint is committed and verified to the main
thread, which restores it, tells the source it runs (STARTED) and runs it
to its end, its LOG on stdout as `rtcr run` prints it. A peer that fails
(wrong secret, another protocol version, a malformed, oversized, truncated
or forged frame, a store error such as a full disk) costs one line on
stderr; the intake goes on with the next one. Each migration's checkpoints
stay in the store.

A post-copy migration is handed to the main thread as soon as its state is
here: the main thread restores it lazily, says READY, and runs it once the
source said GO, while the intake thread goes on taking its pages (the
pages a fault waits for are asked for on the way) and commits the full
checkpoint when all are in (see `postcopy`).
"""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rtcr.checkpoint import LazyLoadFailed, Outcome, Session, SessionResult, Strategy
from rtcr.errors import RtcrError
from rtcr.store import CheckpointInfo, Store

from .postcopy import PulledImage
from .transfer import receive
from .wire import Channel, Kind, ProtocolError, accept, parse_address


@dataclass(frozen=True)
class Arrival:
    """A migration whose final checkpoint is durable and verified in the store."""

    channel: Channel
    checkpoint: CheckpointInfo


@dataclass(frozen=True)
class Pulled:
    """A post-copy migration whose state is here: to run while its pages arrive."""

    image: PulledImage


@dataclass(frozen=True)
class Landed:
    """A migrated component that ran to its end here.

    ``memory_digest`` is None when a post-copy migration's pages did not all
    arrive (its final memory is not all here).
    """

    name: str
    checkpoint: int
    result: SessionResult
    memory_digest: str | None


def listen(address: str) -> socket.socket:
    host, port = parse_address(address)
    try:
        return socket.create_server((host, port), reuse_port=False)
    except OSError as exc:
        raise ProtocolError(f"cannot listen on {address}: {exc.strerror or exc}") from None


class Receiver:
    """Serves migrations on ``sock`` into the store at ``store_dir``."""

    def __init__(self, sock: socket.socket, store_dir: Path, secret: bytes,
                 tell: Callable[[str], None]) -> None:
        self.sock = sock
        self.store_dir = store_dir
        self.secret = secret
        self.tell = tell
        Store.open_or_create(store_dir).close()
        self._arrivals: queue.Queue[Arrival | Pulled] = queue.Queue()
        self._stop = threading.Event()

    @property
    def address(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"{host}:{port}"

    def start(self, *, once: bool) -> None:
        """Start the intake thread (with ``once``, it stops after one migration arrived)."""
        threading.Thread(target=self._intake, args=(once,), name="rtcr-intake",
                         daemon=True).start()

    def _intake(self, once: bool) -> None:
        store = Store.open(self.store_dir)  # this thread's own connection
        try:
            while not self._stop.is_set():
                try:
                    conn, peer = self.sock.accept()
                except OSError:
                    return  # the listening socket was closed
                if self._take(conn, f"{peer[0]}:{peer[1]}", store) and once:
                    return
        finally:
            store.close()

    def _take(self, conn: socket.socket, peer: str, store: Store) -> bool:
        channel: Channel | None = None
        pulled: list[PulledImage] = []

        def land(image: PulledImage) -> None:
            pulled.append(image)
            self._arrivals.put(Pulled(image))

        try:
            channel = accept(conn, peer, self.secret)
            info = receive(channel, store, land)
        except (RtcrError, OSError, ValueError, TypeError) as exc:
            # (the last three: whatever a hostile peer provokes that no check named; the
            # intake must go on with the next peer)
            if pulled:  # the main thread has it, and reports what this means for it
                pulled[0].fail(str(exc))
            else:
                self.tell(f"rtcr: refused the migration from {peer}: {exc}")
            if channel is not None and channel.authenticated:
                channel.linger()
            if channel is not None:
                channel.close()
            else:
                conn.close()
            return False
        if pulled:
            channel.close()
            return True
        self._arrivals.put(Arrival(channel, info))
        return True

    def land(self) -> Landed:
        """Wait for the next migration, continue it here, run it to its end."""
        while True:
            arrival = self._arrivals.get()
            if isinstance(arrival, Arrival):
                return self._land(arrival)
            landed = self._land_pulled(arrival.image)
            if landed is not None:
                return landed

    def _land_pulled(self, image: PulledImage) -> Landed | None:
        """Run a post-copy migration's component while its pages arrive (None: it did not
        start here, and runs on at its source)."""
        session: Session | None = None
        try:
            session = Session.pull(image, image.checkpoint_id)
        except RtcrError as exc:
            image.channel.refuse(f"restoring it failed: {exc}")
            image.fail(str(exc))
        if session is None or not image.ready_to_run():
            self.tell(f"rtcr: the post-copy migration from {image.channel.peer} did not "
                      f"start: {image.failure}; the component runs on at its source")
            return None
        self.tell(f"rtcr: continuing {session.component.name} from checkpoint "
                  f"{image.checkpoint_id} at instruction {session.machine.instructions} "
                  "while its memory arrives (post-copy)")
        result = session.run()
        digest: str | None = None
        try:
            digest = session.memory_digest()  # (waits for every page)
        except LazyLoadFailed as exc:
            if result.outcome is not Outcome.PAGE_CORRUPT:  # else that was said already
                self.tell(f"rtcr: {exc}")
        image.ended.wait()
        if not image.committed and result.outcome is not Outcome.PAGE_CORRUPT:
            self.tell(f"rtcr: checkpoint {image.checkpoint_id} was not completed here: "
                      f"{image.failure}")
        return Landed(session.component.name, image.checkpoint_id, result, digest)

    def _land(self, arrival: Arrival) -> Landed:
        with Store.open(self.store_dir) as store:
            # It takes no checkpoints here: arming write tracking for every page would be
            # most of the restore, and so of the downtime (the strategy is invisible to it).
            # Forced: the source has given the component up, so it continues here whatever
            # its provenance says (a warning names the difference).
            session = Session.resume(store, arrival.checkpoint.id, checkpoint=False,
                                     strategy=Strategy.FULL, force=True)
        if session.forced is not None:
            self.tell(f"rtcr: warning: {session.forced}; the migrated component continues")
        try:
            arrival.channel.send_json(Kind.STARTED, {"checkpoint": arrival.checkpoint.id})
        except ProtocolError as exc:  # the source holds no copy any more: run it anyway
            self.tell(f"rtcr: could not tell the source the component runs: {exc}")
        arrival.channel.close()
        self.tell(f"rtcr: continuing {session.component.name} from checkpoint "
                  f"{arrival.checkpoint.id} at instruction {arrival.checkpoint.instructions}")
        result = session.run()
        return Landed(session.component.name, arrival.checkpoint.id, result,
                      session.memory_digest())

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
