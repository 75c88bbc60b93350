"""WebSocket payloads -> connector events (reference §A.6, §B.6, §C.2-C.4).

User data: spot ``executionReport`` and futures ``ORDER_TRADE_UPDATE`` become :class:`OrderUpdate`
(with a core :class:`Fill` on trades); spot ``outboundAccountPosition`` and futures ``ACCOUNT_UPDATE``
become :class:`BalanceUpdate` / :class:`PositionUpdate`. Events of other symbols are dropped.
Market data: ``bookTicker``, ``aggTrade``/``trade`` become :class:`Quote`, ``kline`` a :class:`CandleUpdate`.
Wrappers (``{"stream","data"}`` and the WS API's ``{"subscriptionId","event"}``) are removed first.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from market_maker.core.model import Candle, Fill, OrderSnapshot
from market_maker.core.rules import SymbolRules
from market_maker.exchange.errors import ExchangeError
from market_maker.exchange.parse import dec, field, order_status, side, to_steps, to_ticks
from market_maker.exchange.types import (
    Balance,
    BalanceUpdate,
    CandleUpdate,
    MarketEvent,
    OrderUpdate,
    Position,
    PositionUpdate,
    Quote,
    UserEvent,
)

# control events the stream layer acts on itself
CONTROL_EVENTS = frozenset({"serverShutdown", "listenKeyExpired", "eventStreamTerminated"})


def unwrap(msg: Any) -> Any:
    """The payload inside a combined-stream or WS-API subscription wrapper (or ``msg`` itself)."""
    if isinstance(msg, dict):
        if "data" in msg and "stream" in msg:
            return msg["data"]
        if "event" in msg and "subscriptionId" in msg:
            return msg["event"]
    return msg


def event_type(payload: Any) -> str:
    """The ``e`` field ("" when absent, e.g. spot bookTicker or a request's answer)."""
    return str(payload.get("e", "")) if isinstance(payload, dict) else ""


# --- user data ---------------------------------------------------------------------------------------


def parse_user_event(payload: dict[str, Any], rules: SymbolRules) -> list[UserEvent]:
    """Normalize one (unwrapped) user-data event; [] for events the bot does not use."""
    kind = event_type(payload)
    if kind == "executionReport":
        return [_execution_report(payload, rules)] if payload.get("s") == rules.symbol else []
    if kind == "ORDER_TRADE_UPDATE":
        o = field(payload, "o", kind)
        return [_futures_order_update(payload, o, rules)] if o.get("s") == rules.symbol else []
    if kind == "outboundAccountPosition":
        balances = tuple(
            Balance(str(b["a"]), dec(b.get("f", "0"), kind), dec(b.get("l", "0"), kind))
            for b in payload.get("B", [])
        )
        return [BalanceUpdate(balances, int(payload.get("E", 0)))]
    if kind == "ACCOUNT_UPDATE":
        return _account_update(payload, rules)
    return []


def _execution_report(p: dict[str, Any], rules: SymbolRules) -> OrderUpdate:
    what = "executionReport"
    execution = str(field(p, "x", what))
    # On a cancel, "c" is the cancel request's id and "C" the order's own (reference §C.4).
    own_id = p.get("C") if execution == "CANCELED" and p.get("C") else field(p, "c", what)
    order, fill = _order_and_fill(p, str(own_id), execution, rules, what)
    return OrderUpdate(rules.symbol, execution, order, fill, int(p.get("E", 0)))


def _futures_order_update(p: dict[str, Any], o: dict[str, Any], rules: SymbolRules) -> OrderUpdate:
    what = "ORDER_TRADE_UPDATE"
    execution = str(field(o, "x", what))
    order, fill = _order_and_fill(o, str(field(o, "c", what)), execution, rules, what)
    return OrderUpdate(
        rules.symbol,
        execution,
        order,
        fill,
        int(p.get("E", 0)),
        reduce_only=bool(o.get("R", False)),
        realized_pnl=dec(o.get("rp", "0"), what),
    )


def _order_and_fill(
    o: dict[str, Any], client_id: str, execution: str, rules: SymbolRules, what: str
) -> tuple[OrderSnapshot, Fill | None]:
    """Spot executionReport and the futures ``o`` object share these one-letter fields."""
    order = OrderSnapshot(
        client_id=client_id,
        order_id=int(field(o, "i", what)),
        side=side(field(o, "S", what)),
        price=to_ticks(rules, o.get("p", "0")),
        orig_qty=to_steps(rules, o.get("q", "0")),
        executed_qty=to_steps(rules, o.get("z", "0")),
        status=order_status(field(o, "X", what)),
        time_ms=int(o.get("T", 0)),
    )
    if execution != "TRADE":
        return order, None
    fill = Fill(
        trade_id=int(field(o, "t", what)),
        client_id=client_id,
        side=order.side,
        price=to_ticks(rules, field(o, "L", what)),
        qty=to_steps(rules, field(o, "l", what)),
        cum_qty=order.executed_qty,
        fee=dec(o.get("n") or "0", what),  # futures omit "n" when there is no commission
        fee_asset=str(o.get("N") or ""),
        time_ms=int(o.get("T", 0)),
        is_maker=bool(o.get("m", False)),
        order_id=order.order_id,
    )
    return order, fill


def _account_update(p: dict[str, Any], rules: SymbolRules) -> list[UserEvent]:
    what = "ACCOUNT_UPDATE"
    a = field(p, "a", what)
    when = int(p.get("E", 0))
    out: list[UserEvent] = []
    balances = []
    for b in a.get("B", []):
        wallet = dec(b.get("wb", "0"), what)
        cross = dec(b.get("cw", wallet), what)
        balances.append(Balance(str(b["a"]), cross, wallet - cross))
    if balances:
        out.append(BalanceUpdate(tuple(balances), when, str(a.get("m", ""))))
    mine = [pos for pos in a.get("P", []) if pos.get("s") == rules.symbol]
    if mine:
        qty = sum((dec(pos.get("pa", "0"), what) for pos in mine), Decimal(0))
        main = next((pos for pos in mine if dec(pos.get("pa", "0"), what) != 0), mine[0])
        position = Position(
            symbol=rules.symbol,
            qty=qty,
            entry_price=dec(main.get("ep", "0"), what),
            unrealized_pnl=sum((dec(pos.get("up", "0"), what) for pos in mine), Decimal(0)),
            margin_type=str(main.get("mt", "")).lower(),
        )
        out.append(PositionUpdate(position, when))
    return out


# --- market data ---------------------------------------------------------------------------------------


def _market_price(rules: SymbolRules, value: Any, what: str) -> int:
    """A market price in ticks; ExchangeError for one no trade could happen at.

    One corrupt frame must not become the bot's price: a negative bid, or one above the symbol's
    PRICE_FILTER maxPrice, would cancel every working buy and send the strategy to impossible levels.
    (A zero price is Binance's empty side of the book and is left to the caller.)
    """
    ticks = to_ticks(rules, value, what)
    if ticks < 0 or (rules.max_price > 0 and rules.tick_size * ticks > rules.max_price):
        raise ExchangeError(f"impossible {what} {value!r} for {rules.symbol}: frame dropped")
    return ticks


def parse_market_event(payload: dict[str, Any], rules: SymbolRules) -> MarketEvent | None:
    """Normalize one (unwrapped) market-stream message; None for anything else."""
    if not isinstance(payload, dict) or payload.get("s") not in (rules.symbol, None):
        return None
    kind = event_type(payload)
    if kind == "bookTicker" or (not kind and "b" in payload and "a" in payload and "u" in payload):
        # spot bookTicker has no "e" and no "E" (reference §C.2); futures has both (§C.3)
        return Quote(
            rules.symbol,
            _market_price(rules, payload["b"], "bid"),
            _market_price(rules, payload["a"], "ask"),
            int(payload.get("E", 0)),
        )
    if kind in ("aggTrade", "trade"):
        price = _market_price(rules, field(payload, "p", kind), f"{kind} price")
        return Quote(rules.symbol, price, price, int(payload.get("T") or payload.get("E") or 0))
    if kind == "kline":
        k = field(payload, "k", kind)
        candle = Candle(
            open_time_ms=int(field(k, "t", kind)),
            open=to_ticks(rules, field(k, "o", kind)),
            high=to_ticks(rules, field(k, "h", kind)),
            low=to_ticks(rules, field(k, "l", kind)),
            close=to_ticks(rules, field(k, "c", kind)),
            volume=to_steps(rules, k.get("v", "0")),
            close_time_ms=int(k.get("T", 0)),
            closed=bool(k.get("x", False)),
        )
        return CandleUpdate(rules.symbol, str(k.get("i", "")), candle)
    return None
