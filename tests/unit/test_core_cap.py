"""The open-order cap in the strategy: it never lets more orders work than the cap, a take-profit goes
before a buy (the farthest buy makes room), the buys nearest the center work, and which orders work
does not depend on whether a fill is seen before the price that caused it or after."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from core_fixtures import BTC, IV, PARAMS, buy_filled, calm_risk, settle

from market_maker.core.actions import Cancel, Place, Skip
from market_maker.core.fills import apply_fill, cancelled
from market_maker.core.grid import GridParams
from market_maker.core.model import Fill, Side
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook, ack, cancel_failed, request_cancel, submit
from market_maker.core.strategy import calculate_actions

P0 = BTC.price_to_ticks("100230")  # center 100230: buys 100180..100220, sells from 100240


def test_the_cap_bounds_the_buys_placed() -> None:
    capped = replace(PARAMS, max_open_orders=3)
    book = settle(SlotBook("c1"), P0, calm_risk(), capped)
    assert sorted(s.level for s in book if s.working) == [P0 - 3 * IV, P0 - 2 * IV, P0 - IV]
    out = calculate_actions(P0, IV, book, calm_risk(), capped, BTC, 0)
    assert [a for a in out if isinstance(a, Skip) and "open-order cap" in a.reason]
    assert not [a for a in out if isinstance(a, Place | Cancel)]


def test_a_take_profit_gets_room_from_the_farthest_buy_and_the_nearest_buys_work() -> None:
    capped = replace(PARAMS, max_open_orders=3)
    # a position bought at 100300 (take-profit 100310) while the price is at 100230: above the window
    book = buy_filled(SlotBook("c1"), P0 + 7 * IV)
    book = settle(book, P0, calm_risk(), capped)
    assert sorted(s.level for s in book if s.working) == [P0 - 3 * IV, P0 - 2 * IV, P0 - IV]
    up = P0 + 3 * IV  # the take-profit enters the sell window; the three buys are all still kept
    out = calculate_actions(up, IV, book, calm_risk(), capped, BTC, 0)
    cancels = [a for a in out if isinstance(a, Cancel)]
    why = [(book.find(c.client_id).level, c.reason) for c in cancels]  # type: ignore[union-attr]
    # the farthest buy gives its room to the take-profit; the other two to nearer free levels
    assert why == [
        (P0 - 3 * IV, f"open-order cap 3: room for the take-profit of {P0 + 7 * IV}"),
        (P0 - 2 * IV, f"open-order cap 3: room for the nearer buy at {P0 + 2 * IV}"),
        (P0 - IV, f"open-order cap 3: room for the nearer buy at {P0 + IV}"),
    ]
    book = settle(book, up, calm_risk(), capped)
    working = sorted((s.side.value, s.order_price) for s in book if s.working)
    # the two buys nearest the new center work (nearer free levels took the old buys' places)
    assert working == [("BUY", P0 + IV), ("BUY", P0 + 2 * IV), ("SELL", P0 + 8 * IV)]
    again = calculate_actions(up, IV, book, calm_risk(), capped, BTC, 0)
    assert not [a for a in again if isinstance(a, Place | Cancel)]  # settled: nothing placed back


def test_more_orders_than_the_cap_cancels_the_farthest_buys() -> None:
    book = settle(SlotBook("c1"), P0, calm_risk())  # five buys under no cap
    out = calculate_actions(P0, IV, book, calm_risk(), replace(PARAMS, max_open_orders=2), BTC, 0)
    cancels = [a for a in out if isinstance(a, Cancel)]
    assert [book.find(c.client_id).level for c in cancels] == [P0 - 5 * IV, P0 - 4 * IV, P0 - 3 * IV]  # type: ignore[union-attr]
    assert all(c.reason == "open-order cap 2" for c in cancels)


AVAX = SymbolRules(
    "AVAXUSDT", "AVAX", "USDT", Decimal("0.001"), Decimal("1"), min_qty=Decimal(1), min_notional=Decimal(5)
)
AVAX_GRID = GridParams(buy_window=3, sell_window=2, order_qty=1, max_inventory=1000, max_open_orders=5)


class Venue:
    """Carries out the strategy's actions on one book (AVAXUSDT, interval 0.005, windows 3 + 2, cap 5)."""

    def __init__(self) -> None:
        self.book = SlotBook("c1")
        self.trade = 0

    def place(self, side: Side, level: int, price: int) -> str:
        self.book, cid = submit(self.book, Place(level, side, price, 1))
        self.book = ack(self.book, cid)
        return cid

    def fill(self, cid: str) -> None:
        s = self.book.find(cid)
        assert s is not None and s.side is not None
        self.trade += 1
        f = Fill(self.trade, cid, s.side, s.order_price, 1, 1, Decimal(0), "USDT", 0)
        self.book, _ = apply_fill(self.book, f, AVAX, 5)

    def act(self, price: int, unanswered: str = "", refused: str = "", once: bool = False) -> None:
        """The strategy's actions at ``price`` until none are left; a cancel of ``unanswered`` is sent
        and not answered, one of ``refused`` is answered "unknown order" (the order had filled)."""
        for _ in range(10):
            acts = calculate_actions(price, 5, self.book, calm_risk(), AVAX_GRID, AVAX, 0)
            acts = tuple(a for a in acts if isinstance(a, Place | Cancel))
            if not acts:
                return
            for a in acts:
                if isinstance(a, Place):
                    self.place(a.side, a.level, a.price)
                    continue
                self.book = request_cancel(self.book, a.client_id)
                if a.client_id == refused:
                    self.book = cancel_failed(self.book, a.client_id, 0)
                elif a.client_id != unanswered:
                    s = self.book.find(a.client_id)
                    assert s is not None
                    self.book, _ = cancelled(self.book, a.client_id, s.order_filled, AVAX, 5, 0)
            if once:
                return
        raise AssertionError("the strategy did not settle")

    def working(self) -> list[tuple[str, int]]:
        return sorted((s.side.value, s.order_price) for s in self.book if s.working and s.side is not None)


def _at_8263() -> tuple[Venue, str]:
    """Buys 8.245-8.260, a take-profit 8.270 -> 8.275, positions held above (a real AVAX moment)."""
    v = Venue()
    for lv in (8275, 8280, 8285, 8290, 8270):
        v.fill(v.place(Side.BUY, lv, lv))
    sell = v.place(Side.SELL, 8270, 8275)
    for lv in (8245, 8250, 8255, 8260):
        v.place(Side.BUY, lv, lv)
    before = v.book
    v.act(8263)
    assert v.book is before  # settled
    return v, sell


def test_under_a_full_cap_the_same_orders_work_whether_a_fill_comes_before_its_price_or_after() -> None:
    # the price jumps to 8.280 through the take-profit at 8.275
    fill_first, sell = _at_8263()  # the backtester's order
    fill_first.fill(sell)
    fill_first.act(8280)
    price_first, sell = _at_8263()  # the live bot's, when the fill comes after the price
    price_first.act(8280, unanswered=sell, once=True)  # it cancels the take-profit: below the center
    price_first.fill(sell)
    price_first.act(8280)
    refused, sell = _at_8263()  # ... and the cancel's "unknown order" answer before the fill
    refused.act(8280, refused=sell, once=True)
    refused.fill(sell)
    refused.act(8280)
    assert fill_first.working() == price_first.working() == refused.working()
    assert fill_first.working() == [
        ("BUY", 8265),
        ("BUY", 8270),
        ("SELL", 8285),
        ("SELL", 8285),
        ("SELL", 8290),
    ]
