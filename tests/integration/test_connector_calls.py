"""Every call of the connector's interface, on spot and on USD-M, against the simulator."""

# ruff: noqa: F811  -- pytest fixtures are imported from test_connector_support

from __future__ import annotations

from decimal import Decimal

import pytest
from test_connector_support import connect, ex, market, price_off_market  # noqa: F401

from market_maker.core.model import OrderStatus, Side
from market_maker.exchange import errors as e
from market_maker.exchange.base import Exchange, FuturesExchange
from market_maker.exchange.binance import BinanceExchange
from market_maker.sim.server import SimServer

QTY = "0.001"  # about 100 USDT at the simulator's 100000


def test_it_is_the_interface_the_actors_use(ex: BinanceExchange, market: str) -> None:
    assert isinstance(ex, Exchange)
    assert isinstance(ex, FuturesExchange) == (market == "usdm")


def test_reference_data(ex: BinanceExchange, sim: SimServer) -> None:
    rules = ex.symbol_rules()
    assert (rules.tick_size, rules.step_size, rules.min_qty) == (
        Decimal("0.01"),
        Decimal("0.00001"),
        Decimal("0.00001"),
    )
    assert rules.min_notional == Decimal(5)
    assert abs(ex.server_time() - ex.rest.server_clock.now_ms()) < 1000
    assert abs(ex.sync_time()) < 1000 and ex.time_offset_ms == ex.rest.server_clock.offset_ms
    candles = ex.klines("1m", limit=5)
    assert 1 <= len(candles) <= 5
    assert [c.open_time_ms for c in candles] == sorted(c.open_time_ms for c in candles)
    assert all(c.low <= min(c.open, c.close) and c.high >= max(c.open, c.close) for c in candles)
    assert all(c.closed for c in candles[:-1])


def test_order_life_cycle_by_client_id(ex: BinanceExchange, sim: SimServer) -> None:
    rules = ex.symbol_rules()
    price = price_off_market(sim, ex, Side.BUY, "-0.02")
    placed = ex.place(Side.BUY, price, rules.qty_to_steps(QTY), "mm1_B1_0")
    assert placed.status is OrderStatus.NEW and placed.client_id == "mm1_B1_0"
    assert (placed.price, placed.orig_qty, placed.executed_qty) == (price, 100, 0)

    found = ex.get_order("mm1_B1_0")
    assert found is not None and found.order_id == placed.order_id
    path = "/api/v3/order" if ex.market == "spot" else "/fapi/v1/order"
    raw = ex.rest.request("GET", path, {"symbol": "BTCUSDT", "origClientOrderId": "mm1_B1_0"}, signed=True)
    # post-only as each market spells it
    assert raw["type"] == "LIMIT_MAKER" if ex.market == "spot" else raw["timeInForce"] == "GTX"
    assert [o.client_id for o in ex.open_orders()] == ["mm1_B1_0"]

    cancelled = ex.cancel("mm1_B1_0")
    assert cancelled.status is OrderStatus.CANCELED
    assert cancelled.client_id == "mm1_B1_0" and cancelled.order_id == placed.order_id
    assert ex.open_orders() == []
    after = ex.get_order("mm1_B1_0")
    assert after is not None and after.status is OrderStatus.CANCELED
    with pytest.raises(e.OrderNotFoundError):
        ex.cancel("mm1_B1_0")
    assert ex.get_order("mm1_B9_9") is None
    assert ex.order_counts == {"placed": 1, "cancelled": 1} and ex.cancel_place_ratio == 1.0


def test_post_only_that_would_cross_is_a_definite_reject(ex: BinanceExchange, sim: SimServer) -> None:
    price = price_off_market(sim, ex, Side.BUY, "0.02")
    with pytest.raises(e.PostOnlyRejectedError) as info:
        ex.place(Side.BUY, price, ex.symbol_rules().qty_to_steps(QTY), "mm1_B2_0")
    assert info.value.code in (-2010, -5022)
    assert ex.open_orders() == []


def test_fill_shows_in_trades_balances_and_position(ex: BinanceExchange, sim: SimServer, market: str) -> None:
    rules = ex.symbol_rules()
    before = ex.balances()["USDT"]
    start_position = ex.position().qty
    price = price_off_market(sim, ex, Side.BUY, "0.02")
    placed = ex.place(Side.BUY, price, rules.qty_to_steps(QTY), "mm1_B3_0", post_only=False)
    assert placed.status is OrderStatus.FILLED

    fills = ex.recent_trades()
    mine = [f for f in fills if f.client_id == "mm1_B3_0"]
    assert mine and sum(f.qty for f in mine) == 100 and mine[-1].cum_qty == 100
    assert all(f.side is Side.BUY and f.order_id == placed.order_id and f.fee > 0 for f in mine)
    assert ex.balances()["USDT"].free < before.free
    assert ex.position().qty - start_position == (
        Decimal(QTY) if market == "usdm" else Decimal(QTY) * 999 / 1000
    )
    assert ex.recent_trades(start_ms=max(f.time_ms for f in fills) + 1) == []
    sent = ex.rest.sent
    three_days_ago = ex.rest.server_clock.now_ms() - 3 * 86_400_000
    assert [f.trade_id for f in ex.recent_trades(start_ms=three_days_ago)] == [f.trade_id for f in fills]
    assert ex.rest.sent - sent >= 4  # one request per day of the span: Binance answers a day at most


def test_cancel_all_and_cancel_own_leave_foreign_orders_alone(ex: BinanceExchange, sim: SimServer) -> None:
    ex.cancel_all()  # nothing open: "already so" is success
    qty = ex.symbol_rules().qty_to_steps(QTY)
    for i, cid in enumerate(["mm1_B4_0", "mm1_B5_0", "manual-order-1"]):
        ex.place(Side.BUY, price_off_market(sim, ex, Side.BUY, f"-0.0{i + 2}"), qty, cid)
    cancelled = ex.cancel_own("mm1")
    assert sorted(o.client_id for o in cancelled) == ["mm1_B4_0", "mm1_B5_0"]
    assert all(o.status is OrderStatus.CANCELED for o in cancelled)
    assert [o.client_id for o in ex.open_orders()] == ["manual-order-1"]
    ex.cancel_all()
    assert ex.open_orders() == []
    ex.cancel_all()


@pytest.mark.parametrize("market", ["usdm"])
def test_futures_configuration_and_reduce_only_take_profit(ex: BinanceExchange, sim: SimServer) -> None:
    assert isinstance(ex, FuturesExchange)
    assert ex.set_leverage(5) == 5
    ex.set_margin_type("ISOLATED")
    ex.set_margin_type("ISOLATED")  # -4046 "No need to change margin type.": success
    ex.set_position_mode(False)
    ex.set_position_mode(False)  # -4059: success
    assert ex.position_mode() is False
    position = ex.position()
    assert position.leverage == 5 and position.margin_type == "isolated"

    rules = ex.symbol_rules()
    ex.place(
        Side.BUY,
        price_off_market(sim, ex, Side.BUY, "0.02"),
        rules.qty_to_steps(QTY),
        "mm1_B6_0",
        post_only=False,
    )
    assert ex.position().qty == Decimal(QTY)
    tp = ex.place(Side.SELL, price_off_market(sim, ex, Side.SELL, "0.03"), 100, "mm1_S6_0", reduce_only=True)
    assert tp.status is OrderStatus.NEW
    raw = ex.rest.request(
        "GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "origClientOrderId": "mm1_S6_0"}, signed=True
    )
    assert raw["reduceOnly"] is True and raw["timeInForce"] == "GTX"
    with pytest.raises(e.RejectedError):  # more than the position: a reduce-only order cannot grow it
        ex.place(Side.SELL, price_off_market(sim, ex, Side.SELL, "0.03"), 500, "mm1_S7_0", reduce_only=True)


@pytest.mark.parametrize(
    ("price_fraction", "qty", "spot_filter", "usdm_filter"),
    [
        ("-0.02", "0.00001", "NOTIONAL", "MIN_NOTIONAL"),  # about 1 USDT, below the 5 USDT minimum
        ("-0.02", "9001", "LOT_SIZE", "LOT_SIZE"),  # above maxQty
    ],
)
def test_filter_failures_are_clear_typed_errors(
    sim: SimServer, market: str, price_fraction: str, qty: str, spot_filter: str, usdm_filter: str
) -> None:
    expected = spot_filter if market == "spot" else usdm_filter
    raw = connect(sim, market, precheck=False)  # let the exchange judge
    rules = raw.symbol_rules()
    price = price_off_market(sim, raw, Side.BUY, price_fraction)
    with pytest.raises(e.FilterError) as info:
        raw.place(Side.BUY, price, rules.qty_to_steps(qty), "mm1_B8_0")
    assert info.value.filter_name == expected and info.value.code is not None

    checked = connect(sim, market)  # the default: refused before sending
    sent = checked.rest.sent
    with pytest.raises(e.FilterError) as local:
        checked.place(Side.BUY, price, rules.qty_to_steps(qty), "mm1_B8_0")
    assert local.value.filter_name == spot_filter  # the core names filters as spot does
    assert checked.rest.sent == sent
