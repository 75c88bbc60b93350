"""``SymbolRules.check`` compares integers (bounds converted once per rules object, exactly): it must
name the same failing filter as the plain Decimal comparisons, for any filters and any order."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from market_maker.core.rules import SymbolRules


def _reference(r: SymbolRules, price_ticks: int, qty_steps: int) -> str | None:
    """The filters as Binance states them, on the Decimal price, quantity and notional."""
    price = r.tick_size * price_ticks
    qty = r.step_size * qty_steps
    if price_ticks <= 0:
        return "PRICE_FILTER"
    if (r.min_price > 0 and price < r.min_price) or (r.max_price > 0 and price > r.max_price):
        return "PRICE_FILTER"
    if qty_steps <= 0:
        return "LOT_SIZE"
    if (r.min_qty > 0 and qty < r.min_qty) or (r.max_qty > 0 and qty > r.max_qty):
        return "LOT_SIZE"
    notional = price * qty
    if r.min_notional > 0 and notional < r.min_notional:
        return "NOTIONAL"
    if r.max_notional > 0 and notional > r.max_notional:
        return "NOTIONAL"
    return None


SIZES = st.sampled_from(["1", "0.1", "0.01", "0.001", "0.00001", "5", "0.003", "0.25", "10"]).map(Decimal)
# bounds: off (0), or values on and off the tick / step lattice, small and large
BOUNDS = st.one_of(
    st.just(Decimal(0)),
    st.decimals(min_value=Decimal("0.00001"), max_value=Decimal(10**6), places=5, allow_nan=False),
)


@settings(max_examples=1500, deadline=None)
@given(SIZES, SIZES, BOUNDS, BOUNDS, BOUNDS, BOUNDS, BOUNDS, BOUNDS, st.data())
def test_integer_check_names_the_filter_the_decimal_comparisons_name(
    tick: Decimal,
    step: Decimal,
    min_price: Decimal,
    max_price: Decimal,
    min_qty: Decimal,
    max_qty: Decimal,
    min_notional: Decimal,
    max_notional: Decimal,
    data: st.DataObject,
) -> None:
    r = SymbolRules(
        "XUSDT", "X", "USDT", tick, step, min_price, max_price, min_qty, max_qty, min_notional, max_notional
    )
    # near the bounds (where an off-by-one would show) as well as anywhere
    near = [int(b / u) + d for b, u in ((min_price, tick), (max_price, tick)) for d in (-1, 0, 1)]
    near_q = [int(b / u) + d for b, u in ((min_qty, step), (max_qty, step)) for d in (-1, 0, 1)]
    for _ in range(8):
        pt = data.draw(st.one_of(st.sampled_from(near), st.integers(-2, 10**9)))
        qs = data.draw(st.one_of(st.sampled_from(near_q), st.integers(-2, 10**9)))
        assert r.check(pt, qs) == _reference(r, pt, qs), (pt, qs)
    # the notional bounds exactly: a quantity of one step at prices around them
    for b in (min_notional, max_notional):
        if b > 0:
            at = int(b / (tick * step))
            for pt in (at - 1, at, at + 1):
                assert r.check(pt, 1) == _reference(r, pt, 1), (pt, b)
