"""Walk-forward windows: train spans followed by their test spans, rolling to the end of the data."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market_maker.backtest.optimize.windows import split_windows


def test_three_windows_over_two_months() -> None:
    ws = split_windows(87_840, 3, 2.0)
    assert [(w.train_start, w.train_stop, w.test_stop) for w in ws] == [
        (0, 35_136, 52_704),
        (17_568, 52_704, 70_272),
        (35_136, 70_272, 87_840),
    ]


@given(n=st.integers(10, 200_000), k=st.integers(1, 6), r=st.floats(0.25, 6))
def test_every_test_span_follows_its_train_span_and_the_last_ends_the_data(n: int, k: int, r: float) -> None:
    try:
        ws = split_windows(n, k, r)
    except ValueError:
        return
    assert len(ws) == k and ws[-1].test_stop == n and ws[0].train_start == 0
    tests = {w.test_stop - w.test_start for w in ws}
    assert len(tests) == 1  # every test span has the same length
    for a, b in itertools.pairwise(ws):
        assert b.test_start == a.test_stop  # test spans tile the end of the history
        assert b.train_start > a.train_start
    for w in ws:
        assert w.train_start < w.train_stop == w.test_start < w.test_stop


def test_too_few_candles_or_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="too few"):
        split_windows(7, 3, 2.0)
    with pytest.raises(ValueError, match="--windows 0"):
        split_windows(1000, 0, 2.0)
    with pytest.raises(ValueError, match="--train-ratio"):
        split_windows(1000, 3, 0)
