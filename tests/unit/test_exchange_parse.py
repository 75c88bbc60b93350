"""Parsing against payloads laid out as the reference documents them (§A.5, §B.2-B.6, §C.2-C.4)."""

from decimal import Decimal

import pytest

from market_maker.core.model import OrderStatus, Side
from market_maker.exchange.errors import ConfigError, ExchangeError
from market_maker.exchange.events import parse_market_event, parse_user_event, unwrap
from market_maker.exchange.parse import (
    balances_from_futures,
    balances_from_spot_account,
    candle_from_kline,
    fills_from_rest_trades,
    order_from_rest,
    position_from_futures,
    rules_from_exchange_info,
)
from market_maker.exchange.types import BalanceUpdate, CandleUpdate, OrderUpdate, PositionUpdate, Quote

SPOT_INFO = {
    "timezone": "UTC",
    "serverTime": 1565246363776,
    "rateLimits": [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000}
    ],
    "exchangeFilters": [],
    "symbols": [
        {
            "symbol": "BTCUSDT",
            "status": "TRADING",
            "baseAsset": "BTC",
            "baseAssetPrecision": 8,
            "quoteAsset": "USDT",
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": "0.01000000",
                    "maxPrice": "1000000.00000000",
                    "tickSize": "0.01000000",
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": "0.00001000",
                    "maxQty": "9000.00000000",
                    "stepSize": "0.00001000",
                },
                {
                    "filterType": "NOTIONAL",
                    "minNotional": "5.00000000",
                    "applyMinToMarket": True,
                    "maxNotional": "9000000.00000000",
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            ],
            "permissions": [],
            "permissionSets": [["SPOT", "MARGIN"]],
        }
    ],
}

FUTURES_INFO = {
    "timezone": "UTC",
    "serverTime": 1565613908500,
    "rateLimits": [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400}
    ],
    "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
    "symbols": [
        {
            "symbol": "BTCUSDT",
            "pair": "BTCUSDT",
            "contractType": "PERPETUAL",
            "status": "TRADING",
            "baseAsset": "BTC",
            "quoteAsset": "USDT",
            "marginAsset": "USDT",
            "pricePrecision": 2,
            "quantityPrecision": 3,  # not tick/step: the docs say so
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": "556.80",
                    "maxPrice": "4529764",
                    "tickSize": "0.10",
                },
                {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000", "stepSize": "0.001"},
                {"filterType": "MARKET_LOT_SIZE", "minQty": "0.001", "maxQty": "120", "stepSize": "0.001"},
                {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                {"filterType": "MIN_NOTIONAL", "notional": "100"},
                {
                    "filterType": "PERCENT_PRICE",
                    "multiplierUp": "1.0500",
                    "multiplierDown": "0.9500",
                    "multiplierDecimal": "4",
                },
            ],
            "orderTypes": ["LIMIT", "MARKET"],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
        }
    ],
}

SPOT = rules_from_exchange_info(SPOT_INFO, "BTCUSDT")
FUT = rules_from_exchange_info(FUTURES_INFO, "BTCUSDT")


def test_spot_filters_become_rules() -> None:
    assert SPOT.tick_size == Decimal("0.01") and SPOT.step_size == Decimal("0.00001")
    assert SPOT.min_qty == Decimal("0.00001") and SPOT.max_qty == Decimal(9000)
    assert SPOT.min_notional == Decimal(5) and SPOT.max_notional == Decimal(9000000)
    assert (SPOT.base_asset, SPOT.quote_asset) == ("BTC", "USDT")


def test_futures_min_notional_is_spelled_notional_and_precision_fields_are_ignored() -> None:
    assert FUT.tick_size == Decimal("0.10") and FUT.step_size == Decimal("0.001")
    assert FUT.min_notional == Decimal(100) and FUT.min_price == Decimal("556.80")


def test_an_unlisted_symbol_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="ETHUSDT"):
        rules_from_exchange_info(SPOT_INFO, "ETHUSDT")


def test_missing_lot_size_is_a_clear_error() -> None:
    broken = {
        "symbols": [
            {
                "symbol": "X",
                "baseAsset": "A",
                "quoteAsset": "B",
                "filters": [{"filterType": "PRICE_FILTER", "tickSize": "0.1"}],
            }
        ]
    }
    with pytest.raises(ExchangeError, match="LOT_SIZE"):
        rules_from_exchange_info(broken, "X")


def test_spot_cancel_answer_keeps_the_orders_own_client_id() -> None:
    cancel = {
        "symbol": "BTCUSDT",
        "origClientOrderId": "mm1_B255t_3",
        "orderId": 4,
        "orderListId": -1,
        "clientOrderId": "cancelMyOrder1",
        "transactTime": 1684804350068,
        "price": "100000.01",
        "origQty": "0.00100",
        "executedQty": "0.00040",
        "origQuoteOrderQty": "0.000000",
        "cummulativeQuoteQty": "40.000004",
        "status": "CANCELED",
        "timeInForce": "GTC",
        "type": "LIMIT_MAKER",
        "side": "BUY",
        "selfTradePreventionMode": "NONE",
    }
    o = order_from_rest(cancel, SPOT)
    assert o.client_id == "mm1_B255t_3" and o.order_id == 4
    assert (o.price, o.orig_qty, o.executed_qty) == (10000001, 100, 40)
    assert o.status is OrderStatus.CANCELED and o.side is Side.BUY
    assert o.avg_price == Decimal("100000.01")  # cummulativeQuoteQty / executedQty


def test_spot_average_price_is_the_quote_over_the_quantity_exactly() -> None:
    def avg(quote: str, qty: str) -> Decimal | None:
        order = {"clientOrderId": "mm1_B255t_3", "orderId": 4, "side": "BUY", "price": "100000.01"}
        return order_from_rest({**order, "executedQty": qty, "cummulativeQuoteQty": quote}, SPOT).avg_price

    assert str(avg("99.99100000", "0.00100")) == "99991"  # no exponent, no trailing zeros
    assert avg("0.00000000", "0.00000") == 0  # nothing executed
    three = avg("300.00000001", "0.00300")  # three fills that do not divide evenly: 34 digits
    assert three is not None and len(three.as_tuple().digits) == 34 and abs(three - 100000) < Decimal("1e-5")
    assert order_from_rest({"clientOrderId": "c", "orderId": 4, "side": "BUY"}, SPOT).avg_price is None
    with pytest.raises(ExchangeError, match="negative average price"):
        avg("-1", "0.001")


def test_futures_order_object() -> None:
    o = order_from_rest(
        {
            "avgPrice": "0.00000",
            "clientOrderId": "mm1_S255u_0",
            "cumQuote": "0",
            "executedQty": "0",
            "orderId": 1917641,
            "origQty": "0.400",
            "origType": "LIMIT",
            "price": "25000.10",
            "reduceOnly": True,
            "side": "SELL",
            "positionSide": "BOTH",
            "status": "NEW",
            "stopPrice": "0",
            "closePosition": False,
            "symbol": "BTCUSDT",
            "time": 1579276756075,
            "timeInForce": "GTX",
            "type": "LIMIT",
            "updateTime": 1579276756075,
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
        },
        FUT,
    )
    assert (o.client_id, o.price, o.orig_qty, o.status) == ("mm1_S255u_0", 250001, 400, OrderStatus.NEW)
    assert o.avg_price == 0  # avgPrice, as USD-M states it


def test_trades_get_running_cumulative_quantity_per_order_and_client_ids() -> None:
    rows = [
        {
            "symbol": "BTCUSDT",
            "id": 29,
            "orderId": 100,
            "orderListId": -1,
            "price": "100000.00",
            "qty": "0.00060",
            "quoteQty": "60.0",
            "commission": "0.00000060",
            "commissionAsset": "BTC",
            "time": 1499865549590,
            "isBuyer": True,
            "isMaker": True,
            "isBestMatch": True,
        },
        {
            "symbol": "BTCUSDT",
            "id": 28,
            "orderId": 100,
            "orderListId": -1,
            "price": "100000.00",
            "qty": "0.00040",
            "quoteQty": "40.0",
            "commission": "0.00000040",
            "commissionAsset": "BTC",
            "time": 1499865549580,
            "isBuyer": True,
            "isMaker": True,
            "isBestMatch": True,
        },
    ]
    fills = fills_from_rest_trades(rows, SPOT, {100: "mm1_B255t_3"})
    assert [f.trade_id for f in fills] == [28, 29]
    assert [f.cum_qty for f in fills] == [40, 100]
    assert fills[0].fee == Decimal("0.00000040") and fills[0].fee_asset == "BTC"
    assert all(f.client_id == "mm1_B255t_3" and f.side is Side.BUY and f.is_maker for f in fills)


def test_futures_user_trades_use_side_and_maker() -> None:
    rows = [
        {
            "buyer": False,
            "commission": "-0.07819010",
            "commissionAsset": "USDT",
            "id": 698759,
            "maker": False,
            "orderId": 25851813,
            "price": "7819.01",
            "qty": "0.002",
            "quoteQty": "15.63802",
            "realizedPnl": "-0.91539999",
            "side": "SELL",
            "positionSide": "BOTH",
            "symbol": "BTCUSDT",
            "time": 1569514978020,
        }
    ]
    f = fills_from_rest_trades(rows, FUT, {})[0]
    assert f.side is Side.SELL and not f.is_maker and f.price == 78190 and f.qty == 2


def test_kline_rows_are_closed_only_after_their_close_time() -> None:
    row = [
        1499040000000,
        "100000.00",
        "100010.00",
        "99990.00",
        "100005.00",
        "1.50000",
        1499040059999,
        "150000.0",
        308,
        "0.75000",
        "75000.0",
        "0",
    ]
    c = candle_from_kline(row, SPOT, now_ms=1499040060000)
    assert (c.open, c.high, c.low, c.close, c.volume) == (10000000, 10001000, 9999000, 10000500, 150000)
    assert c.closed
    assert not candle_from_kline(row, SPOT, now_ms=1499040059999).closed


def test_balances_and_positions() -> None:
    spot = balances_from_spot_account(
        {"balances": [{"asset": "BTC", "free": "4723846.89208129", "locked": "0.00000000"}]}
    )
    assert spot["BTC"].free == Decimal("4723846.89208129")
    fut = balances_from_futures(
        [
            {
                "accountAlias": "SgsR",
                "asset": "USDT",
                "balance": "122607.35137903",
                "crossWalletBalance": "23.72469206",
                "crossUnPnl": "0.00000000",
                "availableBalance": "23.72469206",
                "maxWithdrawAmount": "23.72469206",
                "marginAvailable": True,
                "updateTime": 1617939110373,
            }
        ]
    )
    assert fut["USDT"].total == Decimal("122607.35137903") and fut["USDT"].free == Decimal("23.72469206")
    pos = position_from_futures(
        [
            {
                "entryPrice": "6563.66500",
                "marginType": "isolated",
                "isAutoAddMargin": "false",
                "isolatedMargin": "15517.54150468",
                "leverage": "10",
                "liquidationPrice": "5930.78",
                "markPrice": "6679.50671178",
                "maxNotionalValue": "20000000",
                "positionAmt": "20.000",
                "symbol": "BTCUSDT",
                "unRealizedProfit": "2316.83423560",
                "positionSide": "BOTH",
                "updateTime": 0,
            }
        ],
        "BTCUSDT",
    )
    assert pos.qty == Decimal(20) and pos.leverage == 10 and pos.margin_type == "isolated"


# --- user data ---------------------------------------------------------------------------------------------


def execution_report(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "e": "executionReport",
        "E": 1499405658658,
        "s": "BTCUSDT",
        "c": "mm1_B255t_3",
        "S": "BUY",
        "o": "LIMIT_MAKER",
        "f": "GTC",
        "q": "0.00100",
        "p": "100000.00",
        "P": "0.00",
        "F": "0.00",
        "g": -1,
        "C": "",
        "x": "NEW",
        "X": "NEW",
        "r": "NONE",
        "i": 4293153,
        "l": "0.00000",
        "z": "0.00000",
        "L": "0.00",
        "n": "0",
        "N": None,
        "T": 1499405658657,
        "t": -1,
        "I": 8641984,
        "w": True,
        "m": False,
        "M": False,
        "O": 1499405658657,
        "Z": "0.00",
        "Y": "0.00",
        "Q": "0.00",
        "W": 1499405658657,
        "V": "NONE",
    }
    base.update(over)
    return base


def test_spot_partial_fill_from_the_ws_api_wrapper() -> None:
    msg = {
        "subscriptionId": 0,
        "event": execution_report(
            x="TRADE",
            X="PARTIALLY_FILLED",
            l="0.00040",
            z="0.00040",
            L="100000.00",
            n="0.00000040",
            N="BTC",
            t=77,
            m=True,
        ),
    }
    [u] = parse_user_event(unwrap(msg), SPOT)
    assert isinstance(u, OrderUpdate) and u.execution == "TRADE"
    assert u.order.status is OrderStatus.PARTIALLY_FILLED and u.order.executed_qty == 40
    assert u.fill is not None
    assert (u.fill.trade_id, u.fill.qty, u.fill.cum_qty, u.fill.price) == (77, 40, 40, 10000000)
    assert u.fill.fee == Decimal("0.00000040") and u.fill.is_maker and u.fill.client_id == "mm1_B255t_3"


def test_spot_cancel_event_is_keyed_by_the_original_client_id() -> None:
    [u] = parse_user_event(
        execution_report(x="CANCELED", X="CANCELED", c="web_cancel_9", C="mm1_B255t_3"), SPOT
    )
    assert isinstance(u, OrderUpdate)
    assert u.order.client_id == "mm1_B255t_3" and u.order.order_id == 4293153 and u.fill is None


def test_events_of_other_symbols_are_dropped() -> None:
    assert parse_user_event(execution_report(s="ETHUSDT"), SPOT) == []


def test_spot_account_position() -> None:
    [u] = parse_user_event(
        {
            "e": "outboundAccountPosition",
            "E": 1564034571105,
            "u": 1564034571073,
            "B": [{"a": "USDT", "f": "100.000000", "l": "0.000000"}],
        },
        SPOT,
    )
    assert isinstance(u, BalanceUpdate) and u.balances[0].free == Decimal(100)


def test_futures_order_trade_update_fill_without_commission_fields() -> None:
    ev = {
        "e": "ORDER_TRADE_UPDATE",
        "E": 1568879465651,
        "T": 1568879465650,
        "o": {
            "s": "BTCUSDT",
            "c": "mm1_S255u_0",
            "S": "SELL",
            "o": "LIMIT",
            "f": "GTX",
            "q": "0.400",
            "p": "25000.10",
            "ap": "25000.10",
            "sp": "0",
            "x": "TRADE",
            "X": "FILLED",
            "i": 8886774,
            "l": "0.400",
            "z": "0.400",
            "L": "25000.10",
            "T": 1568879465650,
            "t": 12,
            "b": "0",
            "a": "9.91",
            "m": True,
            "R": True,
            "wt": "CONTRACT_PRICE",
            "ot": "LIMIT",
            "ps": "BOTH",
            "cp": False,
            "rp": "1.50000000",
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": "EXPIRE_TAKER",
            "pm": "NONE",
            "gtd": 0,
        },
    }
    [u] = parse_user_event(ev, FUT)
    assert isinstance(u, OrderUpdate) and u.fill is not None
    assert u.fill.fee == 0 and u.fill.fee_asset == "" and u.fill.qty == 400 and u.fill.cum_qty == 400
    assert u.reduce_only and u.realized_pnl == Decimal("1.5") and u.order.status is OrderStatus.FILLED
    assert str(u.order.avg_price) == "25000.10"  # "ap", the venue's digits


def test_futures_account_update_balances_and_own_position() -> None:
    ev = {
        "e": "ACCOUNT_UPDATE",
        "E": 1564745798939,
        "T": 1564745798938,
        "a": {
            "m": "ORDER",
            "B": [{"a": "USDT", "wb": "122624.12345678", "cw": "100.12345678", "bc": "50.12345678"}],
            "P": [
                {
                    "s": "BTCUSDT",
                    "pa": "0.002",
                    "ep": "100000.0",
                    "bep": "100010.0",
                    "cr": "200",
                    "up": "0.1",
                    "mt": "isolated",
                    "iw": "0.00000000",
                    "ps": "BOTH",
                },
                {
                    "s": "ETHUSDT",
                    "pa": "1",
                    "ep": "1",
                    "cr": "0",
                    "up": "0",
                    "mt": "cross",
                    "iw": "0",
                    "ps": "BOTH",
                },
            ],
        },
    }
    bal, pos = parse_user_event(ev, FUT)
    assert (
        isinstance(bal, BalanceUpdate)
        and bal.reason == "ORDER"
        and bal.balances[0].free == Decimal("100.12345678")
    )
    assert isinstance(pos, PositionUpdate) and pos.position.qty == Decimal("0.002")


# --- market data -------------------------------------------------------------------------------------------


def test_spot_book_ticker_without_event_fields() -> None:
    q = parse_market_event(
        {"u": 400900217, "s": "BTCUSDT", "b": "100000.00", "B": "31.21", "a": "100000.01", "A": "40.66"}, SPOT
    )
    assert q == Quote("BTCUSDT", 10000000, 10000001, 0)


def test_futures_book_ticker_in_a_combined_stream() -> None:
    msg = {
        "stream": "btcusdt@bookTicker",
        "data": {
            "e": "bookTicker",
            "u": 400900217,
            "E": 1568014460893,
            "T": 1568014460891,
            "s": "BTCUSDT",
            "b": "25350.3",
            "B": "31.21",
            "a": "25350.4",
            "A": "40.66",
        },
    }
    assert parse_market_event(unwrap(msg), FUT) == Quote("BTCUSDT", 253503, 253504, 1568014460893)


def test_kline_stream_message() -> None:
    ev = {
        "e": "kline",
        "E": 1672515782136,
        "s": "BTCUSDT",
        "k": {
            "t": 1672515780000,
            "T": 1672515839999,
            "s": "BTCUSDT",
            "i": "1m",
            "f": 100,
            "L": 200,
            "o": "100000.00",
            "c": "100001.00",
            "h": "100002.00",
            "l": "99999.00",
            "v": "1.00000",
            "n": 100,
            "x": False,
            "q": "1.0000",
            "V": "0.500",
            "Q": "0.500",
            "B": "123456",
        },
    }
    c = parse_market_event(ev, SPOT)
    assert isinstance(c, CandleUpdate) and c.interval == "1m" and not c.candle.closed
    assert c.candle.high == 10000200


def test_self_trade_prevention_and_expiry_reasons_are_read_not_errors() -> None:
    [stp] = parse_user_event(execution_report(x="EXPIRED", X="EXPIRED_IN_MATCH", V="EXPIRE_TAKER"), SPOT)
    assert isinstance(stp, OrderUpdate) and stp.order.status is OrderStatus.EXPIRED
    assert stp.expiry_reason == "STP"
    [ioc] = parse_user_event(execution_report(x="EXPIRED", X="EXPIRED", eR="INSUFFICIENT_LIQUIDITY"), SPOT)
    assert isinstance(ioc, OrderUpdate) and ioc.expiry_reason == "INSUFFICIENT_LIQUIDITY"
    [new] = parse_user_event(execution_report(eR="NONE"), SPOT)
    assert isinstance(new, OrderUpdate) and new.expiry_reason == ""
    fut = {
        "e": "ORDER_TRADE_UPDATE",
        "E": 1,
        "T": 1,
        "o": {"s": "BTCUSDT", "c": "mm1_S255u_0", "S": "SELL", "q": "0.400", "p": "25000.10", "x": "EXPIRED",
              "X": "EXPIRED_IN_MATCH", "i": 5, "l": "0", "z": "0", "T": 1, "V": "EXPIRE_MAKER", "er": "0"},
    }  # fmt: skip
    [u] = parse_user_event(fut, FUT)
    assert isinstance(u, OrderUpdate) and u.expiry_reason == "STP" and u.order.status is OrderStatus.EXPIRED


def test_order_events_carry_the_average_price() -> None:
    spot = execution_report(x="TRADE", X="PARTIALLY_FILLED", l="0.00040", z="0.00040", L="100000.00", t=9)
    [u] = parse_user_event({**spot, "Z": "40.00000000"}, SPOT)
    assert isinstance(u, OrderUpdate) and u.order.avg_price == Decimal("100000")  # Z / z
    [u] = parse_user_event({k: v for k, v in spot.items() if k != "Z"}, SPOT)
    assert isinstance(u, OrderUpdate) and u.order.avg_price is None  # not said: the row keeps its own
