"""Pack files: append-only blob containers shared by many checkpoints.

The ``packs`` table records each pack's *committed* size; a pack file is
never read past it, and bytes past it are leftovers of a write that did not
commit (a crash, an abort), cut off by the next writer. A writer appends to
the newest pack until it would pass `MAX_PACK_BYTES`, then starts a new one;
so a checkpoint normally costs no new file and no directory sync, only the
data sync of one pack. Disk blocks are reserved ahead of the writes
(`PREALLOCATE_BYTES` at a time, without changing the file size) where the
file system can.

Each append also starts the disk's writeback of what it wrote
(`start_writeback`), without waiting for it: the disk then writes a
checkpoint's blobs while the codec encodes the next batch, and the one data
sync at the commit waits only for the last batch, not for every byte of the
checkpoint (left to the kernel, writeback of a fresh checkpoint would start
only at that sync: on this machine the sync of a 32 MB checkpoint took 16 ms
after the writes, 0 ms with writeback started batch by batch). The data sync
stays what makes the bytes durable; a range whose writeback failed is
reported by it.

Fault injection (tests only): ``pack-write`` counts every blob appended,
``pack-sync`` every pack sync of a commit (see `_faults`).
"""

from __future__ import annotations

import errno
import os
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

from rtcr.errors import StoreError, StoreFull

from . import _faults
from .database import fsync_dir
from .format import MAX_PACK_BYTES, PREALLOCATE_BYTES, pack_name, pack_number
from .native import preallocate, start_writeback


def _os_error(what: str, path: Path, exc: OSError) -> StoreError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StoreFull(f"disk full: cannot {what} pack file {path}: {exc.strerror or exc}")
    return StoreError(f"cannot {what} pack file {path}: {exc.strerror or exc}")


class PackFiles:
    """The ``packs`` directory: listing, reading, and cleaning up after interrupted writes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._readers: dict[int, int] = {}

    def path(self, pack: int) -> Path:
        return self.directory / pack_name(pack)

    def listing(self) -> dict[int, Path]:
        try:
            names = os.listdir(self.directory)
        except OSError as exc:
            raise StoreError(f"{self.directory}: pack directory unreadable: {exc}") from exc
        return {n: self.directory / name for name in names
                if (n := pack_number(name)) is not None}

    def reader(self, pack: int) -> int:
        """A read-only descriptor of ``pack`` (kept open), or -1 if it cannot be opened."""
        fd = self._readers.get(pack)
        if fd is None:
            try:
                fd = os.open(self.path(pack), os.O_RDONLY)
            except OSError:
                return -1
            self._readers[pack] = fd
        return fd

    def close_readers(self) -> None:
        for fd in self._readers.values():
            os.close(fd)
        self._readers.clear()

    def clean(self, registered: dict[int, int], trash: list[int]) -> None:
        """Undo what interrupted writers left (the caller holds the writer lock).

        Pack files newer than every registered pack are of a write that never
        committed and go; registered packs longer than their committed size
        are cut back to it; packs a committed gc released (``trash``) go.
        Older unregistered files are left alone: only damage makes them, and
        they may help a human recover.
        """
        top = max(registered, default=0)
        removed = False
        for number, path in self.listing().items():
            if number in registered:
                with suppress(OSError):
                    if path.stat().st_size > registered[number]:
                        os.truncate(path, registered[number])
            elif number > top or number in trash:
                with suppress(FileNotFoundError):
                    path.unlink()
                removed = True
        if removed:
            fsync_dir(self.directory)


# Appends smaller than this are written by the caller at once: handing them to the
# write thread (a wake-up on the other core, which may be busy) costs more than
# writing them (a batch of duplicates or zero pages adds a few blobs at most).
HANDOVER_BYTES = 256 << 10


class PackAppender:
    """Where one checkpoint's new blobs go; undone entirely by `rollback` until it commits.

    Appends are written by one thread of the appender's own, in order, one at
    a time: `write` hands a batch over and returns, so the caller encodes the
    next batch while this one goes to the pack (the codec and the write both
    run without the GIL, and a write that stalls, e.g. on the file system's
    journal, stalls the codec no longer). `write` first waits for the write
    before it, so a caller that alternates between two output buffers never
    overwrites one that is still being written. The error of a write is
    raised by the next `write`, `drain` or `sync`, i.e. always before the
    commit; `close` and `rollback` wait for the write in flight first, so
    nothing is written to a pack after it was cut back.
    """

    def __init__(self, files: PackFiles, registered: dict[int, int], taken: set[int], *,
                 new_pack: bool = False) -> None:
        self._files = files
        self._next_new = max(taken | set(registered), default=0) + 1
        self._registered = set(registered)
        self._base = dict(registered)  # committed sizes before this checkpoint
        self.sizes: dict[int, int] = {}  # packs this checkpoint appended to -> new size
        self.created: list[int] = []
        self._fds: dict[int, int] = {}
        self._reserved: dict[int, int] = {}
        newest = max(registered, default=None)
        # Appends go to the newest pack, unless it is gone (damage): then to a new one.
        self._active: int | None = None if new_pack or newest not in taken else newest
        self._io: ThreadPoolExecutor | None = None  # started by the first write
        self._in_flight: Future[None] | None = None

    def place(self, nbytes: int) -> tuple[int, int]:
        """The pack and offset where ``nbytes`` of new blobs go next (rotating packs)."""
        pack = self._active
        if pack is not None:
            size = self.sizes.get(pack, self._base.get(pack, 0))
            if size + nbytes <= MAX_PACK_BYTES:
                return pack, size
        pack = self._next_new
        self._next_new += 1
        self._active = pack
        self._base[pack] = 0
        return pack, 0

    def _fd(self, pack: int) -> int:
        fd = self._fds.get(pack)
        if fd is not None:
            return fd
        path = self._files.path(pack)
        new = pack not in self._registered
        try:
            if new:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                self.created.append(pack)
                fsync_dir(self._files.directory)  # the new name is durable before data lands
            else:
                fd = os.open(path, os.O_WRONLY)
        except OSError as exc:
            raise _os_error("create" if new else "open", path, exc) from exc
        self._fds[pack] = fd
        return fd

    def write(self, pack: int, offset: int, data: memoryview, blobs: int) -> None:
        """Append ``data`` (``blobs`` blobs) to ``pack`` at ``offset`` (from `place`).

        Returns once the write before it is done and this one is under way;
        ``data`` is released when it is written (the caller lets go of it).
        """
        self.drain()
        if not data.nbytes:
            data.release()
            return
        self.sizes[pack] = max(self.sizes.get(pack, 0), offset + data.nbytes)
        if data.nbytes < HANDOVER_BYTES:
            self._write(pack, offset, data, blobs)
            return
        if self._io is None:
            self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rtcr-pack-write")
        self._in_flight = self._io.submit(self._write, pack, offset, data, blobs)

    def drain(self) -> None:
        """Wait for the write under way; raise its error, if it failed."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.result()

    def _write(self, pack: int, offset: int, data: memoryview, blobs: int) -> None:
        with data:
            self._write_now(pack, offset, data, blobs)

    def _write_now(self, pack: int, offset: int, data: memoryview, blobs: int) -> None:
        path = self._files.path(pack)
        fd = self._fd(pack)
        for _ in range(blobs if _faults.enabled() else 0):
            try:
                _faults.check("pack-write")
            except OSError as exc:
                raise _os_error("write", path, exc) from exc
        size = data.nbytes
        end = offset + size
        if end > self._reserved.get(pack, 0):
            ahead = min(max(end, offset + PREALLOCATE_BYTES), MAX_PACK_BYTES) - offset
            # Best effort: where blocks cannot be reserved, the write finds out.
            if preallocate(fd, offset, max(ahead, size)) == 0:
                self._reserved[pack] = offset + max(ahead, size)
        try:
            while data:
                written = os.pwrite(fd, data, offset)
                data = data[written:]
                offset += written
        except OSError as exc:
            raise _os_error("write", path, exc) from exc
        start_writeback(fd, end - size, size)  # best effort (see the module's docstring)

    def appended(self) -> int:
        """Bytes of new blobs this checkpoint wrote."""
        return sum(size - self._base.get(pack, 0) for pack, size in self.sizes.items())

    def sync(self) -> None:
        """Make every appended byte durable."""
        self.drain()
        for pack, fd in self._fds.items():
            try:
                _faults.check("pack-sync")
                os.fdatasync(fd)
            except OSError as exc:
                raise _os_error("sync", self._files.path(pack), exc) from exc

    def close(self) -> None:
        """Wait for the write under way (its error was or will be reported), close the packs."""
        try:
            if self._io is not None:
                self._io.shutdown(wait=True)
        finally:
            self._in_flight = None
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()

    def rollback(self) -> None:
        """Remove what this checkpoint appended (only ever before its commit)."""
        self.close()
        for pack in self.sizes:
            if pack not in self.created:
                with suppress(OSError):
                    os.truncate(self._files.path(pack), self._base.get(pack, 0))
        for pack in self.created:
            with suppress(FileNotFoundError):
                self._files.path(pack).unlink()
        self.sizes.clear()
        self.created.clear()
