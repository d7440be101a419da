"""The region index: both layouts (grid, chunks) answer as a sorted list of regions would."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from rtcr.core.region_index import RegionIndex

SPAN = 1 << 16


@dataclass(eq=False)
class Span:
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


# A region is (cell, length) in units of 16 bytes: a cell-aligned region at most
# a cell long keeps the grid; anything else turns the index into chunks.
regions = st.tuples(st.integers(0, 255), st.integers(1, 20))


def apply(ops: list[tuple[bool, tuple[int, int]]]) -> tuple[RegionIndex[Span], list[Span]]:
    """Insert (or remove, when present) each region; the model is a plain list."""
    index: RegionIndex[Span] = RegionIndex(SPAN)
    model: list[Span] = []
    for remove, (cell, length) in ops:
        start = cell * 16 if length <= 16 else cell * 16 + 3
        end = start + length * 8
        present = next((r for r in model if r.start == start and r.end == end), None)
        if remove and present is not None:
            index.remove(present)
            model.remove(present)
        elif not any(r.start < end and start < r.end for r in model):
            region = Span(start, end)
            assert index.insert(region) is None
            model.append(region)
        else:
            assert index.insert(Span(start, end)) in model
    return index, sorted(model, key=lambda r: r.start)


@given(ops=st.lists(st.tuples(st.booleans(), regions), max_size=60))
@settings(max_examples=300, deadline=None)
def test_iteration_is_the_regions_by_start(ops: list[tuple[bool, tuple[int, int]]]) -> None:
    index, model = apply(ops)
    assert list(index) == model and len(index) == len(model)


@given(ops=st.lists(st.tuples(st.booleans(), regions), max_size=60),
       probes=st.lists(st.integers(0, SPAN), max_size=40))
@settings(max_examples=300, deadline=None)
def test_find_is_the_region_containing_the_address(
        ops: list[tuple[bool, tuple[int, int]]], probes: list[int]) -> None:
    index, model = apply(ops)
    for addr in probes:
        assert index.find(addr) is next((r for r in model if r.start <= addr < r.end), None)


def test_equal_parts_at_fixed_offsets_stay_in_a_grid() -> None:
    index: RegionIndex[Span] = RegionIndex(SPAN)
    for cell in range(0, 100, 3):
        index.insert(Span(cell * 64, cell * 64 + 64))
    assert index.grid is not None and index.stride == 64


def test_a_region_longer_than_the_stride_turns_the_grid_into_chunks() -> None:
    index: RegionIndex[Span] = RegionIndex(SPAN)
    index.insert(Span(0, 64))
    index.insert(Span(128, 256))
    assert index.grid is None and [r.start for r in index] == [0, 128]
