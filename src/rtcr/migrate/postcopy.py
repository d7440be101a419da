"""Post-copy migration: the component runs at the receiver first, its memory follows.

The source stops the component where the migration starts and sends
BEGIN (``post_copy``), a DECLARE per memory object, the ROM pages (a
restore copies them at once; they are small), then STATE: the manifest
and record fields of a full checkpoint. The receiver restores it lazily
(`Session.pull`: every RAM part faults on its first access) and says
READY; the source says GO, and from then on the component is the
receiver's: the source never runs it again. The source then pushes every
RAM page, object by object in address order, serving the receiver's
REQUESTs (the pages a fault there waits for) before the next batch, and
says COMMIT when all are sent. The receiver writes every page it gets
into its store as it arrives; when all are in it commits the full
checkpoint, verifies it and says COMMITTED. Only then does the source let
its copy go.

A page is attached only after the frame carrying it passed its MAC check
(the wire's checksum) and decoded to exactly its pages, and the committed
checkpoint is verified like any other; a page that does not arrive intact
stops the component at the receiver with one line naming the checkpoint
and the page (`PagesLost`, through the lazy loader's `LazyLoadFailed`).

Failures. Before GO, nothing was given up: the source runs the component
on, the receiver drops what it restored. After GO neither side alone holds
the whole state -- the receiver has the pages that arrived and what the
component did since, the source the rest -- which is post-copy's known
weakness. The receiver stops the component as soon as it misses a page
it cannot get any more (at once, by the prefetcher, or at the fault that
needs it); the source keeps its stopped copy, writes it as a checkpoint
into its own store if it has one, and reports which; it does not run it.
"""

from __future__ import annotations

import ctypes
import queue
import threading
import time
from array import array
from dataclasses import dataclass
from typing import Any

from rtcr.checkpoint import Session
from rtcr.checkpoint.image import capture, object_key
from rtcr.checkpoint.runtime import RamRecord, RomRecord
from rtcr.core import PAGE_SIZE, Dataspace
from rtcr.errors import StoreError
from rtcr.store.native import address

from .pages import PAGES_PER_FRAME, PageSender
from .wire import Channel, Kind, ProtocolError


class PagesLost(StoreError):
    """A page of a post-copy migration did not arrive intact, and will not arrive."""


@dataclass(frozen=True)
class _Object:
    """A memory object the source sends: its pages are at ``frames`` in the machine's RAM."""

    key: str
    rom: bool
    frames: array[int]  # u64 physical address of each page

    @property
    def npages(self) -> int:
        return len(self.frames)


def _objects(session: Session) -> list[_Object]:
    """The memory objects a checkpoint of ``session`` holds, by id (as `Checkpointer`)."""
    out: list[_Object] = []
    for oid, record in sorted(session.runtime.objects.items()):
        ds: Dataspace
        if isinstance(record, RomRecord):
            ds, rom = record.rom, True
        elif isinstance(record, RamRecord) and record.tracked.ram is not None:
            ds, rom = record.tracked.ram, False
        else:
            continue
        out.append(_Object(object_key(oid), rom,
                           array("Q", (ds.frame(i) for i in range(ds.size // PAGE_SIZE)))))
    return out


class Handover:
    """The source's side of one post-copy migration: a stopped session, sent over ``channel``.

    `offer` sends the state and waits for READY, `go` says GO (a failure
    up to there gives nothing up); `push` sends the pages, serves requests
    and returns once the receiver holds all of them durably.
    """

    def __init__(self, session: Session, channel: Channel) -> None:
        self.session = session
        self.channel = channel
        self.sender = PageSender(channel)
        self.objects = _objects(session)
        self.checkpoint: int | None = None  # the receiver's id of it, from READY
        self.pages_pulled = 0  # pages the receiver asked for before the push reached them
        self.went: float | None = None  # perf_counter when GO was sent
        self._by_key = {obj.key: obj for obj in self.objects}
        self._sent = {obj.key: bytearray(obj.npages) for obj in self.objects}
        self._ram_base = address(session.machine.core.ram.buffer)
        self._requests: queue.Queue[tuple[str, int, int] | None] = queue.Queue()
        self._answered = threading.Event()
        self._error: ProtocolError | None = None

    @property
    def pages_sent(self) -> int:
        return self.sender.pages_sent

    def offer(self) -> None:
        """Send the non-memory state and the ROMs; wait until the receiver restored it."""
        started = time.perf_counter()
        session, channel = self.session, self.channel
        manifest = capture(session.machine, session.component, session.runtime)
        channel.send_json(Kind.BEGIN, {"parent": None, "final": True, "post_copy": True})
        for obj in self.objects:
            channel.send_json(Kind.DECLARE, {"key": obj.key, "npages": obj.npages,
                                             "fresh": True})
        for obj in self.objects:
            if obj.rom:
                self._send(obj, 0, obj.npages)
        channel.send_json(Kind.STATE, {
            "manifest": manifest, "instructions": session.machine.instructions,
            "dirty_pages": None, "pause_us": (time.perf_counter() - started) * 1e6,
            "strategy": session.runtime.strategy.value})
        ready = channel.recv(Kind.READY).json()
        checkpoint = ready.get("checkpoint")
        if not isinstance(checkpoint, int):
            raise ProtocolError(f"{channel.peer} sent a READY without a checkpoint id")
        self.checkpoint = checkpoint

    def go(self) -> None:
        """Give the component up: the receiver runs it once this frame is there whole."""
        self.channel.send_json(Kind.GO, {})
        self.went = time.perf_counter()

    def push(self) -> None:
        """After GO: every RAM page; returns when the receiver said COMMITTED."""
        threading.Thread(target=self._listen, name="rtcr-postcopy-requests",
                         daemon=True).start()
        for obj in self.objects:
            if obj.rom:
                continue
            for start in range(0, obj.npages, PAGES_PER_FRAME):
                self._serve_requests()
                self._send(obj, start, min(start + PAGES_PER_FRAME, obj.npages))
        self._serve_requests()
        self.channel.send_json(Kind.COMMIT, {})
        self._answered.wait()
        if self._error is not None:
            raise self._error

    def _send(self, obj: _Object, start: int, end: int) -> int:
        """Send the pages of ``obj`` in ``[start, end)`` not sent yet: how many."""
        sent = self._sent[obj.key]
        indices = array("I", (i for i in range(start, end) if not sent[i]))
        for i in indices:
            sent[i] = 1
        if indices:
            self.sender.send(obj.key, indices, self._ram_base,
                             array("Q", (obj.frames[i] for i in indices)))
        return len(indices)

    def _serve_requests(self) -> None:
        if self._error is not None:
            raise self._error
        while True:
            try:
                request = self._requests.get_nowait()
            except queue.Empty:
                return
            if request is None:  # the receiver answered (or the connection failed)
                if self._error is not None:
                    raise self._error
                return
            key, start, end = request
            self.pages_pulled += self._send(self._by_key[key], start, end)

    def _listen(self) -> None:
        """The receiver's frames: REQUESTs until COMMITTED (a thread of its own)."""
        try:
            while True:
                frame = self.channel.recv(Kind.REQUEST, Kind.COMMITTED)
                if frame.kind is Kind.COMMITTED:
                    return
                self._requests.put(self._request(frame.json()))
        except ProtocolError as exc:
            self._error = exc
        finally:
            self._requests.put(None)
            self._answered.set()

    def _request(self, fields: dict[str, Any]) -> tuple[str, int, int]:
        key, start, end = fields.get("key"), fields.get("start"), fields.get("end")
        obj = self._by_key.get(key) if isinstance(key, str) else None
        if (obj is None or not isinstance(start, int) or not isinstance(end, int)
                or not 0 <= start < end <= obj.npages):
            raise ProtocolError(f"{self.channel.peer} requested pages {key!r}[{start}:{end}], "
                                "which this migration does not hold")
        return obj.key, start, end


class PulledImage:
    """The checkpoint of a post-copy migration at the receiver, as a `PageSource`.

    The intake thread `deposit`s pages as they arrive (and writes them to
    the store); the main thread's restore and lazy loader take them out,
    asking the source for those a fault waits for. Every page of the image
    is stored (it is a full checkpoint), so entries are page indices.
    """

    def __init__(self, channel: Channel, checkpoint_id: int) -> None:
        self.channel = channel
        self.checkpoint_id = checkpoint_id
        self.fields: dict[str, Any] = {}  # STATE: the manifest and record fields
        self.failure: str | None = None
        self.committed = False  # every page is in the store, verified, the source told so
        self.went = threading.Event()  # GO came, or the migration failed
        self.ended = threading.Event()  # committed, or failed
        self._running = False
        self._lock = threading.Condition()
        self._npages: dict[str, int] = {}
        self._arrived: dict[str, bytearray] = {}
        self._requested: dict[str, bytearray] = {}
        self._pages: dict[str, dict[int, bytes]] = {}  # arrived, not taken out yet

    # -- the intake thread ----------------------------------------------------------------
    def declare(self, key: str, npages: int) -> None:
        with self._lock:
            self._npages[key] = npages
            self._arrived[key] = bytearray(npages)
            self._requested[key] = bytearray(npages)
            self._pages[key] = {}

    def deposit(self, key: str, indices: array[int], data: memoryview) -> None:
        with self._lock:
            arrived = self._arrived.get(key)
            if arrived is None:
                raise ProtocolError(f"pages of {key!r}, which the source did not declare")
            pages = self._pages[key]
            for k, index in enumerate(indices):
                if index >= len(arrived) or arrived[index]:
                    raise ProtocolError(f"page {key}[{index}] sent twice or outside its object")
                arrived[index] = 1
                pages[index] = bytes(data[k * PAGE_SIZE:(k + 1) * PAGE_SIZE])
            self._lock.notify_all()

    def missing(self) -> str | None:
        """The first page that has not arrived (``key[index]``), None if all have."""
        with self._lock:
            for key, arrived in self._arrived.items():
                at = arrived.find(0)
                if at >= 0:
                    return f"{key}[{at}]"
        return None

    def started(self) -> None:
        self._running = True
        self.went.set()

    def finish(self) -> None:
        self.committed = True
        self.ended.set()

    def fail(self, reason: str) -> None:
        with self._lock:
            if self.failure is None:
                self.failure = reason
            self._lock.notify_all()
        self.went.set()
        self.ended.set()

    # -- the main thread --------------------------------------------------------------------
    def ready_to_run(self) -> bool:
        """Say READY and wait for GO: False if the migration failed before it."""
        try:
            self.channel.send_json(Kind.READY, {"checkpoint": self.checkpoint_id})
        except ProtocolError as exc:
            self.fail(str(exc))
        self.went.wait()
        return self._running

    @property
    def manifest(self) -> dict[str, Any]:
        manifest = self.fields.get("manifest")
        if not isinstance(manifest, dict):
            raise ProtocolError(f"{self.channel.peer} sent a STATE without a manifest")
        return manifest

    def indices(self, key: str) -> array[int]:
        return array("I", range(self._npages_of(key)))

    def _npages_of(self, key: str) -> int:
        npages = self._npages.get(key)
        if npages is None:
            raise ProtocolError(f"the manifest names {key!r}, which the source did not declare")
        return npages

    def ready(self, key: str, start: int, end: int) -> int:
        with self._lock:
            at = self._arrived[key].find(0, start, end)
            if at < 0:
                return end
            if self.failure is not None:
                raise self._lost(key, at)
            return at

    def scatter(self, key: str, base: int, addrs: array[int], *, zeroed: bool = False) -> int:
        # (`zeroed` is a hint a source may ignore: every page is written here.)
        npages = self._npages_of(key)
        self.scatter_slice(key, base, 0, npages, addrs[:npages])
        return npages

    def scatter_slice(self, key: str, base: int, start: int, end: int,
                      addrs: array[int]) -> None:
        with self._lock:
            arrived, requested = self._arrived[key], self._requested[key]
            first = arrived.find(0, start, end)
            if first >= 0:
                last = arrived.rfind(0, start, end)
                if requested.find(0, first, last + 1) >= 0 and self.failure is None:
                    requested[first:last + 1] = b"\x01" * (last + 1 - first)
                    self._request(key, first, last + 1)
                while self.failure is None and arrived.find(0, start, end) >= 0:
                    self._lock.wait()
                first = arrived.find(0, start, end)
                if first >= 0:
                    raise self._lost(key, first)
            pages = self._pages[key]
            for k in range(end - start):
                ctypes.memmove(base + addrs[k], pages.pop(start + k), PAGE_SIZE)

    def _request(self, key: str, start: int, end: int) -> None:
        # (under the lock, not for long: the source's listener thread always reads)
        try:
            self.channel.send_json(Kind.REQUEST, {"key": key, "start": start, "end": end})
        except ProtocolError as exc:
            if self.failure is None:
                self.failure = str(exc)

    def _lost(self, key: str, index: int) -> PagesLost:
        return PagesLost(f"page {key}[{index}] of checkpoint {self.checkpoint_id} did not "
                         f"arrive intact from the post-copy source: {self.failure}")
