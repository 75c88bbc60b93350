"""Binance wire shapes: engine orders, trades and events as the exact JSON Binance sends.

Spot decimals are 8-place strings ("0.00100000"); futures decimals use the symbol's tick and step
precision ("100000.00", "0.001"). Ids and times are numbers.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from market_maker.core.model import Side
from market_maker.core.rules import SymbolRules
from market_maker.sim.engine import BalanceEvent, Order, OrderEvent, Trade

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def dumps(obj: Any) -> str:
    """Compact JSON text."""
    return _dumps(obj)


def f8(d: Decimal) -> str:
    """Spot style: 8 decimal places."""
    return f"{d:.8f}"


def fp(r: SymbolRules, ticks: int) -> str:
    """Futures price at the tick's precision."""
    return str(r.ticks_to_price(ticks)) if ticks else "0"


def fq(r: SymbolRules, steps: int) -> str:
    """Futures quantity at the step's precision."""
    return str(r.steps_to_qty(steps)) if steps else "0"


def fd(d: Decimal) -> str:
    """A plain decimal string without exponent or trailing zeros (futures money)."""
    s = f"{d:f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"


# --- spot --------------------------------------------------------------------------------------------


def _spot_state(o: Order, r: SymbolRules) -> dict[str, Any]:
    """The fields every spot order answer shares (RESULT, order queries, cancels)."""
    return {
        "price": f8(r.tick_size * o.price),
        "origQty": f8(r.step_size * o.qty),
        "executedQty": f8(r.step_size * o.filled),
        "origQuoteOrderQty": "0.00000000",
        "cummulativeQuoteQty": f8(o.quote),
        "status": o.status,
        "timeInForce": o.tif,
        "type": o.type,
        "side": o.side.value,
        "selfTradePreventionMode": "EXPIRE_MAKER",
    }


def spot_order(o: Order, r: SymbolRules) -> dict[str, Any]:
    """The order object of GET /api/v3/order and /openOrders."""
    return {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.client_id,
        **_spot_state(o, r),
        "stopPrice": "0.00000000",
        "icebergQty": "0.00000000",
        "time": o.time_ms,
        "updateTime": o.update_ms,
        "isWorking": True,
        "workingTime": o.time_ms,
    }


def spot_new_order(o: Order, r: SymbolRules, resp_type: str, fills: list[Trade]) -> dict[str, Any]:
    """POST /api/v3/order's answer in ACK, RESULT or FULL form."""
    out: dict[str, Any] = {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.client_id,
        "transactTime": o.time_ms,
    }
    if resp_type == "ACK":
        return out
    out.update(_spot_state(o, r), workingTime=o.time_ms)
    if resp_type == "FULL":
        out["fills"] = [
            {
                "price": f8(r.tick_size * t.price),
                "qty": f8(r.step_size * t.qty),
                "commission": f8(t.fee),
                "commissionAsset": t.fee_asset,
                "tradeId": t.trade_id,
            }
            for t in fills
        ]
    return out


def spot_cancel(o: Order, r: SymbolRules, cancel_cid: str, now_ms: int) -> dict[str, Any]:
    """DELETE /api/v3/order's answer: clientOrderId is the cancel's id, origClientOrderId the order's."""
    return {
        "symbol": o.symbol,
        "origClientOrderId": o.client_id,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": cancel_cid,
        "transactTime": now_ms,
        **_spot_state(o, r),
    }


def spot_trade(t: Trade, r: SymbolRules) -> dict[str, Any]:
    """One row of GET /api/v3/myTrades."""
    return {
        "symbol": t.symbol,
        "id": t.trade_id,
        "orderId": t.order_id,
        "orderListId": -1,
        "price": f8(r.tick_size * t.price),
        "qty": f8(r.step_size * t.qty),
        "quoteQty": f8(t.quote),
        "commission": f8(t.fee),
        "commissionAsset": t.fee_asset,
        "time": t.time_ms,
        "isBuyer": t.side is Side.BUY,
        "isMaker": t.is_maker,
        "isBestMatch": True,
    }


def execution_report(ev: OrderEvent, r: SymbolRules, event_ms: int) -> dict[str, Any]:
    """The spot user-data ``executionReport`` for one order event."""
    o, t = ev.order, ev.trade
    cancel = ev.exec_type == "CANCELED"
    return {
        "e": "executionReport",
        "E": event_ms,
        "s": o.symbol,
        "c": (ev.cancel_client_id or o.client_id) if cancel else o.client_id,
        "S": o.side.value,
        "o": o.type,
        "f": o.tif,
        "q": f8(r.step_size * o.qty),
        "p": f8(r.tick_size * o.price),
        "P": "0.00000000",
        "F": "0.00000000",
        "g": -1,
        "C": o.client_id if cancel else "",
        "x": ev.exec_type,
        "X": ev.status,
        "r": "NONE",
        "i": o.order_id,
        "l": f8(r.step_size * t.qty) if t else "0.00000000",
        "z": f8(r.step_size * ev.filled),
        "L": f8(r.tick_size * t.price) if t else "0.00000000",
        "n": f8(t.fee) if t else "0",
        "N": t.fee_asset if t else None,
        "T": ev.time_ms,
        "t": t.trade_id if t else -1,
        "I": ev.time_ms,
        "w": ev.status in ("NEW", "PARTIALLY_FILLED") and o.working,
        "m": t.is_maker if t else False,
        "M": False,
        "O": o.time_ms,
        "Z": f8(ev.quote),
        "Y": f8(t.quote) if t else "0.00000000",
        "Q": "0.00000000",
        "W": o.time_ms,
        "V": "EXPIRE_MAKER",
        **({"eR": expiry_reason(o)} if ev.exec_type == "EXPIRED" else {}),
    }


def expiry_reason(o: Order) -> str:
    """Why a spot order expired (``eR``, Binance's ``expiryReason`` since 2026-03): an IOC or FOK that
    found nothing to fill, else the exchange's own cancel."""
    return {"IOC": "UNFILLED_IOC_QUANTITY_EXPIRED", "FOK": "UNFILLED_FOK_ORDER_EXPIRED"}.get(
        o.tif, "EXCHANGE_CANCELED"
    )


def account_position(ev: BalanceEvent, event_ms: int) -> dict[str, Any]:
    """The spot user-data ``outboundAccountPosition`` for one balance event."""
    return {
        "e": "outboundAccountPosition",
        "E": event_ms,
        "u": ev.time_ms,
        "B": [{"a": a, "f": f8(free), "l": f8(locked)} for a, free, locked in ev.assets],
    }


# --- futures -----------------------------------------------------------------------------------------


def futures_order(o: Order, r: SymbolRules) -> dict[str, Any]:
    """The USD-M order object (POST/GET/DELETE /fapi/v1/order, openOrders)."""
    avg = o.quote / (r.step_size * o.filled) if o.filled else Decimal(0)
    return {
        "orderId": o.order_id,
        "symbol": o.symbol,
        "status": o.status,
        "clientOrderId": o.client_id,
        "price": fp(r, o.price),
        "avgPrice": fd(avg.quantize(Decimal("0.00001"))) if o.filled else "0",
        "origQty": fq(r, o.qty),
        "executedQty": fq(r, o.filled),
        "cumQty": fq(r, o.filled),
        "cumQuote": fd(o.quote),
        "timeInForce": o.tif,
        "type": o.type,
        "reduceOnly": o.reduce_only,
        "closePosition": False,
        "side": o.side.value,
        "positionSide": "BOTH",
        "stopPrice": "0",
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": o.type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "goodTillDate": 0,
        "time": o.time_ms,
        "updateTime": o.update_ms,
    }


def futures_trade(t: Trade, r: SymbolRules) -> dict[str, Any]:
    """One row of GET /fapi/v1/userTrades."""
    return {
        "buyer": t.side is Side.BUY,
        "commission": fd(t.fee),
        "commissionAsset": t.fee_asset,
        "id": t.trade_id,
        "maker": t.is_maker,
        "orderId": t.order_id,
        "price": fp(r, t.price),
        "qty": fq(r, t.qty),
        "quoteQty": fd(t.quote),
        "realizedPnl": fd(t.realized),
        "side": t.side.value,
        "positionSide": "BOTH",
        "symbol": t.symbol,
        "time": t.time_ms,
    }


def order_trade_update(ev: OrderEvent, r: SymbolRules, event_ms: int) -> dict[str, Any]:
    """The futures ``ORDER_TRADE_UPDATE`` for one order event."""
    o, t = ev.order, ev.trade
    avg = ev.quote / (r.step_size * ev.filled) if ev.filled else Decimal(0)
    body: dict[str, Any] = {
        "s": o.symbol,
        "c": o.client_id,
        "S": o.side.value,
        "o": o.type,
        "f": o.tif,
        "q": fq(r, o.qty),
        "p": fp(r, o.price),
        "ap": fd(avg.quantize(Decimal("0.00001"))) if ev.filled else "0",
        "sp": "0",
        "x": ev.exec_type,
        "X": ev.status,
        "i": o.order_id,
        "l": fq(r, t.qty) if t else "0",
        "z": fq(r, ev.filled),
        "L": fp(r, t.price) if t else "0",
        "T": ev.time_ms,
        "t": t.trade_id if t else 0,
        "b": "0",
        "a": "0",
        "m": t.is_maker if t else False,
        "R": o.reduce_only,
        "wt": "CONTRACT_PRICE",
        "ot": o.type,
        "ps": "BOTH",
        "cp": False,
        "rp": fd(t.realized) if t else "0",
        "pP": False,
        "si": 0,
        "ss": 0,
        "V": "EXPIRE_MAKER",
        "pm": "NONE",
        "gtd": 0,
    }
    if t:
        body["N"] = t.fee_asset
        body["n"] = fd(t.fee)
    return {"e": "ORDER_TRADE_UPDATE", "E": event_ms, "T": ev.time_ms, "o": body}


def account_update(ev: BalanceEvent, r: SymbolRules, event_ms: int) -> dict[str, Any]:
    """The futures ``ACCOUNT_UPDATE`` for one balance event."""
    return {
        "e": "ACCOUNT_UPDATE",
        "E": event_ms,
        "T": ev.time_ms,
        "a": {
            "m": ev.reason,
            "B": [{"a": a, "wb": fd(w), "cw": fd(c), "bc": "0"} for a, w, c in ev.assets],
            "P": [
                {
                    "s": p.symbol,
                    "pa": fq(r, p.amount) if p.amount >= 0 else "-" + fq(r, -p.amount),
                    "ep": fd(p.entry),
                    "bep": fd(p.entry),
                    "cr": fd(p.realized),
                    "up": fd(p.unrealized),
                    "mt": "isolated" if p.margin_type == "ISOLATED" else "cross",
                    "iw": "0",
                    "ps": "BOTH",
                }
                for p in ev.positions
            ],
        },
    }


def kline_row(row: list[int], interval_ms: int, r: SymbolRules, futures: bool = False) -> list[Any]:
    """A REST kline array (12 fields) from a candle row: spot decimals with 8 places, USD-M at the
    symbol's tick and step."""
    quote = r.tick_size * r.step_size * row[6]
    if futures:
        o, h, lo, c = (fp(r, t) for t in row[1:5])
        volume, money = fq(r, row[5]), fd
    else:
        o, h, lo, c = (f8(r.tick_size * t) for t in row[1:5])
        volume, money = f8(r.step_size * row[5]), f8
    half = r.step_size * row[5] / 2
    return [
        row[0],
        o,
        h,
        lo,
        c,
        volume,
        row[0] + interval_ms - 1,
        money(quote),
        row[7],
        money(half),
        money(quote / 2),
        "0",
    ]
