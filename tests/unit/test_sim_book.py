"""The simulator's synthetic book: a diff between two touches, applied to the first book, gives the
second (what keeps a client's local book equal to the simulator's)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from market_maker.core.rules import SymbolRules
from market_maker.sim import book
from market_maker.sim.config import SymbolSpec
from market_maker.sim.market_data import spot_price, spot_qty

RULES = SymbolSpec(tick_size="1", min_price="1", start_price="10000").rules()


def _ticks(r: SymbolRules, n: int) -> str:
    """Ticks and steps as plain integers: the book's logic without the cost of decimal formatting."""
    return str(n)


def _full(bid: int) -> list[dict[str, str]]:
    bids, asks = book.snapshot(RULES, bid, bid + 1, book.LEVELS, _ticks, _ticks)
    return [dict(map(tuple, bids)), dict(map(tuple, asks))]  # type: ignore[arg-type]


@settings(max_examples=50)  # each example builds two books of 10 000 levels
@given(st.integers(1, 20_000), st.integers(1, 20_000))
def test_a_diff_turns_one_book_into_the_other(before: int, after: int) -> None:
    local = _full(before)
    bids, asks = book.diff(RULES, (before, before + 1), (after, after + 1), _ticks, _ticks)
    for side, changes in zip(local, (bids, asks), strict=True):
        for price, qty in changes:
            if Decimal(qty) == 0:
                del side[price]  # a removal names a level the book has
            else:
                assert price not in side  # an addition names a level it has not
                side[price] = qty
    assert local == _full(after)


def test_a_level_keeps_its_size_wherever_the_touch_is() -> None:
    near = dict(map(tuple, book.snapshot(RULES, 10_000, 10_001, 10, spot_price, spot_qty)[0]))
    far = dict(map(tuple, book.snapshot(RULES, 10_005, 10_006, 10, spot_price, spot_qty)[0]))
    shared = near.keys() & far.keys()
    assert len(shared) == 5 and all(near[p] == far[p] for p in shared)
