"""The open-order cap in the strategy: it never lets more orders work than the cap, a take-profit goes
before a buy (the farthest buy makes room), and a buy cancelled for the cap is not placed back."""

from __future__ import annotations

from dataclasses import replace

from core_fixtures import BTC, IV, PARAMS, buy_filled, calm_risk, settle

from market_maker.core.actions import Cancel, Place, Skip
from market_maker.core.slots import SlotBook
from market_maker.core.strategy import calculate_actions

P0 = BTC.price_to_ticks("100230")  # center 100230: buys 100180..100220, sells from 100240


def test_the_cap_bounds_the_buys_placed() -> None:
    capped = replace(PARAMS, max_open_orders=3)
    book = settle(SlotBook("c1"), P0, calm_risk(), capped)
    assert sorted(s.level for s in book if s.working) == [P0 - 3 * IV, P0 - 2 * IV, P0 - IV]
    out = calculate_actions(P0, IV, book, calm_risk(), capped, BTC, 0)
    assert [a for a in out if isinstance(a, Skip) and "open-order cap" in a.reason]
    assert not [a for a in out if isinstance(a, Place | Cancel)]


def test_a_take_profit_gets_room_from_the_farthest_buy_and_that_buy_is_not_placed_back() -> None:
    capped = replace(PARAMS, max_open_orders=3)
    # a position bought at 100300 (take-profit 100310) while the price is at 100230: above the window
    book = buy_filled(SlotBook("c1"), P0 + 7 * IV)
    book = settle(book, P0, calm_risk(), capped)
    assert sorted(s.level for s in book if s.working) == [P0 - 3 * IV, P0 - 2 * IV, P0 - IV]
    up = P0 + 3 * IV  # the take-profit enters the sell window; the three buys are all still kept
    out = calculate_actions(up, IV, book, calm_risk(), capped, BTC, 0)
    cancels = [a for a in out if isinstance(a, Cancel)]
    assert [(book.find(c.client_id).level, c.reason) for c in cancels] == [  # type: ignore[union-attr]
        (P0 - 3 * IV, f"open-order cap 3: room for the take-profit of {P0 + 7 * IV}")
    ]
    book = settle(book, up, calm_risk(), capped)
    working = sorted((s.side.value, s.order_price) for s in book if s.working)
    assert working == [("BUY", P0 - 2 * IV), ("BUY", P0 - IV), ("SELL", P0 + 8 * IV)]
    again = calculate_actions(up, IV, book, calm_risk(), capped, BTC, 0)
    assert not [a for a in again if isinstance(a, Place | Cancel)]  # settled: nothing placed back


def test_more_orders_than_the_cap_cancels_the_farthest_buys() -> None:
    book = settle(SlotBook("c1"), P0, calm_risk())  # five buys under no cap
    out = calculate_actions(P0, IV, book, calm_risk(), replace(PARAMS, max_open_orders=2), BTC, 0)
    cancels = [a for a in out if isinstance(a, Cancel)]
    assert [book.find(c.client_id).level for c in cancels] == [P0 - 5 * IV, P0 - 4 * IV, P0 - 3 * IV]  # type: ignore[union-attr]
    assert all(c.reason == "open-order cap 2" for c in cancels)
