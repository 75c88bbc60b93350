"""USD-M futures REST endpoints under /fapi (one-way position mode only)."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal
from typing import Any

from market_maker.core.model import Side
from market_maker.core.rules import RuleError, SymbolRules
from market_maker.sim import wire
from market_maker.sim.engine import USDM, BinanceError, Position
from market_maker.sim.hub import depth
from market_maker.sim.rest import (
    KEY,
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
from market_maker.sim.rest_spot import klines, select_trades
from market_maker.sim.symbol_status import status_of
from market_maker.sim.venue import Venue, info_json

_CID_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
_TIFS = ("GTC", "IOC", "FOK", "GTX")
_OK = {"code": 200, "msg": "success"}


def exchange_info_body(v: Venue) -> dict[str, Any]:
    """The static part of GET /fapi/v1/exchangeInfo."""
    cfg = v.cfg
    symbols = []
    for spec in cfg.symbols:
        r = v.rules[spec.symbol]
        symbols.append(
            {
                "symbol": r.symbol,
                "pair": r.symbol,
                "contractType": "PERPETUAL",
                "deliveryDate": 4133404800000,
                "onboardDate": 1569398400000,
                "status": status_of(v.symbol_status, r.symbol),
                "maintMarginPercent": "2.5000",
                "requiredMarginPercent": "5.0000",
                "baseAsset": r.base_asset,
                "quoteAsset": r.quote_asset,
                "marginAsset": r.quote_asset,
                "pricePrecision": _places(r.tick_size),
                "quantityPrecision": _places(r.step_size),
                "baseAssetPrecision": 8,
                "quotePrecision": 8,
                "underlyingType": "COIN",
                "underlyingSubType": [],
                "settlePlan": 0,
                "triggerProtect": "0.0500",
                "liquidationFee": "0.012500",
                "marketTakeBound": "0.05",
                "orderTypes": ["LIMIT", "MARKET"],
                "timeInForce": list(_TIFS),
                "filters": [
                    {
                        "filterType": "PRICE_FILTER",
                        "minPrice": wire.fd(r.min_price),
                        "maxPrice": wire.fd(r.max_price),
                        "tickSize": wire.fd(r.tick_size),
                    },
                    {
                        "filterType": "LOT_SIZE",
                        "minQty": wire.fd(r.min_qty),
                        "maxQty": wire.fd(r.max_qty),
                        "stepSize": wire.fd(r.step_size),
                    },
                    {
                        "filterType": "MARKET_LOT_SIZE",
                        "minQty": wire.fd(r.min_qty),
                        "maxQty": wire.fd(r.max_qty),
                        "stepSize": wire.fd(r.step_size),
                    },
                    {"filterType": "MAX_NUM_ORDERS", "limit": cfg.max_open_orders},
                    {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
                    {"filterType": "MIN_NOTIONAL", "notional": wire.fd(r.min_notional)},
                    {
                        "filterType": "PERCENT_PRICE",
                        "multiplierUp": "1.0500",
                        "multiplierDown": "0.9500",
                        "multiplierDecimal": "4",
                    },
                ],
            }
        )
    quotes = sorted({r.quote_asset for r in v.rules.values()})
    return {
        "timezone": "UTC",
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": cfg.futures_weight_limit,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "SECOND",
                "intervalNum": 10,
                "limit": cfg.futures_order_limit_10s,
            },
        ],
        "exchangeFilters": [],
        "assets": [{"asset": a, "marginAvailable": True, "autoAssetExchange": "-10000"} for a in quotes],
        "symbols": symbols,
    }


def _places(d: Decimal) -> int:
    exp = d.normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def _exchange_info(v: Venue, key: str, p: Params, now: int) -> Any:
    if not v.futures_info:
        v.futures_info = info_json(exchange_info_body(v))
    return Raw(f'{{"serverTime":{now},' + v.futures_info[1:])


def _ticker_price(v: Venue, key: str, p: Params, now: int) -> Any:
    sym = p.get("symbol")
    if sym and sym not in v.rules:
        raise err(-1121, "Invalid symbol.")
    rows = [
        {"symbol": s, "price": wire.fp(v.rules[s], v.engine.last[s]), "time": now}
        for s in ([sym] if sym else list(v.rules))
    ]
    return rows[0] if sym else rows


def _book_ticker(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    bid, ask = v.engine.bid_ask(r.symbol)
    return {
        "symbol": r.symbol,
        "bidPrice": wire.fp(r, bid),
        "bidQty": "1",
        "askPrice": wire.fp(r, ask),
        "askQty": "1",
        "time": now,
        "lastUpdateId": v.hub.update_id,
    }


def _depth(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    bid, ask = v.engine.bid_ask(r.symbol)
    bids, asks = depth(r, bid, ask, min(int_param(p, "limit") or 500, 1000))
    return {"lastUpdateId": v.hub.update_id, "E": now, "T": now, "bids": bids, "asks": asks}


def _premium_index(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    px = wire.fp(r, v.engine.last[r.symbol])
    return {
        "symbol": r.symbol,
        "markPrice": px,
        "indexPrice": px,
        "estimatedSettlePrice": px,
        "lastFundingRate": "0.00000000",
        "interestRate": "0.00000000",
        "nextFundingTime": 0,
        "time": now,
    }


def _steps(r: SymbolRules, p: Params, name: str) -> int:
    d = decimal_param(p, name, USDM)
    try:
        return r.price_to_ticks(d) if name == "price" else r.qty_to_steps(d)
    except RuleError:
        if name == "price":
            raise err(-4014, "Price not increased by tick size.") from None
        raise err(-4023, "Qty not increased by step size.") from None


def _new_order(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    side_raw = mandatory(p, "side")
    if side_raw not in ("BUY", "SELL"):
        raise err(-1117, "Invalid side.")
    type_ = mandatory(p, "type")
    if type_ not in ("LIMIT", "MARKET"):
        raise err(-1116, "Invalid orderType.")
    ps = p.get("positionSide", "BOTH")
    if ps != "BOTH":
        raise err(-4061, "Order's position side does not match user's setting.")
    reduce_raw = p.get("reduceOnly", "false").lower()
    if reduce_raw not in ("true", "false"):
        raise err(-1100, "Illegal characters found in parameter 'reduceOnly'; legal range is 'true, false'.")
    tif, price = "GTC", 0
    if type_ == "LIMIT":
        tif = mandatory(p, "timeInForce")
        if tif not in _TIFS:
            raise err(-1115, "Invalid timeInForce.")
        price = _steps(r, p, "price")
    qty = _steps(r, p, "quantity")
    cid = p.get("newClientOrderId") or secrets.token_hex(11)
    if not _CID_RE.match(cid):
        raise err(-4015, "Client order id is not valid.")
    order, events = v.engine.place(
        USDM,
        key,
        r.symbol,
        Side(side_raw),
        type_,
        tif,
        price,
        qty,
        cid,
        now,
        reduce_only=reduce_raw == "true",
    )
    v.hub.user_events(events, now)
    return wire.futures_order(order, r)


def _get_order(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    oid, cid = order_ref(p)
    return wire.futures_order(v.engine.find(USDM, key, r.symbol, oid, cid), r)


def _get_open_order(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    oid, cid = order_ref(p)
    o = v.engine.find(USDM, key, r.symbol, oid, cid)
    if not o.is_open:
        raise err(-2013, "Order does not exist.")
    return wire.futures_order(o, r)


def _cancel(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    oid, cid = order_ref(p)
    order, events = v.engine.cancel(USDM, key, r.symbol, oid, cid, now)
    v.hub.user_events(events, now)
    return wire.futures_order(order, r)


def _cancel_all(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    _, events = v.engine.cancel_all(USDM, key, r.symbol, now)
    v.hub.user_events(events, now)
    return {"code": 200, "msg": "The operation of cancel all open order is done."}


def _open_orders(v: Venue, key: str, p: Params, now: int) -> Any:
    sym = p.get("symbol") or None
    if sym is not None and sym not in v.rules:
        raise err(-1121, "Invalid symbol.")
    return [wire.futures_order(o, v.rules[o.symbol]) for o in v.engine.open_orders(USDM, key, sym)]


def _user_trades(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    limit = min(int_param(p, "limit") or 500, 1000)
    trades = select_trades(
        v.engine.accounts[key].trades,
        USDM,
        r.symbol,
        int_param(p, "orderId"),
        int_param(p, "fromId"),
        int_param(p, "startTime"),
        int_param(p, "endTime"),
        limit,
    )
    return [wire.futures_trade(t, r) for t in trades]


def _leverage(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    lev = int_param(p, "leverage")
    if lev is None:
        raise err(-1102, "Mandatory parameter 'leverage' was not sent, was empty/null, or malformed.")
    v.engine.set_leverage(key, r.symbol, lev)
    return {"leverage": lev, "maxNotionalValue": "1000000", "symbol": r.symbol}


def _margin_type(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    v.engine.set_margin_type(key, r.symbol, mandatory(p, "marginType").upper())
    return _OK


def _dual_get(v: Venue, key: str, p: Params, now: int) -> Any:
    return {"dualSidePosition": v.dual_side.get(key, False)}


def _dual_post(v: Venue, key: str, p: Params, now: int) -> Any:
    want = mandatory(p, "dualSidePosition").lower()
    if want not in ("true", "false"):
        raise err(-1100, "Illegal characters found in parameter 'dualSidePosition'.")
    if (want == "true") == v.dual_side.get(key, False):
        raise err(-4059, "No need to change position side.")
    # the simulator implements one-way mode only; say so rather than pretend to hedge
    raise BinanceError(-4068, "The simulator supports one-way position mode only.")


def _position_rows(v: Venue, key: str, sym: str | None) -> list[dict[str, Any]]:
    acct = v.engine.accounts[key]
    rows = []
    for s in [sym] if sym else list(v.rules):
        r = v.rules[s]
        pos = acct.positions.get(s, Position())
        lev = v.engine.leverage_of(key, s)
        mark = r.tick_size * v.engine.last[s]
        notional = mark * r.step_size * pos.amount
        rows.append(
            {
                "symbol": s,
                "positionAmt": wire.fd(r.step_size * pos.amount),
                "entryPrice": wire.fd(pos.entry),
                "breakEvenPrice": wire.fd(pos.entry),
                "markPrice": wire.fd(mark),
                "unRealizedProfit": wire.fd(v.engine.unrealized(pos, s)),
                "liquidationPrice": "0",
                "leverage": str(lev),
                "maxNotionalValue": "1000000",
                "marginType": "isolated" if acct.margin_type.get(s) == "ISOLATED" else "cross",
                "isolatedMargin": "0",
                "isAutoAddMargin": "false",
                "positionSide": "BOTH",
                "notional": wire.fd(notional),
                "isolatedWallet": "0",
                "updateTime": 0,
                "initialMargin": wire.fd(abs(notional) / lev),
                "marginAsset": r.quote_asset,
            }
        )
    return rows


def _position_risk(v: Venue, key: str, p: Params, now: int) -> Any:
    sym = p.get("symbol") or None
    if sym is not None and sym not in v.rules:
        raise err(-1121, "Invalid symbol.")
    return _position_rows(v, key, sym)


def _balance(v: Venue, key: str, p: Params, now: int) -> Any:
    acct = v.engine.accounts[key]
    out = []
    for a, wallet in acct.wallet.items():
        avail = v.engine.available_margin(key, a)
        unreal = sum(
            (v.engine.unrealized(pos, s) for s, pos in acct.positions.items() if v.rules[s].quote_asset == a),
            Decimal(0),
        )
        out.append(
            {
                "accountAlias": "SgsR",
                "asset": a,
                "balance": wire.fd(wallet),
                "crossWalletBalance": wire.fd(wallet),
                "crossUnPnl": wire.fd(unreal),
                "availableBalance": wire.fd(avail),
                "maxWithdrawAmount": wire.fd(avail),
                "marginAvailable": True,
                "updateTime": now,
            }
        )
    return out


def _account(v: Venue, key: str, p: Params, now: int) -> Any:
    acct = v.engine.accounts[key]
    rows = _position_rows(v, key, None)
    unreal = sum((Decimal(r["unRealizedProfit"]) for r in rows), Decimal(0))
    wallet = sum(acct.wallet.values(), Decimal(0))
    avail = sum((v.engine.available_margin(key, a) for a in acct.wallet), Decimal(0))
    return {
        "totalWalletBalance": wire.fd(wallet),
        "totalUnrealizedProfit": wire.fd(unreal),
        "totalMarginBalance": wire.fd(wallet + unreal),
        "availableBalance": wire.fd(avail),
        "maxWithdrawAmount": wire.fd(avail),
        "canTrade": True,
        "updateTime": now,
        "assets": [
            {
                "asset": a,
                "walletBalance": wire.fd(w),
                "marginBalance": wire.fd(w),
                "availableBalance": wire.fd(v.engine.available_margin(key, a)),
                "updateTime": now,
            }
            for a, w in acct.wallet.items()
        ],
        "positions": rows,
    }


def _listen_key_new(v: Venue, key: str, p: Params, now: int) -> Any:
    return {"listenKey": v.hub.listen_key_for(key, now, v.cfg.listen_key_ttl_s * 1000)}


def _listen_key_keepalive(v: Venue, key: str, p: Params, now: int) -> Any:
    for lk in v.hub.listen_keys.values():
        if lk.account == key and lk.expires_ms > now:
            lk.expires_ms = now + v.cfg.listen_key_ttl_s * 1000
            return {"listenKey": lk.key}
    raise err(
        -1125, "This listenKey does not exist. Please use POST /fapi/v1/listenKey to recreate listenKey"
    )


def _listen_key_close(v: Venue, key: str, p: Params, now: int) -> Any:
    for k, lk in list(v.hub.listen_keys.items()):
        if lk.account == key:
            del v.hub.listen_keys[k]
    return {}


def _klines(v: Venue, key: str, p: Params, now: int) -> Any:
    return klines(v, p, 1500)


def _klines_weight(p: Params) -> int:
    limit = int(p["limit"]) if (p.get("limit") or "").isdigit() else 500
    return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/fapi/v1/ping"): Route(USDM, NONE, 1, ping),
    ("GET", "/fapi/v1/time"): Route(USDM, NONE, 1, server_time),
    ("GET", "/fapi/v1/exchangeInfo"): Route(USDM, NONE, 1, _exchange_info),
    ("GET", "/fapi/v1/ticker/price"): Route(USDM, NONE, lambda p: 1 if p.get("symbol") else 2, _ticker_price),
    ("GET", "/fapi/v2/ticker/price"): Route(USDM, NONE, lambda p: 1 if p.get("symbol") else 2, _ticker_price),
    ("GET", "/fapi/v1/ticker/bookTicker"): Route(USDM, NONE, 2, _book_ticker),
    ("GET", "/fapi/v1/depth"): Route(USDM, NONE, 5, _depth),
    ("GET", "/fapi/v1/premiumIndex"): Route(USDM, NONE, 1, _premium_index),
    ("GET", "/fapi/v1/klines"): Route(USDM, NONE, _klines_weight, _klines),
    ("POST", "/fapi/v1/order"): Route(USDM, SIGNED, 0, _new_order, places_order=True),
    ("GET", "/fapi/v1/order"): Route(USDM, SIGNED, 1, _get_order),
    ("DELETE", "/fapi/v1/order"): Route(USDM, SIGNED, 1, _cancel),
    ("DELETE", "/fapi/v1/allOpenOrders"): Route(USDM, SIGNED, 1, _cancel_all),
    ("GET", "/fapi/v1/openOrders"): Route(USDM, SIGNED, lambda p: 1 if p.get("symbol") else 40, _open_orders),
    ("GET", "/fapi/v1/openOrder"): Route(USDM, SIGNED, 1, _get_open_order),
    ("GET", "/fapi/v1/userTrades"): Route(USDM, SIGNED, 5, _user_trades),
    ("POST", "/fapi/v1/leverage"): Route(USDM, SIGNED, 1, _leverage),
    ("POST", "/fapi/v1/marginType"): Route(USDM, SIGNED, 1, _margin_type),
    ("GET", "/fapi/v1/positionSide/dual"): Route(USDM, SIGNED, 30, _dual_get),
    ("POST", "/fapi/v1/positionSide/dual"): Route(USDM, SIGNED, 1, _dual_post),
    ("GET", "/fapi/v2/positionRisk"): Route(USDM, SIGNED, 5, _position_risk),
    ("GET", "/fapi/v3/positionRisk"): Route(USDM, SIGNED, 5, _position_risk),
    ("GET", "/fapi/v2/balance"): Route(USDM, SIGNED, 5, _balance),
    ("GET", "/fapi/v3/balance"): Route(USDM, SIGNED, 5, _balance),
    ("GET", "/fapi/v2/account"): Route(USDM, SIGNED, 5, _account),
    ("GET", "/fapi/v3/account"): Route(USDM, SIGNED, 5, _account),
    ("POST", "/fapi/v1/listenKey"): Route(USDM, KEY, 1, _listen_key_new),
    ("PUT", "/fapi/v1/listenKey"): Route(USDM, KEY, 1, _listen_key_keepalive),
    ("DELETE", "/fapi/v1/listenKey"): Route(USDM, KEY, 1, _listen_key_close),
}
