"""Binance's own Python connectors trade against the simulator: ``binance-connector`` (spot) and
``binance-futures-connector`` (USD-M), each through a whole session a trader's first script makes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from binance.error import ClientError
from binance.spot import Spot
from binance.um_futures import UMFutures
from test_sim_support import SIM_KEY, SIM_SECRET

from market_maker.sim.server import SimServer


def _below(price: str, tick: str, pct: str) -> str:
    """``pct`` below ``price``, on the tick."""
    t = Decimal(tick)
    return f"{((Decimal(price) * (1 - Decimal(pct))) / t).to_integral_value() * t:f}"


def test_binance_connector_spot_session(sim: SimServer) -> None:
    client = Spot(api_key=SIM_KEY, api_secret=SIM_SECRET, base_url=sim.rest_url)
    info = client.exchange_info(symbol="BTCUSDT")
    filters = {f["filterType"]: f for f in info["symbols"][0]["filters"]}
    day = client.ticker_24hr("BTCUSDT")
    assert Decimal(day["lastPrice"]) == 100000 and Decimal(day["highPrice"]) >= Decimal(day["lowPrice"])
    avg = client.avg_price("BTCUSDT")
    assert avg["mins"] == 5 and Decimal(avg["price"]) > 0
    sim.control.step(3)
    aggs = client.agg_trades("BTCUSDT", limit=2)
    assert len(aggs) == 2 and aggs[0]["a"] < aggs[1]["a"]
    book = client.depth("BTCUSDT", limit=5)
    assert len(book["bids"]) == 5 and Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0])
    assert len(client.klines("BTCUSDT", "1m", limit=4)) == 4
    assert {b["asset"] for b in client.account()["balances"]} >= {"BTC", "USDT"}

    last = client.ticker_price("BTCUSDT")["price"]
    limit = _below(last, filters["PRICE_FILTER"]["tickSize"], "0.02")
    placed = client.new_order(
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.001",
        price=limit,
        newClientOrderId="tp_B1_0",
    )
    assert placed["status"] == "NEW"
    maker = client.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT_MAKER", quantity="0.001", price=limit)
    market = client.new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.001")
    assert market["status"] == "FILLED" and len(market["fills"]) == 1
    assert client.get_order("BTCUSDT", orderId=maker["orderId"])["type"] == "LIMIT_MAKER"
    open_orders = client.get_open_orders(symbol="BTCUSDT")
    assert [o["clientOrderId"] for o in open_orders] == ["tp_B1_0", maker["clientOrderId"]]
    cancelled = client.cancel_order(symbol="BTCUSDT", origClientOrderId="tp_B1_0")
    assert cancelled["status"] == "CANCELED"
    every = client.get_orders("BTCUSDT")
    assert [(o["orderId"], o["status"]) for o in every] == [
        (placed["orderId"], "CANCELED"),
        (maker["orderId"], "NEW"),
        (market["orderId"], "FILLED"),
    ]
    (trade,) = client.my_trades("BTCUSDT")
    assert trade["orderId"] == market["orderId"] and trade["isBuyer"] is False
    with pytest.raises(ClientError) as refused:
        client.cancel_order(symbol="BTCUSDT", origClientOrderId="tp_B1_0")
    assert refused.value.error_code == -2011
    assert [o["clientOrderId"] for o in sim.control.open_orders(SIM_KEY)] == [maker["clientOrderId"]]


def test_binance_futures_connector_usdm_session(sim: SimServer) -> None:
    client = UMFutures(key=SIM_KEY, secret=SIM_SECRET, base_url=sim.rest_url)
    (sym,) = client.exchange_info()["symbols"]
    tick = next(f["tickSize"] for f in sym["filters"] if f["filterType"] == "PRICE_FILTER")
    day = client.ticker_24hr_price_change("BTCUSDT")
    assert Decimal(day["lastPrice"]) == 100000 and day["symbol"] == "BTCUSDT"
    book = client.depth("BTCUSDT", limit=5)
    assert book["bids"][0][0] == "100000.00"  # the symbol's tick, not 8 decimals
    ticker = client.book_ticker("BTCUSDT")
    assert ticker["askPrice"] == "100000.01"
    (kline,) = client.klines("BTCUSDT", "1m", limit=1)
    assert "." not in kline[1] or len(kline[1].split(".")[1]) == 2
    mark = client.mark_price("BTCUSDT")
    assert Decimal(mark["markPrice"]) > 0 and mark["nextFundingTime"] > 0
    bracket = client.leverage_brackets(symbol="BTCUSDT")
    assert bracket["brackets"][0]["initialLeverage"] == 125
    assert client.change_leverage("BTCUSDT", 10)["leverage"] == 10
    wallets = {a["asset"]: Decimal(a["walletBalance"]) for a in client.account()["assets"]}
    assert wallets["USDT"] == 100000
    assert [b["asset"] for b in client.balance()] == ["USDT", "BTC"]

    limit = _below(ticker["bidPrice"], tick, "0.02")
    resting = client.new_order(
        symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.002", price=limit
    )
    post_only = client.new_order(
        symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTX", quantity="0.002", price=limit
    )
    opened = client.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.003")
    reduced = client.new_order(
        symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.001", reduceOnly="true"
    )
    assert client.query_order("BTCUSDT", orderId=opened["orderId"])["status"] == "FILLED"
    assert client.get_open_orders("BTCUSDT", orderId=resting["orderId"])["status"] == "NEW"
    assert {o["orderId"] for o in client.get_orders(symbol="BTCUSDT")} == {
        resting["orderId"],
        post_only["orderId"],
    }
    assert client.cancel_order("BTCUSDT", orderId=post_only["orderId"])["status"] == "CANCELED"
    every = client.get_all_orders("BTCUSDT")
    assert [o["orderId"] for o in every] == [
        resting["orderId"],
        post_only["orderId"],
        opened["orderId"],
        reduced["orderId"],
    ]
    trades = client.get_account_trades("BTCUSDT")
    assert [t["orderId"] for t in trades] == [opened["orderId"], reduced["orderId"]]
    (position,) = client.get_position_risk(symbol="BTCUSDT")
    assert position["positionAmt"] == "0.002" and position["leverage"] == "10"
