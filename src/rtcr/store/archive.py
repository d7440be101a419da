"""One checkpoint as one self-contained file: ``rtcr export`` writes it, ``rtcr import`` reads it.

Copying a live store directory is not a safe way to move a checkpoint
(another process may be committing; a chain needs its ancestors), so an
export resolves the checkpoint's whole lineage into one full image: its
record, its manifest and every non-zero page of every memory object.

The file is a sequence of frames after a magic line::

    kind (1 byte) | payload length (u64 LE) | payload | XXH3-128 of the three before

``HEADER`` (JSON: archive version, the checkpoint's record, its objects and
their sizes), ``MANIFEST`` (JSON), any number of ``PAGES`` (one object's
pages, at most `PAGES_PER_FRAME`, zstd-compressed), and ``END`` (the number
of frames before it and the digest of their digests), so that a truncated,
reordered or damaged file is refused, naming the frame. An import writes a
new full checkpoint into a store and commits it only after ``END`` checked
out; before that nothing becomes visible.
"""

from __future__ import annotations

import json
import os
import struct
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import zstandard

from rtcr import __version__
from rtcr.core import PAGE_SIZE
from rtcr.errors import StoreError

from .database import fsync_dir
from .format import CheckpointInfo
from .native import digest
from .reader import Checkpoint
from .store import Store
from .writer import CheckpointWriter

MAGIC = b"rtcr checkpoint archive\n"
VERSION = 1
PAGES_PER_FRAME = 256
ZSTD_LEVEL = 3
#: The largest payload a reader accepts: a frame of pages, compressed or not, and its indices.
MAX_PAYLOAD = 2 * PAGES_PER_FRAME * (PAGE_SIZE + 4) + (1 << 16)

HEADER, MANIFEST, PAGES, END = 1, 2, 3, 4
_KIND_NAMES = {HEADER: "header", MANIFEST: "manifest", PAGES: "pages", END: "end"}
_FRAME_HEAD = struct.Struct("<BQ")
_DIGEST = 16


@dataclass(frozen=True)
class ArchiveInfo:
    """What ``export`` wrote / ``import_archive`` read: the source checkpoint and the sizes."""

    source_id: int
    pages: int
    file_bytes: int


class _Writer:
    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.digests: list[bytes] = []
        self.bytes = len(MAGIC)
        out.write(MAGIC)

    def frame(self, kind: int, payload: bytes) -> None:
        head = _FRAME_HEAD.pack(kind, len(payload))
        check = digest(head + payload)
        self.out.write(head + payload + check)
        self.digests.append(check)
        self.bytes += len(head) + len(payload) + _DIGEST

    def end(self) -> None:
        self.frame(END, struct.pack("<Q", len(self.digests)) + digest(b"".join(self.digests)))


def _nonzero_pages(cp: Checkpoint, key: str) -> Iterator[tuple[int, bytes]]:
    zero = bytes(PAGE_SIZE)
    return ((index, page) for index, page in cp.pages(key) if page != zero)


def copy_checkpoint(source: Store, cid: int, target: Store) -> int:
    """Checkpoint ``cid`` of ``source`` as a new full checkpoint of ``target``; its id there."""
    cp = source.load(cid)
    info = source.info(cid)
    with target.begin(parent=None) as writer:
        for key, npages in sorted(cp.objects().items()):
            writer.declare(key, npages)
        for key in sorted(cp.objects()):
            for index, page in _nonzero_pages(cp, key):
                writer.put_page(key, index, page)
        return _commit_as(writer, cp.manifest, info)


def _commit_as(writer: CheckpointWriter, manifest: dict[str, Any], info: CheckpointInfo) -> int:
    """Commit a copy of a checkpoint with its source's record (its figures, not its ids)."""
    return writer.commit(manifest, instructions=info.instructions,
                         dirty_pages=info.dirty_pages, pause_us=info.pause_us,
                         strategy=info.strategy)


def _page_frames(cp: Checkpoint, key: str) -> Iterator[tuple[bytes, int]]:
    """Frames of the non-zero pages of ``key``: (payload, pages in it)."""
    cctx = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
    indices: array[int] = array("I")
    data: list[bytes] = []

    def flush() -> tuple[bytes, int]:
        name = key.encode()
        body = cctx.compress(b"".join(data))
        payload = (struct.pack("<HI", len(name), len(indices)) + name + indices.tobytes()
                   + body)
        count = len(indices)
        del indices[:]
        data.clear()
        return payload, count

    for index, page in _nonzero_pages(cp, key):
        indices.append(index)
        data.append(page)
        if len(indices) == PAGES_PER_FRAME:
            yield flush()
    if indices:
        yield flush()


def export_checkpoint(store: Store, cid: int, path: Path,
                      on_object: Callable[[str, int], None] | None = None) -> ArchiveInfo:
    """Write checkpoint ``cid`` of ``store`` to ``path`` (atomically: whole or absent).

    ``on_object(key, npages)`` is called after each memory object is written (progress).
    """
    cp = store.load(cid)
    info = store.info(cid)
    objects = cp.objects()
    header = {"version": VERSION, "rtcr": __version__, "info": info.to_dict(),
              "objects": objects}
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    pages = 0
    try:
        with tmp.open("wb") as out:
            writer = _Writer(out)
            writer.frame(HEADER, json.dumps(header, sort_keys=True).encode())
            writer.frame(MANIFEST, json.dumps(cp.manifest, sort_keys=True).encode())
            for key in sorted(objects):
                for payload, count in _page_frames(cp, key):
                    writer.frame(PAGES, payload)
                    pages += count
                if on_object is not None:
                    on_object(key, objects[key])
            writer.end()
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return ArchiveInfo(cid, pages, writer.bytes)


def is_archive(path: Path) -> bool:
    """Whether ``path`` is a file that starts like an archive (it is checked whole on import)."""
    try:
        with path.open("rb") as src:
            return src.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


class _Reader:
    def __init__(self, path: Path, src: IO[bytes]) -> None:
        self.path = path
        self.src = src
        self.digests: list[bytes] = []
        if src.read(len(MAGIC)) != MAGIC:
            raise StoreError(f"{path}: not an rtcr checkpoint archive")

    def bad(self, what: str) -> StoreError:
        return StoreError(f"{self.path}: frame {len(self.digests) + 1} {what}; "
                          f"the archive is damaged or truncated")

    def frame(self) -> tuple[int, bytes]:
        head = self.src.read(_FRAME_HEAD.size)
        if len(head) != _FRAME_HEAD.size:
            raise self.bad("is missing")
        kind, length = _FRAME_HEAD.unpack(head)
        if kind not in _KIND_NAMES or length > MAX_PAYLOAD:
            raise self.bad(f"has a bad kind ({kind}) or length ({length})")
        payload = self.src.read(length)
        check = self.src.read(_DIGEST)
        if len(payload) != length or len(check) != _DIGEST:
            raise self.bad(f"({_KIND_NAMES[kind]}) is cut short")
        if digest(head + payload) != check:
            raise self.bad(f"({_KIND_NAMES[kind]}) fails its checksum")
        self.digests.append(check)
        return kind, payload

    def expect(self, kind: int) -> bytes:
        got, payload = self.frame()
        if got != kind:
            raise self.bad(f"is {_KIND_NAMES[got]}, expected {_KIND_NAMES[kind]}")
        return payload

    def check_end(self, payload: bytes) -> None:
        before = self.digests[:-1]
        if payload != struct.pack("<Q", len(before)) + digest(b"".join(before)):
            raise self.bad("(end) does not match the frames before it")
        if self.src.read(1):
            raise StoreError(f"{self.path}: data after the end of the archive")


def _json(reader: _Reader, kind: int) -> Any:
    try:
        return json.loads(reader.expect(kind))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise reader.bad(f"({_KIND_NAMES[kind]}) is not JSON") from exc


def _pages(reader: _Reader, payload: bytes, objects: dict[str, int]
           ) -> tuple[str, array[int], bytes]:
    try:
        name_len, count = struct.unpack_from("<HI", payload)
        at = struct.calcsize("<HI")
        key = payload[at:at + name_len].decode()
        at += name_len
        indices = array("I")
        indices.frombytes(payload[at:at + 4 * count])
        body = zstandard.ZstdDecompressor().decompress(
            payload[at + 4 * count:], max_output_size=count * PAGE_SIZE)
    except (struct.error, UnicodeDecodeError, ValueError, zstandard.ZstdError) as exc:
        raise reader.bad(f"(pages) is malformed: {exc}") from exc
    if key not in objects or len(body) != count * PAGE_SIZE or len(indices) != count \
            or any(not 0 <= i < objects[key] for i in indices):
        raise reader.bad(f"(pages of {key!r}) does not fit the objects of the header")
    return key, indices, body


def import_archive(store: Store, path: Path) -> tuple[int, ArchiveInfo]:
    """Add the checkpoint in the archive ``path`` to ``store`` as a new full checkpoint."""
    try:
        src = path.open("rb")
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from exc
    with src:
        reader = _Reader(path, src)
        header = _json(reader, HEADER)
        if not isinstance(header, dict) or header.get("version") != VERSION:
            version = header.get("version") if isinstance(header, dict) else None
            raise StoreError(f"{path}: archive version {version!r}, this rtcr reads "
                             f"version {VERSION}")
        manifest = _json(reader, MANIFEST)
        objects: dict[str, int] = header["objects"]
        info = CheckpointInfo(**{k: v for k, v in header["info"].items()
                                 if k != "compression_ratio"})
        pages = 0
        with store.begin(parent=None) as writer:
            for key, npages in sorted(objects.items()):
                writer.declare(key, npages)
            while True:
                kind, payload = reader.frame()
                if kind == END:
                    reader.check_end(payload)
                    break
                if kind != PAGES:
                    raise reader.bad(f"is {_KIND_NAMES[kind]}, expected pages or end")
                key, indices, body = _pages(reader, payload, objects)
                for n, index in enumerate(indices):
                    writer.put_page(key, index, body[n * PAGE_SIZE:(n + 1) * PAGE_SIZE])
                pages += len(indices)
            cid = _commit_as(writer, manifest, info)
    return cid, ArchiveInfo(info.id, pages, path.stat().st_size)
