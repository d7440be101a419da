"""Lazy restore: RAM comes back on its first access, the rest streams in between slices.

A lazy restore rebuilds everything but the RAM contents, then starts the
target. Each restored RAM object is put behind its tracking maps with no
part attached (`TrackedRam.arm_part`), and a `LazyPager` in front of the
tracking handler of both maps: the first access to a part not loaded yet
faults with no region; the pager decodes that part's pages from the store
straight into the RAM frames (verified against their content hashes, as an
eager restore does), arms the part as the strategy wants it (read-only
under ``ro-attach``, nothing under ``detach``) and says "resolved"; the
retried access then goes on as after an eager restore -- a write to a
read-only part faults again, at the tracking handler. Between time slices
the `LazyLoader` prefetches the parts nobody asked for yet, object by
object in object-id order, part by part in address order, a bounded number
of pages per slice. Once every part of an object is back, its maps get the
tracking handler back and the pager is out of the way.

Why this is exact. The target never sees a page before its content is in
the frame: a part without a region cannot be read, written or executed,
by a guest thread or by the kernel on its behalf (host accesses reflect to
synchronous handlers too). Loading changes no guest-visible state, so the
instruction interleaving is the same as after an eager restore, whenever
the prefetcher runs; only the fault counts differ (one more fault per part
first touched). A part not loaded yet was not written since the restored
checkpoint, so it is not dirty and an incremental checkpoint omits it: its
parent has it, and a restore of the new checkpoint finds it there through
the chain, whether or not the prefetcher had finished.

Where the pages come from is a `PageSource`: a checkpoint in a store
(`StoredPages`), or the connection of a post-copy migration, whose pages
arrive while the target runs (`rtcr.migrate.postcopy`). The prefetcher
only takes what a source holds already (`PageSource.ready`); a fault waits
for its pages.

A page that fails verification stops the run (`LazyLoadFailed`, one line
naming the checkpoint and the page): the target must never run on with a
value that is not the checkpoint's.
"""

from __future__ import annotations

import time
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any, Protocol

from rtcr.core import Fault, RegionMap, Rights, SynchronousHandler, Verdict, WalkFailure
from rtcr.errors import RtcrError, StoreError
from rtcr.store import Checkpoint

from .runtime import RamRecord

PREFETCH_PAGES = 1024
"""Pages the prefetcher loads per time slice (4 MiB): enough to finish a 256 MiB
image in 64 slices, little enough to keep a slice's latency."""

FAULT_AROUND_PAGES = 32
"""Pages a fault loads at most: the faulting part and the missing ones after it
(a first access is rarely the last one near it; one decode call for all)."""

_LOADED = b"\x01"
_MISSING = b"\x00"


class LazyLoadFailed(RtcrError):
    """A page of a lazy restore could not be loaded or failed verification."""


class PageSource(Protocol):
    """The image a restore reads: its manifest, and its pages, verified on the way.

    Pages of an object are addressed by *entry*: the position of a page in
    the ascending list of the pages the image stores (`indices`). Every
    method raises `StoreError` naming the checkpoint and the page when a
    page cannot be had intact.
    """

    @property
    def manifest(self) -> dict[str, Any]: ...

    def scatter(self, key: str, base: int, addrs: array[int], *, zeroed: bool = False) -> int:
        """Write every stored page ``i`` of ``key`` to ``base + addrs[i]``: pages written.

        ``zeroed``: every destination page reads as zero already (fresh
        frames), so a stored zero page need not be written (a hint).
        """
        ...

    def indices(self, key: str) -> array[int]:
        """The pages of ``key`` the image stores, ascending."""
        ...

    def scatter_slice(self, key: str, base: int, start: int, end: int,
                      addrs: array[int]) -> None:
        """Write entries ``[start, end)`` of ``key`` to ``base + addrs[k]`` (waiting if need be)."""
        ...

    def ready(self, key: str, start: int, end: int) -> int:
        """The end of the run of entries from ``start`` (before ``end``) held without waiting."""
        ...


class StoredPages:
    """A checkpoint in a store as a `PageSource`: every page is there."""

    def __init__(self, checkpoint: Checkpoint) -> None:
        self.checkpoint = checkpoint

    @property
    def manifest(self) -> dict[str, Any]:
        return self.checkpoint.manifest

    def scatter(self, key: str, base: int, addrs: array[int], *, zeroed: bool = False) -> int:
        return self.checkpoint.scatter(key, base, addrs, zeroed=zeroed)

    def indices(self, key: str) -> array[int]:
        return self.checkpoint.table(key).index_list()

    def scatter_slice(self, key: str, base: int, start: int, end: int,
                      addrs: array[int]) -> None:
        self.checkpoint.scatter_slice(key, base, start, end, addrs)

    def ready(self, key: str, start: int, end: int) -> int:
        return end


@dataclass(frozen=True)
class LazyStats:
    """What `--summary-json` reports of a lazy restore (`lazy`)."""

    pages_on_fault: int
    pages_prefetched: int
    first_instruction_ms: float | None

    def as_json(self) -> dict[str, object]:
        return {"pages_on_fault": self.pages_on_fault,
                "pages_prefetched": self.pages_prefetched,
                "first_instruction_ms": (None if self.first_instruction_ms is None
                                         else round(self.first_instruction_ms, 3))}


class _LazyObject:
    """One RAM object being restored lazily: which parts are back, where its pages are."""

    __slots__ = ("indices", "key", "loaded", "missing", "record", "tracking")

    def __init__(self, record: RamRecord, key: str, tracking: SynchronousHandler) -> None:
        self.record = record
        self.key = key
        self.tracking = tracking  # the handler the maps get back when every part is in
        self.loaded = bytearray(record.tracked.parts)
        self.missing = record.tracked.parts
        self.indices: array[int] | None = None  # stored page indices, ascending (on first use)

    def missing_run(self, first: int, pages: int) -> int:
        """The end of the run of missing parts from ``first``, at most ``pages`` pages long."""
        end = self.loaded.find(_LOADED, first)
        if end < 0:
            end = len(self.loaded)
        return min(end, first + max(1, pages // self.record.tracked.part_pages))


class LazyPager(SynchronousHandler):
    """The fault handler of a lazily restored object's maps until all of it is back."""

    __slots__ = ("loader", "obj")

    def __init__(self, loader: LazyLoader, obj: _LazyObject) -> None:
        self.loader = loader
        self.obj = obj

    def handle_fault(self, region_map: RegionMap, fault: Fault, reason: WalkFailure,
                     rights: Rights) -> Verdict:
        obj = self.obj
        tracked = obj.record.tracked
        part = fault.addr // tracked.part_size
        if (reason is WalkFailure.NO_REGION and not tracked.freed
                and 0 <= part < tracked.parts and not obj.loaded[part]):
            loader = self.loader
            loader.pages_on_fault += loader.load(
                obj, part, obj.missing_run(part, FAULT_AROUND_PAGES), "its first access")
            return Verdict.RESOLVED
        return obj.tracking.handle_fault(region_map, fault, reason, rights)


class LazyLoader:
    """The RAM of one lazy restore still to load, and the prefetcher that streams it in."""

    def __init__(self, source: PageSource, checkpoint_id: int, ram_base: int) -> None:
        self.source = source
        self.checkpoint_id = checkpoint_id
        self.ram_base = ram_base
        self.pages_on_fault = 0
        self.pages_prefetched = 0
        self.started = time.perf_counter()
        self.first_instruction_ms: float | None = None
        self._objects: list[_LazyObject] = []  # still missing parts, in object-id order

    def add(self, record: RamRecord, key: str) -> None:
        """Restore ``record`` (constructed unarmed) lazily from ``key`` of the checkpoint."""
        tracked = record.tracked
        tracking = tracked.managed.handler
        assert isinstance(tracking, SynchronousHandler)  # the runtime's, on every tracked map
        obj = _LazyObject(record, key, tracking)
        if obj.missing == 0:
            return
        pager = LazyPager(self, obj)
        for rm in tracked.maps:
            rm.fault_handler(pager)
        self._objects.append(obj)

    @property
    def done(self) -> bool:
        """True once every page is back (or its object was freed)."""
        return not self._objects

    def started_running(self) -> None:
        """The target is about to run its first restored instruction."""
        if self.first_instruction_ms is None:
            self.first_instruction_ms = (time.perf_counter() - self.started) * 1000

    def missing(self) -> dict[str, list[int]]:
        """The pages not loaded yet, by store key (objects freed meanwhile left out)."""
        out: dict[str, list[int]] = {}
        for obj in self._objects:
            tracked = obj.record.tracked
            if not tracked.freed:
                out[obj.key] = [page for part, loaded in enumerate(obj.loaded) if not loaded
                                for page in tracked.part_pages_of(part)]
        return out

    def stats(self) -> LazyStats:
        return LazyStats(self.pages_on_fault, self.pages_prefetched, self.first_instruction_ms)

    def load(self, obj: _LazyObject, first: int, end: int, trigger: str) -> int:
        """Load parts ``[first, end)`` of ``obj`` (none loaded yet) and arm them: pages loaded."""
        tracked = obj.record.tracked
        ram = tracked.ram
        assert ram is not None
        part_pages = tracked.part_pages
        first_page = first * part_pages
        end_page = min(end * part_pages, tracked.pages)
        source = self.source
        try:
            if obj.indices is None:
                obj.indices = source.indices(obj.key)
            indices = obj.indices
            lo = bisect_left(indices, first_page)
            hi = bisect_left(indices, end_page, lo)
            if hi > lo:
                source.scatter_slice(obj.key, self.ram_base, lo, hi,
                                     array("Q", (ram.frame(indices[k]) for k in range(lo, hi))))
        except StoreError as error:
            raise self._failed(error, trigger) from error
        for part in range(first, end):
            obj.loaded[part] = 1
            tracked.arm_part(part)
        obj.missing -= end - first
        if obj.missing == 0:
            self._complete(obj)
        return end_page - first_page

    def _failed(self, error: StoreError, trigger: str) -> LazyLoadFailed:
        return LazyLoadFailed(f"{error} (lazy restore of checkpoint {self.checkpoint_id}, "
                              f"page loaded on {trigger}); the component was stopped")

    def _ready_end(self, obj: _LazyObject, first: int, end: int) -> int:
        """The end of the run of parts ``[first, end)`` the source holds without waiting."""
        tracked = obj.record.tracked
        try:
            if obj.indices is None:
                obj.indices = self.source.indices(obj.key)
            indices = obj.indices
            lo = bisect_left(indices, first * tracked.part_pages)
            hi = bisect_left(indices, min(end * tracked.part_pages, tracked.pages), lo)
            held = self.source.ready(obj.key, lo, hi)
        except StoreError as error:
            raise self._failed(error, "prefetch") from error
        if held == hi:
            return end
        return max(first, indices[held] // tracked.part_pages)

    def _complete(self, obj: _LazyObject) -> None:
        """Every part of ``obj`` is back: its maps get the tracking handler back."""
        for rm in obj.record.tracked.maps:
            rm.fault_handler(obj.tracking)
        self._objects.remove(obj)

    def prefetch(self, budget: int | None) -> int:
        """Load about ``budget`` pages not asked for yet, in address order (None: all).

        Whole parts: a budget smaller than a part still loads one part. With
        a budget it stops at the first part its source does not hold yet
        (it runs between time slices, which must not wait); without one it
        waits for every page.
        """
        done = 0
        while self._objects and (budget is None or done < budget):
            obj = self._objects[0]
            tracked = obj.record.tracked
            if tracked.freed:  # its frames are not its own any more: nothing to load
                self._objects.remove(obj)
                continue
            if budget is not None and budget <= 0:
                break
            first = obj.loaded.find(_MISSING)
            end = obj.missing_run(first, tracked.pages if budget is None else budget - done)
            if budget is not None:  # between slices: only what needs no waiting
                end = self._ready_end(obj, first, end)
                if end == first:
                    break
            loaded = self.load(obj, first, end, "prefetch")
            self.pages_prefetched += loaded
            done += loaded
        return done

    def load_dirty(self) -> int:
        """Load the dirty parts still missing (before a checkpoint copies them): pages loaded.

        Faults load a part before tracking can mark it dirty, so normally
        there is none; but after a failed commit the checkpointer marks
        every part dirty to store it all again, and a checkpoint must never
        copy a frame whose content is not back yet.
        """
        done = 0
        for obj in list(self._objects):
            tracked = obj.record.tracked
            if tracked.freed:
                continue
            for part in sorted(p for p in tracked.dirty if not obj.loaded[p]):
                done += self.load(obj, part, part + 1, "a checkpoint")
        self.pages_prefetched += done
        return done

    def finish(self) -> None:
        """Load everything still missing (before reading all of the RAM from the host)."""
        self.prefetch(None)


__all__ = ["FAULT_AROUND_PAGES", "PREFETCH_PAGES", "LazyLoadFailed", "LazyLoader", "LazyPager",
           "LazyStats", "PageSource", "StoredPages"]
