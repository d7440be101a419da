"""Branches: the parent links cut into lines (`rtcr.store.branches`)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rtcr.store.branches import Branch, branches, children, current, line

Links = list[tuple[int, int | None]]


@st.composite
def forests(draw: st.DrawFn) -> Links:
    """Checkpoints 1..n, each with no parent or a parent of lower id (what a store holds)."""
    n = draw(st.integers(min_value=1, max_value=60))
    links: Links = []
    for cid in range(1, n + 1):
        fresh = cid == 1 or draw(st.integers(0, 9)) == 0
        parent = None if fresh else draw(st.one_of(st.just(cid - 1),
                                                   st.integers(1, cid - 1)))
        links.append((cid, parent))
    return links


def test_a_linear_chain_is_one_branch() -> None:
    assert branches([(1, None), (2, 1), (3, 2)]) == [Branch(1, (1, 2, 3), None)]


def test_a_restore_of_an_older_checkpoint_forks_a_branch_from_it() -> None:
    tree = branches([(1, None), (2, 1), (3, 2), (4, 2), (5, 4)])
    assert tree == [Branch(1, (1, 2, 3), None), Branch(2, (4, 5), 2)]


def test_a_fresh_run_into_the_same_store_starts_a_branch_without_fork() -> None:
    assert branches([(1, None), (2, 1), (3, None)]) == [Branch(1, (1, 2), None),
                                                         Branch(2, (3,), None)]


def test_a_parent_the_store_no_longer_holds_counts_as_none() -> None:
    assert branches([(3, 2), (4, 3)]) == [Branch(1, (3, 4), None)]


def test_the_current_branch_is_the_one_of_the_checkpoint_written_last() -> None:
    tree = branches([(1, None), (2, 1), (3, 2), (4, 1), (5, 3)])
    assert current(tree) == tree[0] and tree[0].tip == 5
    assert current([]) is None


@given(forests())
def test_every_checkpoint_is_on_exactly_one_branch(links: Links) -> None:
    ids = [cid for b in branches(links) for cid in b.ids]
    assert sorted(ids) == [cid for cid, _parent in links]


@given(forests())
def test_a_branch_is_a_path_from_its_fork(links: Links) -> None:
    parent = dict(links)
    for b in branches(links):
        assert parent[b.ids[0]] == b.fork
        assert all(parent[b] == a for a, b in zip(b.ids, b.ids[1:], strict=False))


@given(forests(), st.data())
def test_new_checkpoints_never_move_old_ones_to_another_branch(links: Links,
                                                               data: st.DataObject) -> None:
    cut = data.draw(st.integers(1, len(links)))
    before, after = branches(links[:cut]), branches(links)
    for old, new in zip(before, after, strict=False):
        assert (new.number, new.fork, new.ids[:len(old.ids)]) == (old.number, old.fork, old.ids)


@given(forests())
def test_a_branchs_line_is_the_chain_of_parents_of_its_tip(links: Links) -> None:
    parent = dict(links)
    tree = branches(links)
    for b in tree:
        chain, at = [b.tip], parent[b.tip]
        while at is not None:
            chain.append(at)
            at = parent[at]
        assert line(tree, b.number) == chain[::-1]


@given(forests())
def test_children_hangs_every_forked_branch_under_the_branch_of_its_fork(links: Links) -> None:
    tree = branches(links)
    of = {cid: b.number for b in tree for cid in b.ids}
    kids = children(tree)
    assert sorted(b.number for group in kids.values() for b in group) == [b.number for b in tree]
    for number, group in kids.items():
        for b in group:
            assert (None if b.fork is None else of[b.fork]) == number
