"""Spot REST endpoints under /api/v3, answering as Binance does (shapes, defaults, error codes)."""

from __future__ import annotations

import json
import re
import secrets
import zlib
from typing import Any

from market_maker.core.model import Side
from market_maker.core.rules import RuleError, SymbolRules
from market_maker.sim import wire
from market_maker.sim.candles import INTERVALS_MS
from market_maker.sim.engine import SPOT, OrderEvent, Trade
from market_maker.sim.hub import depth
from market_maker.sim.rest import (
    NONE,
    SIGNED,
    Params,
    Raw,
    Route,
    decimal_param,
    err,
    int_param,
    mandatory,
    order_ref,
    ping,
    server_time,
    symbol_rules,
)
from market_maker.sim.symbol_status import status_of
from market_maker.sim.venue import Venue, info_json

_CID_RE = re.compile(r"^[a-zA-Z0-9-_]{1,36}$")
_TYPES = ("LIMIT", "MARKET", "LIMIT_MAKER")
_ALL_TYPES = (
    "LIMIT",
    "LIMIT_MAKER",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
)


def exchange_info_body(v: Venue) -> dict[str, Any]:
    """The static part of GET /api/v3/exchangeInfo."""
    cfg = v.cfg
    symbols = []
    for spec in cfg.symbols:
        r = v.rules[spec.symbol]
        symbols.append(
            {
                "symbol": r.symbol,
                "status": status_of(v.symbol_status, r.symbol),
                "baseAsset": r.base_asset,
                "baseAssetPrecision": 8,
                "quoteAsset": r.quote_asset,
                "quotePrecision": 8,
                "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8,
                "quoteCommissionPrecision": 8,
                "orderTypes": list(_ALL_TYPES),
                "icebergAllowed": False,
                "ocoAllowed": False,
                "otoAllowed": False,
                "opoAllowed": False,
                "quoteOrderQtyMarketAllowed": True,
                "allowTrailingStop": False,
                "cancelReplaceAllowed": False,
                "amendAllowed": False,
                "pegInstructionsAllowed": False,
                "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False,
                "filters": [
                    {
                        "filterType": "PRICE_FILTER",
                        "minPrice": wire.f8(r.min_price),
                        "maxPrice": wire.f8(r.max_price),
                        "tickSize": wire.f8(r.tick_size),
                    },
                    {
                        "filterType": "LOT_SIZE",
                        "minQty": wire.f8(r.min_qty),
                        "maxQty": wire.f8(r.max_qty),
                        "stepSize": wire.f8(r.step_size),
                    },
                    {
                        "filterType": "MARKET_LOT_SIZE",
                        "minQty": wire.f8(r.min_qty),
                        "maxQty": wire.f8(r.max_qty),
                        "stepSize": wire.f8(r.step_size),
                    },
                    {
                        "filterType": "NOTIONAL",
                        "minNotional": wire.f8(r.min_notional),
                        "applyMinToMarket": True,
                        "maxNotional": wire.f8(r.max_notional),
                        "applyMaxToMarket": False,
                        "avgPriceMins": 5,
                    },
                    {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": cfg.max_open_orders},
                ],
                "permissions": [],
                "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
            }
        )
    return {
        "timezone": "UTC",
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": cfg.spot_weight_limit,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "SECOND",
                "intervalNum": 10,
                "limit": cfg.spot_order_limit_10s,
            },
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
        ],
        "exchangeFilters": [],
        "symbols": symbols,
    }


def _exchange_info(v: Venue, key: str, p: Params, now: int) -> Any:
    if not v.spot_info:
        v.spot_info = info_json(exchange_info_body(v))
    wanted = _symbols_param(v, p)
    if wanted is None:  # precomputed body, only the time spliced in
        return Raw(f'{{"serverTime":{now},' + v.spot_info[1:])
    body = exchange_info_body(v)
    body["symbols"] = [s for s in body["symbols"] if s["symbol"] in wanted]
    return {"serverTime": now, **body}


def _symbols_param(v: Venue, p: Params) -> list[str] | None:
    if p.get("symbol"):
        wanted = [p["symbol"]]
    elif p.get("symbols"):
        try:
            wanted = json.loads(p["symbols"])
        except ValueError:
            raise err(-1100, "Illegal characters found in parameter 'symbols'.") from None
        if not isinstance(wanted, list):
            raise err(-1100, "Illegal characters found in parameter 'symbols'.")
    else:
        return None
    for s in wanted:
        if s not in v.rules:
            raise err(-1121, "Invalid symbol.")
    return wanted


def _ticker_price(v: Venue, key: str, p: Params, now: int) -> Any:
    wanted = _symbols_param(v, p)
    rows = [
        {"symbol": s, "price": wire.f8(v.rules[s].tick_size * v.engine.last[s])}
        for s in (wanted or list(v.rules))
    ]
    return rows[0] if p.get("symbol") else rows


def _book_ticker(v: Venue, key: str, p: Params, now: int) -> Any:
    wanted = _symbols_param(v, p)
    rows = []
    for s in wanted or list(v.rules):
        r = v.rules[s]
        bid, ask = v.engine.bid_ask(s)
        rows.append(
            {
                "symbol": s,
                "bidPrice": wire.f8(r.tick_size * bid),
                "bidQty": "1.00000000",
                "askPrice": wire.f8(r.tick_size * ask),
                "askQty": "1.00000000",
            }
        )
    return rows[0] if p.get("symbol") else rows


def _depth(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    limit = min(int_param(p, "limit") or 100, 5000)
    bid, ask = v.engine.bid_ask(r.symbol)
    bids, asks = depth(r, bid, ask, limit)
    return {"lastUpdateId": v.hub.update_id, "bids": bids, "asks": asks}


def klines(v: Venue, p: Params, max_limit: int) -> Any:
    """GET klines (spot and futures share the layout)."""
    r = symbol_rules(v, p)
    interval = mandatory(p, "interval")
    if interval not in INTERVALS_MS:
        raise err(-1120, "Invalid interval.")
    limit = int_param(p, "limit") or 500
    if not 1 <= limit <= max_limit:
        raise err(-1130, "Invalid data sent for a parameter.")
    rows = v.candles[r.symbol].klines(interval, int_param(p, "startTime"), int_param(p, "endTime"), limit)
    return [wire.kline_row(row, INTERVALS_MS[interval], r) for row in rows]


def _klines(v: Venue, key: str, p: Params, now: int) -> Any:
    return klines(v, p, 1000)


def depth_weight(p: Params) -> int:
    """Weight of GET depth by limit."""
    limit = int(p.get("limit") or 100) if (p.get("limit") or "100").isdigit() else 100
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


def to_ticks(r: SymbolRules, d: Any, filt: str) -> int:
    """Exact ticks or steps, or the spot filter failure."""
    try:
        return r.price_to_ticks(d) if filt == "PRICE_FILTER" else r.qty_to_steps(d)
    except RuleError:
        raise err(-1013, f"Filter failure: {filt}") from None


def _new_order(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    side_raw = mandatory(p, "side")
    if side_raw not in ("BUY", "SELL"):
        raise err(-1117, "Invalid side.")
    type_ = mandatory(p, "type")
    if type_ not in _TYPES:
        raise err(-1116, "Invalid orderType.")
    tif = p.get("timeInForce", "")
    if type_ == "LIMIT":
        tif = mandatory(p, "timeInForce")
        if tif not in ("GTC", "IOC", "FOK"):
            raise err(-1115, "Invalid timeInForce.")
    elif tif:
        raise err(-1106, "Parameter 'timeInForce' sent when not required.")
    price = qty = 0
    quote_qty = None
    if type_ == "MARKET":
        if p.get("price"):
            raise err(-1106, "Parameter 'price' sent when not required.")
        if p.get("quantity"):
            qty = to_ticks(r, decimal_param(p, "quantity", SPOT), "LOT_SIZE")
        elif p.get("quoteOrderQty"):
            quote_qty = decimal_param(p, "quoteOrderQty", SPOT)
        else:
            raise err(-1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")
    else:
        qty = to_ticks(r, decimal_param(p, "quantity", SPOT), "LOT_SIZE")
        price = to_ticks(r, decimal_param(p, "price", SPOT), "PRICE_FILTER")
    cid = p.get("newClientOrderId") or secrets.token_hex(11)
    if not _CID_RE.match(cid):
        raise err(
            -1100,
            "Illegal characters found in parameter 'newClientOrderId'; legal range is "
            "'^[a-zA-Z0-9-_]{1,36}$'.",
        )
    resp = p.get("newOrderRespType") or ("FULL" if type_ in ("LIMIT", "MARKET") else "ACK")
    if resp not in ("ACK", "RESULT", "FULL"):
        raise err(-1100, "Illegal characters found in parameter 'newOrderRespType'.")
    order, events = v.engine.place(
        SPOT, key, r.symbol, Side(side_raw), type_, tif, price, qty, cid, now, quote_qty=quote_qty
    )
    v.hub.user_events(events, now)
    fills = [e.trade for e in events if isinstance(e, OrderEvent) and e.trade is not None]
    return wire.spot_new_order(order, r, resp, fills)


def _get_order(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    oid, cid = order_ref(p)
    return wire.spot_order(v.engine.find(SPOT, key, r.symbol, oid, cid), r)


def _cancel(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    oid, cid = order_ref(p)
    cancel_cid = p.get("newClientOrderId") or secrets.token_hex(11)
    order, events = v.engine.cancel(SPOT, key, r.symbol, oid, cid, now, cancel_cid)
    v.hub.user_events(events, now)
    return wire.spot_cancel(order, r, cancel_cid, now)


def _open_orders(v: Venue, key: str, p: Params, now: int) -> Any:
    sym = p.get("symbol") or None
    if sym is not None and sym not in v.rules:
        raise err(-1121, "Invalid symbol.")
    return [wire.spot_order(o, v.rules[o.symbol]) for o in v.engine.open_orders(SPOT, key, sym)]


def _cancel_all(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    orders, events = v.engine.cancel_all(SPOT, key, r.symbol, now)
    if not orders:
        raise err(-2011, "Unknown order sent.")
    v.hub.user_events(events, now)
    return [wire.spot_cancel(o, r, secrets.token_hex(11), now) for o in orders]


def _account(v: Venue, key: str, p: Params, now: int) -> Any:
    acct = v.engine.accounts[key]
    fees = v.engine.fees[SPOT]
    omit = p.get("omitZeroBalances") == "true"
    return {
        "makerCommission": int(fees.maker * 10000),
        "takerCommission": int(fees.taker * 10000),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": wire.f8(fees.maker),
            "taker": wire.f8(fees.taker),
            "buyer": "0.00000000",
            "seller": "0.00000000",
        },
        "canTrade": True,
        "canWithdraw": True,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": now,
        "accountType": "SPOT",
        "balances": [
            {"asset": a, "free": wire.f8(f), "locked": wire.f8(lk)}
            for a, (f, lk) in acct.spot.items()
            if not omit or f or lk
        ],
        "permissions": ["SPOT"],
        "uid": zlib.crc32(key.encode()),  # stable per account
    }


def _my_trades(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    oid, from_id = int_param(p, "orderId"), int_param(p, "fromId")
    start, end = int_param(p, "startTime"), int_param(p, "endTime")
    limit = min(int_param(p, "limit") or 500, 1000)
    return [
        wire.spot_trade(t, r)
        for t in select_trades(v.engine.accounts[key].trades, SPOT, r.symbol, oid, from_id, start, end, limit)
    ]


def select_trades(
    trades: list[Trade],
    venue: str,
    symbol: str,
    oid: int | None,
    from_id: int | None,
    start: int | None,
    end: int | None,
    limit: int,
) -> list[Trade]:
    """Filter an account's trade log as myTrades / userTrades do."""
    out = [
        t
        for t in trades
        if t.venue == venue
        and t.symbol == symbol
        and (oid is None or t.order_id == oid)
        and (from_id is None or t.trade_id >= from_id)
        and (start is None or t.time_ms >= start)
        and (end is None or t.time_ms <= end)
    ]
    return out[:limit] if from_id is not None else out[-limit:]


def _order_test(v: Venue, key: str, p: Params, now: int) -> Any:
    symbol_rules(v, p)
    return {}


def _open_orders_weight(p: Params) -> int:
    return 6 if p.get("symbol") else 80


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/api/v3/ping"): Route(SPOT, NONE, 1, ping),
    ("GET", "/api/v3/time"): Route(SPOT, NONE, 1, server_time),
    ("GET", "/api/v3/exchangeInfo"): Route(SPOT, NONE, 20, _exchange_info),
    ("GET", "/api/v3/ticker/price"): Route(SPOT, NONE, lambda p: 2 if p.get("symbol") else 4, _ticker_price),
    ("GET", "/api/v3/ticker/bookTicker"): Route(
        SPOT, NONE, lambda p: 2 if p.get("symbol") else 4, _book_ticker
    ),
    ("GET", "/api/v3/depth"): Route(SPOT, NONE, depth_weight, _depth),
    ("GET", "/api/v3/klines"): Route(SPOT, NONE, 2, _klines),
    ("POST", "/api/v3/order"): Route(SPOT, SIGNED, 1, _new_order, places_order=True),
    ("POST", "/api/v3/order/test"): Route(SPOT, SIGNED, 1, _order_test),
    ("GET", "/api/v3/order"): Route(SPOT, SIGNED, 4, _get_order),
    ("DELETE", "/api/v3/order"): Route(SPOT, SIGNED, 1, _cancel),
    ("GET", "/api/v3/openOrders"): Route(SPOT, SIGNED, _open_orders_weight, _open_orders),
    ("DELETE", "/api/v3/openOrders"): Route(SPOT, SIGNED, 1, _cancel_all),
    ("GET", "/api/v3/account"): Route(SPOT, SIGNED, 20, _account),
    ("GET", "/api/v3/myTrades"): Route(SPOT, SIGNED, lambda p: 5 if p.get("orderId") else 20, _my_trades),
}
