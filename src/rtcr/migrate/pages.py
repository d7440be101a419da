"""Pages on the wire: the PAGES frame, how a batch of pages is encoded and decoded.

A PAGES frame holds a u16 key length, the key, a u32 count, a u8 codec,
``count`` u32 page indices (little-endian) and the pages' data -- as they
are, or zstd (the codec the store's package set has in Python; a batch
that does not shrink goes raw, as the store keeps such pages). Every
migration mode sends its pages this way; the frame's MAC is their
checksum on the way.
"""

from __future__ import annotations

import ctypes
import struct
import sys
from array import array

import zstandard

from rtcr.core import PAGE_SIZE

from .wire import MAX_PAYLOAD, Channel, Kind, ProtocolError

# Pages per PAGES frame: 1 MiB of page data, far below the frame limit.
PAGES_PER_FRAME = 256
_KEY = struct.Struct(">H")
_COUNT = struct.Struct(">I")
_CODEC = struct.Struct(">B")
assert (_KEY.size + 0xFFFF + _COUNT.size + _CODEC.size + PAGES_PER_FRAME * (4 + PAGE_SIZE)
        < MAX_PAYLOAD)
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


class PageSender:
    """Sends pages of one connection in PAGES frames (one thread uses it)."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.pages_sent = 0
        self._compressor = zstandard.ZstdCompressor(level=_ZSTD_LEVEL)

    def _encode(self, pages: list[bytes | memoryview]) -> tuple[int, list[bytes | memoryview]]:
        """(codec, data) of a batch of pages: zstd if that shrinks it, else as they are."""
        packed = self._compressor.compress(b"".join(pages))
        if len(packed) < sum(len(p) for p in pages):
            return _ZSTD, [packed]
        return _RAW, pages

    def send(self, key: str, indices: array[int], base: int, addrs: array[int]) -> None:
        """Pages ``indices`` of ``key``, page ``indices[i]`` read at ``base + addrs[i]``."""
        name = key.encode()
        for start in range(0, len(indices), PAGES_PER_FRAME):
            chunk = indices[start:start + PAGES_PER_FRAME]
            codec, data = self._encode(_page_data(base, addrs[start:start + PAGES_PER_FRAME]))
            self.channel.send(Kind.PAGES, _KEY.pack(len(name)), name, _COUNT.pack(len(chunk)),
                              _CODEC.pack(codec), _wire_indices(chunk), *data)
            self.pages_sent += len(chunk)


class PageReader:
    """Decodes the PAGES frames of one connection (one thread uses it)."""

    def __init__(self) -> None:
        self._decompressor = zstandard.ZstdDecompressor()

    def decode(self, payload: bytes) -> tuple[str, array[int], memoryview]:
        """(key, page indices, their data: ``len(indices) * PAGE_SIZE`` bytes) of a frame."""
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
        return key, indices, data
