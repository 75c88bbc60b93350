"""Grid geometry: center with half-up rounding, skew, windows (ARCHITECTURE.md §4)."""

from decimal import Decimal
from fractions import Fraction

from core_fixtures import BTC, IV, PARAMS
from hypothesis import given, settings
from hypothesis import strategies as st

from market_maker.core.grid import GridParams, center, grid_window, inventory_ratio


def test_hand_example_center_and_windows() -> None:
    # price 100234.56, interval 10.00 (tick 0.01 -> 1000 ticks), windows 5 and 5
    price = BTC.price_to_ticks("100234.56")
    w = grid_window(price, IV, 0, PARAMS)
    assert BTC.ticks_to_price(w.center) == Decimal("100230.00")
    assert [BTC.ticks_to_price(lv) for lv in sorted(w.buy_levels())] == [
        Decimal(p) for p in ("100180.00", "100190.00", "100200.00", "100210.00", "100220.00")
    ]
    assert (BTC.ticks_to_price(w.sell_lo), BTC.ticks_to_price(w.sell_hi)) == (
        Decimal("100240.00"),
        Decimal("100280.00"),
    )


def test_ties_round_half_up_not_to_even() -> None:
    # 100225.00 / 10 = 10022.5 exactly: half up gives 100230 (banker's rounding would give 100220)
    assert center(BTC.price_to_ticks("100225.00"), IV, 0, PARAMS) == BTC.price_to_ticks("100230.00")
    assert center(BTC.price_to_ticks("100235.00"), IV, 0, PARAMS) == BTC.price_to_ticks("100240.00")
    assert center(BTC.price_to_ticks("100224.99"), IV, 0, PARAMS) == BTC.price_to_ticks("100220.00")


def test_skew_example_long_inventory_lowers_the_center() -> None:
    # skew 0.001, max inventory 1000 steps, target 0, holding 500 steps: ratio 0.5
    # P_skewed = 100234.56 * (1 - 0.001 * 0.5) = 100184.4427...  -> C = 100180
    params = GridParams(5, 5, 100, max_inventory=1000, skew_factor=Decimal("0.001"))
    price = BTC.price_to_ticks("100234.56")
    assert inventory_ratio(500, params) == Decimal("0.5")
    assert center(price, IV, 500, params) == BTC.price_to_ticks("100180.00")
    # short of the target raises it: ratio -0.5 -> 100284.677... -> C = 100280
    short = GridParams(5, 5, 100, max_inventory=1000, skew_factor=Decimal("0.001"), target_inventory=1000)
    assert center(price, IV, 500, short) == BTC.price_to_ticks("100280.00")


def test_inventory_ratio_is_clamped() -> None:
    params = GridParams(5, 5, 100, max_inventory=1000, skew_factor=Decimal("0.5"))
    assert inventory_ratio(5000, params) == 1
    assert inventory_ratio(-5000, params) == -1
    # clamped at 1: P_skewed = P * 0.5
    assert center(BTC.price_to_ticks("100000.00"), IV, 5000, params) == BTC.price_to_ticks("50000.00")


@settings(max_examples=500)
@given(
    st.integers(1, 10**9),
    st.integers(1, 10**5),
    st.integers(0, 20_000),
    st.sampled_from([Decimal(0), Decimal("0.001"), Decimal("0.37"), Decimal(1)]),
    st.integers(0, 5_000),
)
def test_center_is_the_nearest_lattice_point_of_the_skewed_price(
    price: int, interval: int, position: int, skew: Decimal, target: int
) -> None:
    params = GridParams(5, 5, 100, max_inventory=10_000, skew_factor=skew, target_inventory=target)
    ratio = min(max(Fraction(position - target, 10_000), Fraction(-1)), Fraction(1))
    skewed = price * (1 - Fraction(skew) * ratio)
    c = center(price, interval, position, params)
    assert c % interval == 0
    assert c - Fraction(interval, 2) <= skewed < c + Fraction(interval, 2)  # nearest, ties upward
