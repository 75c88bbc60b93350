"""Whole ccxt sessions against the simulator, for ``binance`` (spot) and ``binanceusdm`` (USD-M).

ccxt runs with its defaults; only the host of every API URL is pointed at the simulator. A session is
what a trader's first script does: load markets, read the market, read the balance, place every common
kind of order, query, list, cancel, read trades and positions.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import urlsplit

import ccxt
import pytest
from test_sim_support import SIM_KEY, SIM_SECRET

from market_maker.sim.server import SimServer


def _pointed_at(exchange: ccxt.Exchange, base_url: str) -> ccxt.Exchange:
    """Every API URL of ``exchange`` with its scheme and host replaced by the simulator's."""
    for name, url in exchange.urls["api"].items():
        parts = urlsplit(url)
        exchange.urls["api"][name] = base_url + parts.path
    return exchange


@pytest.fixture(autouse=True)
def _own_decimal_context() -> Iterator[None]:
    # ccxt's number formatting sets the thread's decimal context (rounding) as a side effect; keep it
    # to these tests so that it cannot change how later tests (and the bot) round
    with decimal.localcontext():
        yield


@pytest.fixture
def spot(sim: SimServer) -> Iterator[ccxt.binance]:
    ex = _pointed_at(ccxt.binance({"apiKey": SIM_KEY, "secret": SIM_SECRET}), sim.rest_url)
    yield ex


@pytest.fixture
def usdm(sim: SimServer) -> Iterator[ccxt.binanceusdm]:
    ex = _pointed_at(ccxt.binanceusdm({"apiKey": SIM_KEY, "secret": SIM_SECRET}), sim.rest_url)
    yield ex


def _below(ex: ccxt.Exchange, symbol: str, last: float, pct: str) -> float:
    """A price ``pct`` below ``last``, on the market's tick."""
    return float(ex.price_to_precision(symbol, Decimal(str(last)) * (1 - Decimal(pct))))


def test_ccxt_binance_spot_session(sim: SimServer, spot: ccxt.binance) -> None:
    markets = spot.load_markets()
    assert "BTC/USDT" in markets and markets["BTC/USDT"]["spot"]
    assert "BTC/USDT:USDT" in markets  # ccxt's default also loads the USD-M markets
    assert spot.currencies["BTC"]["precision"] is not None  # from /sapi/v1/capital/config/getall

    ticker = spot.fetch_ticker("BTC/USDT")
    assert ticker["last"] == pytest.approx(100000)
    assert ticker["bid"] <= ticker["last"] < ticker["ask"]
    book = spot.fetch_order_book("BTC/USDT", limit=10)
    assert len(book["bids"]) == 10 and book["bids"][0][0] < book["asks"][0][0]
    candles = spot.fetch_ohlcv("BTC/USDT", "1m", limit=5)
    assert len(candles) == 5 and all(c[2] >= c[3] for c in candles)
    balance = spot.fetch_balance()
    assert balance["USDT"]["free"] == 100000 and balance["BTC"]["total"] == 1

    limit_price = _below(spot, "BTC/USDT", ticker["last"], "0.02")
    resting = spot.create_order("BTC/USDT", "limit", "buy", 0.001, limit_price)
    assert resting["status"] == "open" and resting["price"] == limit_price
    maker = spot.create_order("BTC/USDT", "limit", "buy", 0.001, limit_price, {"postOnly": True})
    assert maker["status"] == "open" and maker["postOnly"] is True
    with pytest.raises(ccxt.OrderImmediatelyFillable):
        spot.create_order("BTC/USDT", "limit", "buy", 0.001, ticker["ask"] * 1.01, {"postOnly": True})
    market = spot.create_order("BTC/USDT", "market", "buy", 0.001)
    assert market["status"] == "closed" and market["filled"] == 0.001

    fetched = spot.fetch_order(resting["id"], "BTC/USDT")
    assert fetched["status"] == "open" and fetched["clientOrderId"] == resting["clientOrderId"]
    assert {o["id"] for o in spot.fetch_open_orders("BTC/USDT")} == {resting["id"], maker["id"]}
    cancelled = spot.cancel_order(maker["id"], "BTC/USDT")
    assert cancelled["status"] == "canceled"
    assert [o["id"] for o in spot.fetch_closed_orders("BTC/USDT")] == [market["id"]]
    assert [o["id"] for o in spot.fetch_canceled_orders("BTC/USDT")] == [maker["id"]]
    trades = spot.fetch_my_trades("BTC/USDT")
    assert [t["order"] for t in trades] == [market["id"]] and trades[0]["amount"] == 0.001
    with pytest.raises(ccxt.OrderNotFound):
        spot.cancel_order(maker["id"], "BTC/USDT")
    assert [o["clientOrderId"] for o in sim.control.open_orders(SIM_KEY)] == [resting["clientOrderId"]]


def test_ccxt_binanceusdm_session(sim: SimServer, usdm: ccxt.binanceusdm) -> None:
    markets = usdm.load_markets()
    assert markets["BTC/USDT:USDT"]["linear"] is True

    ticker = usdm.fetch_ticker("BTC/USDT:USDT")
    assert ticker["last"] == pytest.approx(100000)
    book = usdm.fetch_order_book("BTC/USDT:USDT", limit=5)
    assert len(book["asks"]) == 5 and book["bids"][0][0] < book["asks"][0][0]
    candles = usdm.fetch_ohlcv("BTC/USDT:USDT", "1m", limit=3)
    assert len(candles) == 3
    balance = usdm.fetch_balance()
    assert balance["USDT"]["total"] == 100000

    leverage = usdm.set_leverage(5, "BTC/USDT:USDT")
    assert leverage["leverage"] == 5
    limit_price = _below(usdm, "BTC/USDT:USDT", ticker["last"], "0.02")
    resting = usdm.create_order("BTC/USDT:USDT", "limit", "buy", 0.002, limit_price)
    assert resting["status"] == "open"
    maker = usdm.create_order("BTC/USDT:USDT", "limit", "buy", 0.002, limit_price, {"postOnly": True})
    assert maker["timeInForce"] == "PO" and maker["status"] == "open"
    opened = usdm.create_order("BTC/USDT:USDT", "market", "buy", 0.003)
    assert opened["status"] == "closed" and opened["filled"] == 0.003
    reduce = usdm.create_order("BTC/USDT:USDT", "market", "sell", 0.001, None, {"reduceOnly": True})
    assert reduce["reduceOnly"] is True and reduce["filled"] == 0.001
    # more than the position: Binance's -2022 (ccxt picks its per-market error class by Binance's host
    # names, so on loopback it raises the generic ExchangeError with Binance's body)
    with pytest.raises(ccxt.ExchangeError, match="-2022"):
        usdm.create_order("BTC/USDT:USDT", "market", "sell", 0.01, None, {"reduceOnly": True})

    (position,) = usdm.fetch_positions(["BTC/USDT:USDT"])
    assert position["contracts"] == 0.002 and position["side"] == "long" and position["leverage"] == 5
    assert usdm.fetch_order(resting["id"], "BTC/USDT:USDT")["status"] == "open"
    assert {o["id"] for o in usdm.fetch_open_orders("BTC/USDT:USDT")} == {resting["id"], maker["id"]}
    assert usdm.cancel_order(maker["id"], "BTC/USDT:USDT")["status"] == "canceled"
    closed = usdm.fetch_closed_orders("BTC/USDT:USDT")
    assert [o["id"] for o in closed] == [opened["id"], reduce["id"]]
    trades = usdm.fetch_my_trades("BTC/USDT:USDT")
    assert [t["order"] for t in trades] == [opened["id"], reduce["id"]]
    assert trades[1]["info"]["realizedPnl"] is not None
