"""ATR (Wilder) and the dynamic interval with clamps and hysteresis."""

from decimal import Decimal
from fractions import Fraction

import pytest

from market_maker.core.atr import SCALE, AtrState, true_range
from market_maker.core.interval import IntervalParams, atr_ticks_to_scaled, next_interval, target_interval
from market_maker.core.model import Candle


def c(o: int, h: int, lo: int, cl: int) -> Candle:
    return Candle(0, o, h, lo, cl)


def test_true_range_uses_previous_close() -> None:
    assert true_range(c(100, 110, 95, 105), None) == 15
    assert true_range(c(120, 125, 118, 121), 105) == 20  # gap up: high - prev close
    assert true_range(c(90, 95, 80, 82), 105) == 25  # gap down: prev close - low


def test_wilder_atr_hand_example() -> None:
    # period 3; TRs 10, 20, 30 -> first ATR = 20; then TR 40 -> (20*2 + 40)/3 = 26.666...
    atr = AtrState.start(3)
    for candle in (c(100, 110, 100, 105), c(105, 125, 105, 110), c(110, 140, 110, 120)):
        atr = atr.update(candle)
    assert not AtrState.start(3).ready and atr.ready
    assert atr.scaled == 20 * SCALE
    atr = atr.update(c(120, 160, 120, 150))
    assert atr.scaled == 26_666_667  # 26.6666667 ticks, rounded half up in millionths
    assert abs(atr.avg.as_fraction() - Fraction(80, 3)) < Fraction(1, SCALE)


P = IntervalParams(base=1000, min_interval=500, max_interval=1400, hysteresis=Decimal("0.05"))


def test_interval_formula_and_clamps() -> None:
    s = atr_ticks_to_scaled
    assert target_interval(s(30), s(20), P) == 1400  # 1500 clamped to max
    assert target_interval(s(12), s(20), P) == 600
    assert target_interval(s(4), s(20), P) == 500  # 200 clamped to min
    scaled = IntervalParams(1000, 500, 3000, volatility_scale=Decimal("1.5"))
    assert target_interval(s(24), s(20), scaled) == 1800  # 1000 * 1.5 * 1.2
    assert target_interval(s(24), 0, P) == 1000  # no baseline yet: the base interval


def test_rounding_to_tick_is_half_up() -> None:
    # 1000 * 20.0005/20 = 1000.025 -> 1000 ; 1000 * 21.001/20 = 1050.05 -> 1050
    assert target_interval(atr_ticks_to_scaled(Decimal("20.0005")), atr_ticks_to_scaled(20), P) == 1000
    assert target_interval(atr_ticks_to_scaled(Decimal("20.01")), atr_ticks_to_scaled(20), P) == 1001
    assert target_interval(atr_ticks_to_scaled(Decimal("20.05")) - 500, atr_ticks_to_scaled(20), P) == 1002


def test_hysteresis_keeps_small_changes_out() -> None:
    s = atr_ticks_to_scaled
    assert next_interval(1000, s(Decimal("20.5")), s(20), P) == 1000  # 1025: 2.5% change
    assert next_interval(1000, s(21), s(20), P) == 1000  # 1050: exactly 5%, not more
    assert next_interval(1000, s(Decimal("21.2")), s(20), P) == 1060  # 6%
    assert next_interval(1060, s(Decimal("20.9")), s(20), P) == 1060  # back to 1045: under 5% of 1060
    assert next_interval(1000, s(40), s(20), P) == 1400  # a clamp bound is always reached
    assert next_interval(1400, s(Decimal("27.5")), s(20), P) == 1400  # 1375 is within 5% of 1400
    assert next_interval(2000, s(20), s(20), P) == 1400  # a current value out of bounds is clamped


def test_bad_interval_params_are_refused() -> None:
    with pytest.raises(ValueError, match="min_interval"):
        IntervalParams(base=1000, min_interval=900, max_interval=800)
