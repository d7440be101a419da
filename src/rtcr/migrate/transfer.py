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
is refused: a source can only build on what it sent itself.
"""

from __future__ import annotations

import ctypes
import dataclasses
import struct
import sys
import time
from array import array
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import zstandard

from rtcr.core import PAGE_SIZE
from rtcr.errors import RtcrError
from rtcr.store import CheckpointInfo, Store
from rtcr.store.native import address

from .wire import MAX_PAYLOAD, Channel, Kind, ProtocolError

# Pages per PAGES frame: 1 MiB of page data, far below the frame limit.
PAGES_PER_FRAME = 256
_KEY = struct.Struct(">H")
_COUNT = struct.Struct(">I")
_CODEC = struct.Struct(">B")
assert (_KEY.size + 0xFFFF + _COUNT.size + _CODEC.size + PAGES_PER_FRAME * (4 + PAGE_SIZE)
        < MAX_PAYLOAD)
# Page data on the wire: as it is, or zstd (the codec the store's package set has in
# Python; a batch that does not shrink goes raw, as the store keeps such pages).
_RAW, _ZSTD = 0, 1
_ZSTD_LEVEL = 1


def _contiguous(addrs: array[int]) -> bool:
    return all(addrs[i] == addrs[0] + i * PAGE_SIZE for i in range(1, len(addrs)))


def _wire_indices(indices: array[int]) -> bytes:
    """Page indices as the wire carries them: u32, little-endian."""
    if sys.byteorder == "little":
        return indices.tobytes()
    swapped = array("I", indices)
    swapped.byteswap()
    return swapped.tobytes()


def _indices(data: bytes) -> array[int]:
    indices = array("I")
    indices.frombytes(data)
    if sys.byteorder != "little":
        indices.byteswap()
    return indices


def _page_data(base: int, addrs: array[int]) -> list[bytes | memoryview]:
    """The pages at ``base + addrs[i]``, as views of that memory where they are contiguous."""
    if _contiguous(addrs):
        block = (ctypes.c_char * (len(addrs) * PAGE_SIZE)).from_address(base + addrs[0])
        return [memoryview(block).cast("B")]
    return [ctypes.string_at(base + a, PAGE_SIZE) for a in addrs]


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
        name = key.encode()
        for start in range(0, len(indices), PAGES_PER_FRAME):
            chunk = indices[start:start + PAGES_PER_FRAME]
            pages = _page_data(base, addrs[start:start + PAGES_PER_FRAME])
            codec, data = self._target.encode(pages)
            self._channel.send(Kind.PAGES, _KEY.pack(len(name)), name, _COUNT.pack(len(chunk)),
                               _CODEC.pack(codec), _wire_indices(chunk), *data)
            self._target.pages_sent += len(chunk)

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
        self.pages_sent = 0
        self.rounds: list[Round] = []
        self._compressor = zstandard.ZstdCompressor(level=_ZSTD_LEVEL)  # (one thread uses it)

    def encode(self, pages: list[bytes | memoryview]) -> tuple[int, list[bytes | memoryview]]:
        """(codec, data) of a batch of pages: zstd if that shrinks it, else as they are."""
        packed = self._compressor.compress(b"".join(pages))
        if len(packed) < sum(len(p) for p in pages):
            return _ZSTD, [packed]
        return _RAW, pages

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
        self._decompressor = zstandard.ZstdDecompressor()

    def pages(self, payload: bytes) -> None:
        try:
            (keylen,) = _KEY.unpack_from(payload, 0)
            key = payload[_KEY.size:_KEY.size + keylen].decode()
            at = _KEY.size + keylen
            (count,) = _COUNT.unpack_from(payload, at)
            (codec,) = _CODEC.unpack_from(payload, at + _COUNT.size)
            at += _COUNT.size + _CODEC.size
        except (struct.error, UnicodeDecodeError):
            raise ProtocolError("a PAGES frame has a malformed header") from None
        size = count * PAGE_SIZE
        if count > PAGES_PER_FRAME or len(payload) < at + 4 * count:
            raise ProtocolError(f"a PAGES frame of {key!r} announces {count} pages but holds "
                                f"{len(payload) - at} bytes")
        indices = _indices(payload[at:at + 4 * count])
        data = memoryview(payload)[at + 4 * count:]
        if codec == _ZSTD:
            try:
                data = memoryview(self._decompressor.decompress(data, max_output_size=size))
            except zstandard.ZstdError as exc:
                raise ProtocolError(f"a PAGES frame of {key!r} does not decompress: "
                                    f"{exc}") from None
        elif codec != _RAW:
            raise ProtocolError(f"a PAGES frame of {key!r} has unknown codec {codec}")
        if len(data) != size:
            raise ProtocolError(f"a PAGES frame of {key!r} announces {count} pages but holds "
                                f"{len(data)} bytes of them")
        self._buffer[:size] = data
        self.writer.put_pages(key, indices, address(self._buffer), self._addrs[:count])


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


def receive(channel: Channel, store: Store) -> CheckpointInfo:
    """Take checkpoints from ``channel`` into ``store`` until the final one is committed.

    Returns the final checkpoint's record (committed, verified, and the
    source told so). A store error (a full disk, say) is sent to the
    source as the reason of a REFUSE and raised here; so is a protocol
    violation.
    """
    committed: set[int] = set()
    intake: _Intake | None = None
    try:
        while True:
            frame = channel.recv(Kind.BEGIN, Kind.DECLARE, Kind.PAGES, Kind.COMMIT, Kind.ABORT)
            if frame.kind is Kind.BEGIN:
                if intake is not None:
                    raise ProtocolError("BEGIN while a checkpoint is still open")
                fields = frame.json()
                parent = fields.get("parent")
                if parent is not None and parent not in committed:
                    raise ProtocolError(f"the source builds on checkpoint {parent!r}, which it "
                                        "did not send in this migration")
                intake = _Intake(store, parent, bool(fields.get("final")))
                continue
            if intake is None:
                raise ProtocolError(f"{frame.kind.name} outside a checkpoint")
            if frame.kind is Kind.DECLARE:
                fields = frame.json()
                intake.writer.declare(fields.get("key", ""), fields.get("npages", -1),
                                      fresh=bool(fields.get("fresh")))
            elif frame.kind is Kind.PAGES:
                intake.pages(frame.payload)
            elif frame.kind is Kind.ABORT:
                intake.writer.abort()
                intake = None
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
