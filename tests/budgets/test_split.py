"""Largest-remainder splits: exact sum, within one minor unit of the exact share,
deterministic, zero weight → zero (property-tested with hypothesis)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budgets.split import SplitError, split, split_by_percentages

totals = st.integers(min_value=-(10**15), max_value=10**15)
weights = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=10**9),
        st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False),
    ),
    min_size=1,
    max_size=40,
).filter(lambda ws: any(w > 0 for w in ws))


@settings(max_examples=300, deadline=None)
@given(total=totals, ws=weights)
def test_parts_add_up_exactly_and_stay_within_one_unit(total, ws):
    parts = split(total, ws)
    assert sum(parts) == total
    assert len(parts) == len(ws)
    whole = sum(Fraction(w) for w in ws)
    for part, weight in zip(parts, ws, strict=True):
        exact = Fraction(total) * Fraction(weight) / whole
        assert abs(part - exact) < 1
        if weight == 0:
            assert part == 0


@settings(max_examples=100, deadline=None)
@given(total=totals, ws=weights)
def test_deterministic(total, ws):
    assert split(total, ws) == split(total, list(ws))


def test_ties_go_to_the_earlier_part():
    assert split(100, [1, 1, 1]) == [34, 33, 33]
    assert split(2, [1, 1, 1]) == [1, 1, 0]
    assert split(1, [0, 1, 1]) == [0, 1, 0]


def test_percentages_must_make_100():
    assert split_by_percentages(10_000, [Decimal("33.3"), Decimal("33.3"), Decimal("33.4")]) == [
        3330,
        3330,
        3340,
    ]
    with pytest.raises(SplitError, match="95%, not 100%"):
        split_by_percentages(100, [Decimal(50), Decimal(45)])


@pytest.mark.parametrize(
    "total, ws",
    [(5, []), (5, [0, 0]), (5, [-1, 2]), (1.5, [1]), (5, [1.5]), (True, [1])],
)
def test_refused_inputs(total, ws):
    with pytest.raises(SplitError):
        split(total, ws)


def test_zero_total_with_zero_weights_is_zeros():
    assert split(0, [0, 0]) == [0, 0]
