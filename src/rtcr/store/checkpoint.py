"""A loaded, verified checkpoint: manifest plus memory resolved through its chain."""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rtcr.errors import CorruptCheckpoint, InvalidArgument, StoreError

from ._common import (
    ZERO_HASH,
    ZERO_PAGE,
    BlobProblem,
    CheckpointInfo,
    Node,
    ObjRec,
    lineage,
    owner_of,
)

if TYPE_CHECKING:
    from .store import Store

_ONE = re.compile("1")


def _set_bits(value: int) -> list[int]:
    """Indices of the set bits of ``value``, ascending."""
    text = bin(value)[:1:-1]
    return [m.start() for m in _ONE.finditer(text)]


class Checkpoint:
    """One committed checkpoint, loaded with its ancestors verified.

    Loading checks the checksums of this checkpoint's record and manifest
    and of the record and page table of every ancestor it inherits from.
    Page contents are verified (decompressed and hashed) as they are read.
    Any mismatch raises ``CorruptCheckpoint`` carrying *this* checkpoint's
    id. A checkpoint loaded before ``Store.gc`` must be loaded again.
    """

    def __init__(self, store: Store, chain: list[Node], manifest: dict[str, Any]) -> None:
        self._store = store
        self._chain = chain
        self._manifest = manifest
        self._generation = store._generation
        self._lineages: dict[str, list[tuple[Node, ObjRec]]] = {}

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
        return [n.info.id for n in self._chain]

    @property
    def manifest(self) -> dict[str, Any]:
        return self._manifest

    def objects(self) -> dict[str, int]:
        """Memory objects of this checkpoint: key -> size in pages."""
        return {k: r.npages for k, r in self._chain[0].objects.items()}

    def stored(self, key: str) -> list[int]:
        """Indices of the pages of ``key`` that this checkpoint itself stores (not inherited)."""
        return _set_bits(self._rec(key).bits())

    def _rec(self, key: str) -> ObjRec:
        rec = self._chain[0].objects.get(key)
        if rec is None:
            raise InvalidArgument(f"checkpoint {self.id} has no memory object {key!r}")
        return rec

    def _lineage(self, key: str) -> list[tuple[Node, ObjRec]]:
        self._rec(key)
        lin = self._lineages.get(key)
        if lin is None:
            lin = self._lineages[key] = lineage(self._chain, key)
        return lin

    def _check_fresh(self) -> None:
        self._store._check_usable()
        if self._store._generation != self._generation:
            raise StoreError(f"checkpoint {self.id} was loaded before a gc of the store; "
                             "load it again")

    def _read(self, node: Node, rec: ObjRec, index: int) -> bytes:
        store = self._store
        conn = store._conn_checked()
        with store._db_errors():
            row = conn.execute(
                "SELECT hash FROM pages WHERE oid=? AND idx=?", (rec.oid, index)
            ).fetchone()
            where = ("" if node is self._chain[0]
                     else f" (stored in ancestor {node.info.id})")
            if row is None or not isinstance(row[0], bytes):
                raise CorruptCheckpoint(
                    self.id, f"page {rec.key}[{index}]{where}: page table entry is unreadable")
            digest: bytes = row[0]
            if digest == ZERO_HASH:
                return ZERO_PAGE
            try:
                return store._reader.read(conn, digest)
            except BlobProblem as exc:
                raise CorruptCheckpoint(self.id, f"page {rec.key}[{index}]{where}: {exc}") from None

    def page(self, key: str, index: int) -> bytes:
        """The content of page ``index`` of ``key`` (4096 bytes), verified."""
        self._check_fresh()
        rec = self._rec(key)
        if not isinstance(index, int) or not 0 <= index < rec.npages:
            raise InvalidArgument(f"page index {index!r} outside {key!r} "
                                  f"({rec.npages} pages)")
        found = owner_of(self._lineage(key), index)
        if found is None:
            return ZERO_PAGE
        return self._read(found[0], found[1], index)

    def pages(self, key: str) -> Iterator[tuple[int, bytes]]:
        """Every page of ``key`` stored anywhere in its lineage, ascending index.

        Pages never written in the chain are omitted (they read as zeros);
        explicitly stored zero pages are included. Streams: one page at a time.
        """
        self._check_fresh()
        lin = self._lineage(key)
        npages = lin[0][1].npages
        remaining = (1 << npages) - 1
        streams: list[list[tuple[int, int]]] = []
        for depth, (_node, rec) in enumerate(lin):
            own = rec.bits() & remaining
            if own:
                remaining &= ~own
                streams.append([(i, depth) for i in _set_bits(own)])
        for index, depth in heapq.merge(*streams):
            self._check_fresh()
            node, rec = lin[depth]
            yield index, self._read(node, rec, index)

    def __repr__(self) -> str:
        return f"<Checkpoint {self.id} parent={self.parent} objects={len(self._chain[0].objects)}>"
