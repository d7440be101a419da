"""A loaded, verified checkpoint: its manifest, and its memory resolved through its chain.

Loading checks the checksums of this checkpoint's record and manifest and
of the record and page tables of every ancestor it inherits from. Page
contents are verified (decompressed and hashed, natively, in bulk) as they
are read; `scatter` puts a whole object straight into memory, one native
call per object. Any mismatch raises ``CorruptCheckpoint`` carrying *this*
checkpoint's id and naming the page.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import Any

from rtcr.core import PAGE_SIZE
from rtcr.errors import CorruptCheckpoint, InvalidArgument, StoreError

from .backend import StoreBackend
from .chains import CheckpointRecord, Lineage, ObjectTable, lineage, provider, resolve
from .format import ZERO_PAGE, CheckpointInfo
from .native import PageTable, address, decode

# Pages `pages()` decodes per native call.
_CHUNK = 256


class Checkpoint:
    """One committed checkpoint, loaded with its ancestors verified.

    A checkpoint loaded before ``Store.gc`` must be loaded again.
    """

    def __init__(self, backend: StoreBackend, chain: list[CheckpointRecord],
                 manifest: dict[str, Any], packs: dict[int, int]) -> None:
        self._backend = backend
        self._chain = chain
        self._manifest = manifest
        self._packs = packs  # committed pack sizes when loaded
        self._generation = backend.generation
        self._lineages: dict[str, Lineage] = {}
        self._tables: dict[str, PageTable] = {}

    @property
    def id(self) -> int:
        return self._chain[0].info.id

    @property
    def info(self) -> CheckpointInfo:
        return self._chain[0].info

    @property
    def parent(self) -> int | None:
        return self._chain[0].info.parent

    @property
    def chain(self) -> list[int]:
        """Ids of this checkpoint and its ancestors, newest first."""
        return [r.info.id for r in self._chain]

    @property
    def manifest(self) -> dict[str, Any]:
        return self._manifest

    def objects(self) -> dict[str, int]:
        """Memory objects of this checkpoint: key -> size in pages."""
        return {k: o.npages for k, o in self._chain[0].objects.items()}

    def stored(self, key: str) -> list[int]:
        """Indices of the pages of ``key`` that this checkpoint itself stores (not inherited)."""
        obj = self._object(key)
        return [i for i in obj.table.index_list() if i < obj.npages]

    def _object(self, key: str) -> ObjectTable:
        obj = self._chain[0].objects.get(key)
        if obj is None:
            raise InvalidArgument(f"checkpoint {self.id} has no memory object {key!r}")
        return obj

    def _lineage(self, key: str) -> Lineage:
        self._object(key)
        lin = self._lineages.get(key)
        if lin is None:
            lin = self._lineages[key] = lineage(self._chain, key)
        return lin

    def table(self, key: str) -> PageTable:
        """Every page of ``key`` stored anywhere in its lineage: the nearest entry per index."""
        self._check_fresh()
        table = self._tables.get(key)
        if table is None:
            table = self._tables[key] = resolve(self._lineage(key))
        return table

    def _check_fresh(self) -> None:
        self._backend.check_usable()
        if self._backend.generation != self._generation:
            raise StoreError(f"checkpoint {self.id} was loaded before a gc of the store; "
                             "load it again")

    def _decode(self, key: str, table: PageTable, dst: int, addrs: array[int],
                by_index: bool, zeroed: bool = False) -> None:
        packs = self._backend.pack_handles(self._packs)
        done, problem = decode(packs, table, dst, addrs, by_index=by_index, zeroed=zeroed)
        if problem is not None:
            index = table.index_list()[done]
            owner = provider(self._lineage(key), index)
            where = ("" if owner is None or owner is self._chain[0]
                     else f" (stored in ancestor {owner.info.id})")
            raise CorruptCheckpoint(self.id, f"page {key}[{index}]{where}: blob "
                                    f"{table.hash_at(done).hex()[:16]} {problem}")

    def scatter(self, key: str, base: int, addrs: array[int], *, zeroed: bool = False) -> int:
        """Write every stored page of ``key`` to ``base + addrs[index]``, verified.

        ``addrs`` maps each page index of the object to an address (u64),
        e.g. the physical addresses of a dataspace's frames inside the RAM
        buffer at ``base``. Pages never written are not touched (fresh RAM
        reads as zero); with ``zeroed`` (every destination page reads as
        zero: fresh frames) stored zero pages are not touched either.
        Returns the number of pages written.
        """
        table = self.table(key)
        if addrs.typecode != "Q" or len(addrs) < self._object(key).npages:
            raise InvalidArgument(f"scatter of {key!r} needs a u64 address per page")
        self._decode(key, table, base, addrs, by_index=True, zeroed=zeroed)
        return len(table)

    def scatter_slice(self, key: str, base: int, start: int, end: int,
                      addrs: array[int]) -> None:
        """Write entries ``[start, end)`` of ``table(key)`` to ``base + addrs[k]``, verified.

        The k-th entry of the slice goes to ``addrs[k]`` (u64): a part of an
        object at a time, as a lazy restore loads it, at the cost of those
        pages only.
        """
        table = self.table(key)
        if addrs.typecode != "Q" or len(addrs) != end - start or not 0 <= start <= end <= len(
                table):
            raise InvalidArgument(f"slice [{start}, {end}) of {key!r} ({len(table)} stored "
                                  "pages) needs a u64 address per page")
        self._decode(key, table.slice(start, end), base, addrs, by_index=False)

    def page(self, key: str, index: int) -> bytes:
        """The content of page ``index`` of ``key`` (4096 bytes), verified."""
        self._check_fresh()
        obj = self._object(key)
        if not isinstance(index, int) or not 0 <= index < obj.npages:
            raise InvalidArgument(f"page index {index!r} outside {key!r} ({obj.npages} pages)")
        owner = provider(self._lineage(key), index)
        if owner is None:
            return ZERO_PAGE
        own = owner.objects[key].table
        at = own.index_list().index(index)
        out = bytearray(PAGE_SIZE)
        self._decode(key, own.select([at]), address(out), array("Q", [0]), by_index=False)
        return bytes(out)

    def pages(self, key: str) -> Iterator[tuple[int, bytes]]:
        """Every page of ``key`` stored anywhere in its lineage, ascending index.

        Pages never written in the chain are omitted (they read as zeros);
        explicitly stored zero pages are included. Streams, a batch at a time.
        """
        table = self.table(key)
        indices = table.index_list()
        buffer = bytearray(_CHUNK * PAGE_SIZE)
        addrs = array("Q", range(0, _CHUNK * PAGE_SIZE, PAGE_SIZE))
        for start in range(0, len(table), _CHUNK):
            self._check_fresh()
            end = min(start + _CHUNK, len(table))
            chunk = table.slice(start, end)
            self._decode(key, chunk, address(buffer), addrs, by_index=False)
            for k in range(end - start):
                yield indices[start + k], bytes(buffer[k * PAGE_SIZE:(k + 1) * PAGE_SIZE])

    def __repr__(self) -> str:
        return f"<Checkpoint {self.id} parent={self.parent} objects={len(self._chain[0].objects)}>"
