"""Pack files: append-only blob containers shared by many checkpoints.

The ``packs`` table records each pack's *committed* size; a pack file is
never read past it, and bytes past it are leftovers of a write that did not
commit (a crash, an abort), cut off by the next writer. A writer appends to
the newest pack until it would pass `MAX_PACK_BYTES`, then starts a new one;
so a checkpoint normally costs no new file and no directory sync, only the
data sync of one pack. Disk blocks are reserved ahead of the writes
(`PREALLOCATE_BYTES` at a time, without changing the file size) where the
file system can.

Fault injection (tests only): ``pack-write`` counts every blob appended,
``pack-sync`` every pack sync of a commit (see `_faults`).
"""

from __future__ import annotations

import errno
import os
from contextlib import suppress
from pathlib import Path

from rtcr.errors import StoreError, StoreFull

from . import _faults
from .database import fsync_dir
from .format import MAX_PACK_BYTES, PREALLOCATE_BYTES, pack_name, pack_number
from .native import preallocate


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


class PackAppender:
    """Where one checkpoint's new blobs go; undone entirely by `rollback` until it commits."""

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
        """Append ``data`` (``blobs`` blobs) to ``pack`` at ``offset`` (from `place`)."""
        if not data.nbytes:
            return
        path = self._files.path(pack)
        fd = self._fd(pack)
        for _ in range(blobs if _faults.enabled() else 0):
            try:
                _faults.check("pack-write")
            except OSError as exc:
                raise _os_error("write", path, exc) from exc
        end = offset + data.nbytes
        if end > self._reserved.get(pack, 0):
            ahead = min(max(end, offset + PREALLOCATE_BYTES), MAX_PACK_BYTES) - offset
            # Best effort: where blocks cannot be reserved, the write finds out.
            if preallocate(fd, offset, max(ahead, data.nbytes)) == 0:
                self._reserved[pack] = offset + max(ahead, data.nbytes)
        try:
            while data:
                written = os.pwrite(fd, data, offset)
                data = data[written:]
                offset += written
        except OSError as exc:
            raise _os_error("write", path, exc) from exc
        self.sizes[pack] = max(self.sizes.get(pack, 0), end)

    def appended(self) -> int:
        """Bytes of new blobs this checkpoint wrote."""
        return sum(size - self._base.get(pack, 0) for pack, size in self.sizes.items())

    def sync(self) -> None:
        """Make every appended byte durable."""
        for pack, fd in self._fds.items():
            try:
                _faults.check("pack-sync")
                os.fdatasync(fd)
            except OSError as exc:
                raise _os_error("sync", self._files.path(pack), exc) from exc

    def close(self) -> None:
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
