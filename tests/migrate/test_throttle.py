"""Pre-copy's auto-converge throttle: how much of the host's time a component that writes
faster than rounds go out is held back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtcr.migrate.source import MAX_THROTTLE, Throttle

fractions = st.floats(min_value=0.0, max_value=MAX_THROTTLE)
pages = st.integers(min_value=1, max_value=1 << 20)


def test_an_unthrottled_component_is_never_held_back() -> None:
    assert Throttle().pause_after(0.25) == 0.0


def test_a_throttle_holds_the_component_back_for_its_share_of_the_host_time() -> None:
    throttle = Throttle(0.75)
    ran = 0.01
    assert throttle.pause_after(ran) == pytest.approx(0.03)  # it runs a quarter of the time


def test_a_round_that_wrote_every_page_again_cuts_the_share_to_a_quarter() -> None:
    assert Throttle().tightened(dirty=4096, sent=4096).fraction == pytest.approx(0.75)


def test_a_round_that_wrote_more_than_half_but_less_than_it_sent_halves_the_share() -> None:
    assert Throttle(0.5).tightened(dirty=3000, sent=4096).fraction == pytest.approx(0.75)


@given(fractions, pages, pages)
def test_tightening_never_loosens_and_never_passes_the_limit(fraction: float, dirty: int,
                                                            sent: int) -> None:
    tighter = Throttle(fraction).tightened(dirty, sent)
    assert fraction <= tighter.fraction <= MAX_THROTTLE


@given(st.floats(min_value=0.0, max_value=MAX_THROTTLE * 0.99), pages, pages)
def test_below_the_limit_tightening_at_least_halves_the_share(fraction: float, dirty: int,
                                                             sent: int) -> None:
    tighter = Throttle(fraction).tightened(dirty, sent)
    assert 1 - tighter.fraction <= (1 - fraction) / 2 + 1e-12 or tighter.at_limit


def test_the_limit_leaves_the_component_a_hundredth_of_the_host_time() -> None:
    throttle = Throttle()
    for _ in range(10):
        throttle = throttle.tightened(dirty=10, sent=10)
    assert throttle.at_limit and throttle.percent == 99
