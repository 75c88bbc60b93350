"""Shared builders for the core's unit tests: a BTCUSDT-like symbol and a driver that settles a book."""

from __future__ import annotations

from decimal import Decimal

from market_maker.core.actions import Cancel, Place
from market_maker.core.fills import apply_fill, cancelled
from market_maker.core.grid import GridParams
from market_maker.core.model import Fill, Side
from market_maker.core.risk import RiskParams, RiskState, on_market_data, start_risk
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook, ack, request_cancel, submit
from market_maker.core.strategy import calculate_actions

BTC = SymbolRules(
    symbol="BTCUSDT",
    base_asset="BTC",
    quote_asset="USDT",
    tick_size=Decimal("0.01"),
    step_size=Decimal("0.00001"),
    min_qty=Decimal("0.00001"),
    min_notional=Decimal("5"),
)
IV = 1000  # the interval: 10.00 USDT in ticks
PARAMS = GridParams(buy_window=5, sell_window=5, order_qty=100, max_inventory=10_000)


def calm_risk() -> RiskState:
    """A risk state with fresh data and nothing triggered."""
    return on_market_data(start_risk(RiskParams()), 0)


def fill(
    cid: str,
    side: Side,
    price: int,
    qty: int,
    cum: int,
    trade_id: int,
    fee: str = "0",
    asset: str = "USDT",
    t: int = 0,
) -> Fill:
    """A trade report of one of our orders."""
    return Fill(trade_id, cid, side, price, qty, cum, Decimal(fee), asset, t)


def buy_filled(
    book: SlotBook,
    level: int,
    qty: int = 100,
    interval: int = IV,
    trade_id: int = 1,
    fee: str = "0",
    asset: str = "USDT",
) -> SlotBook:
    """Submit, ack and completely fill a buy at ``level``."""
    book, cid = submit(book, Place(level, Side.BUY, level, qty))
    book = ack(book, cid)
    book, _ = apply_fill(book, fill(cid, Side.BUY, level, qty, qty, trade_id, fee, asset), BTC, interval)
    return book


def settle(
    book: SlotBook,
    price: int,
    risk: RiskState,
    params: GridParams = PARAMS,
    interval: int = IV,
    now_ms: int = 0,
) -> SlotBook:
    """Carry out the strategy's actions (orders acked at once, cancels confirmed) until none are left."""
    for _ in range(10):
        acts = [
            a
            for a in calculate_actions(price, interval, book, risk, params, BTC, now_ms)
            if isinstance(a, Place | Cancel)
        ]
        if not acts:
            return book
        for a in acts:
            if isinstance(a, Place):
                book, cid = submit(book, a)
                book = ack(book, cid)
            else:
                book = request_cancel(book, a.client_id)
                s = book.find(a.client_id)
                assert s is not None
                book, _ = cancelled(book, a.client_id, s.order_filled, BTC, interval, now_ms)
    raise AssertionError("strategy did not settle")
