"""Branches: the tree the parent links of a store make, cut into lines a person can read.

Every checkpoint names its parent: the checkpoint it was taken after, or
the one its run was restored from (none for a fresh run). Restoring an
older checkpoint and checkpointing on from there therefore forks the
chain. The tree is cut into *branches* by one rule: a checkpoint continues
its parent's branch when it is the parent's first child (the lowest id);
every later child starts a branch that forks from the parent, and a
checkpoint without a parent starts a branch of its own.

Because ids only grow, a new checkpoint is never anybody's first child
but its parent's: adding checkpoints never moves an old one to another
branch, and branches are numbered in the order of their first checkpoint
(removing checkpoints may renumber them).

The *current branch* is the one holding the checkpoint written last (the
highest id), so "the newest checkpoint of the current branch" is the
store's newest, which every command defaults to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Branch:
    """One branch: its checkpoints (ascending ids) and the checkpoint it forks from."""

    number: int
    ids: tuple[int, ...]
    fork: int | None  # None: it starts with a fresh run

    @property
    def tip(self) -> int:
        """Its newest checkpoint."""
        return self.ids[-1]


def branches(links: Iterable[tuple[int, int | None]]) -> list[Branch]:
    """The branches of the checkpoints given as (id, parent) pairs, numbered from 1.

    A parent that is not among the checkpoints counts as none. Linear in
    the number of checkpoints (a store may hold tens of thousands).
    """
    members: list[list[int]] = []
    forks: list[int | None] = []
    branch_of: dict[int, int] = {}
    has_child: set[int] = set()
    for cid, parent in sorted(links):
        if parent is None or parent not in branch_of:
            at = len(members)
            members.append([])
            forks.append(None)
        elif parent in has_child:
            at = len(members)
            members.append([])
            forks.append(parent)
        else:
            at = branch_of[parent]
        if parent is not None:
            has_child.add(parent)
        members[at].append(cid)
        branch_of[cid] = at
    return [Branch(n + 1, tuple(ids), fork)
            for n, (ids, fork) in enumerate(zip(members, forks, strict=True))]


def current(tree: list[Branch]) -> Branch | None:
    """The branch holding the checkpoint written last (None for an empty store)."""
    return max(tree, key=lambda b: b.tip, default=None)


def line(tree: list[Branch], number: int) -> list[int]:
    """The checkpoints of branch ``number`` and those it forks from, oldest first.

    What restoring its newest checkpoint stands on: a ``KeyError`` if there
    is no such branch.
    """
    by_number = {b.number: b for b in tree}
    of: dict[int, Branch] = {cid: b for b in tree for cid in b.ids}
    branch = by_number[number]
    out: list[int] = []
    upto: int | None = branch.tip
    while upto is not None:
        out[:0] = [cid for cid in branch.ids if cid <= upto]
        upto = branch.fork
        if upto is not None:
            branch = of[upto]
    return out


def children(tree: list[Branch]) -> dict[int | None, list[Branch]]:
    """Branch number -> the branches forking from one of its checkpoints, by fork.

    Under ``None``: the branches that start with a fresh run.
    """
    of = {cid: b.number for b in tree for cid in b.ids}
    out: dict[int | None, list[Branch]] = {}
    for b in sorted(tree, key=lambda b: (b.fork or 0, b.number)):
        out.setdefault(None if b.fork is None else of[b.fork], []).append(b)
    return out
