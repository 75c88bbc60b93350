"""The last check before a price reaches the grid (market_maker/core/quote_check.py)."""

from __future__ import annotations

import pytest

from market_maker.core.model import Candle
from market_maker.core.quote_check import QuoteCheck, QuoteLimits

LIMITS = QuoteLimits(max_jump_bps=500, confirm_quotes=3, stale_after=2)


def test_the_first_price_is_trusted_and_a_far_one_is_dropped_naming_both() -> None:
    check = QuoteCheck(LIMITS)
    assert check.price(10_000) == "" and check.trusted == 10_000
    assert check.price(10_500) == ""  # exactly 5 %: believed, and trusted from now on
    reason = check.price(100)
    assert "100 ticks" in reason and "5%" in reason and "10500" in reason
    assert check.trusted == 10_500 and check.dropped_run == 1 and not check.stale


def test_a_run_of_dropped_prices_is_stale_until_a_believable_one() -> None:
    check = QuoteCheck(LIMITS)
    check.price(10_000)
    assert check.price(1) and check.price(0) and check.stale  # 1 tick, then a non-positive one
    assert check.price(10_001) == "" and not check.stale and check.dropped_run == 0


def test_a_real_gap_is_believed_once_enough_dropped_prices_agree() -> None:
    check = QuoteCheck(LIMITS)
    check.price(10_000)
    assert check.price(20_000) and check.price(20_100)  # two agree: not yet
    assert check.price(1) and check.price(20_050) and check.price(20_000)  # a stray one starts over
    assert check.price(20_020) == "" and check.trusted == 20_020  # the third in a row that agrees


def test_zero_turns_the_distance_rule_off_but_not_the_sign_rule() -> None:
    check = QuoteCheck(QuoteLimits(max_jump_bps=0))
    check.price(10_000)
    assert check.price(1) == "" and check.price(10**12) == ""
    assert check.price(-5)


def test_a_candle_far_from_the_trusted_price_is_dropped_and_never_moves_it() -> None:
    check = QuoteCheck(LIMITS)
    near = Candle(0, 10_000, 10_100, 9_900, 10_050, 1, 59_999, True)
    far = Candle(0, 10_000, 100_000, 9_900, 90_000, 1, 59_999, True)
    assert check.candle(far) == ""  # nothing trusted yet: nothing to compare with
    check.price(10_000)
    assert check.candle(near) == "" and "candle close 90000" in check.candle(far)
    assert check.trusted == 10_000 and check.dropped_run == 1


@pytest.mark.parametrize("bad", [{"max_jump_bps": -1}, {"confirm_quotes": 0}, {"stale_after": 0}])
def test_impossible_limits_are_refused(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="impossible quote limits"):
        QuoteLimits(**bad)
