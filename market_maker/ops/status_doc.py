"""The ``/status`` JSON document: the bot fills a :class:`StatusInput`, :func:`status_document` shapes it.

The document's schema is docs/status.schema.json (described in docs/operations.md); bump
``SCHEMA_VERSION`` on any incompatible change. Money and quantities are exact decimal *strings*;
durations are float seconds; times are Unix milliseconds. Unknown values are ``null``, never 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from market_maker.core.model import SlotState
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import Slot, SlotBook

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class LadderRow:
    """One grid level in the ladder: a working order, or a position held without an order (FILLED)."""

    level: Decimal  # the slot's level price (its buy price)
    state: str  # SlotState name
    side: str | None  # BUY/SELL of the working order; None for FILLED without an order
    price: Decimal | None  # the working order's price
    qty: Decimal  # the working order's quantity, or the held quantity for FILLED
    filled: Decimal  # filled so far of the working order
    age_s: float | None = None  # seconds since the order was sent, when the bot knows


@dataclass(frozen=True, slots=True)
class FillRow:
    """One recent trade of our orders, as the dashboard lists it."""

    time_ms: int  # when the bot stored it
    side: str
    price: Decimal
    qty: Decimal
    trade_id: int


@dataclass(frozen=True)
class StatusInput:
    """Everything ``/status`` reports; the bot assembles it from its actors' last known state."""

    bot_id: str
    symbol: str
    market: str
    venue: str
    time_ms: int
    price: Decimal | None = None
    center: Decimal | None = None
    interval: Decimal | None = None
    atr: Decimal | None = None
    slots: Mapping[str, int] = field(default_factory=dict)
    ladder: Sequence[LadderRow] = ()
    position: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)
    unrealized_pnl: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    round_trips: int = 0
    equity: Decimal | None = None
    equity_peak: Decimal | None = None
    drawdown_pct: Decimal | None = None
    paused: bool = False
    risk_triggered: bool = False
    risk_reasons: Sequence[str] = ()
    breaker_tripped: bool = False
    breaker_reason: str = ""
    breaker_until_ms: int | None = None
    stream_staleness_s: Mapping[str, float | None] = field(default_factory=dict)
    stream_connected: Mapping[str, bool] = field(default_factory=dict)
    last_reconcile_ms: int | None = None
    last_reconcile_ok: bool | None = None
    last_reconcile_error: str = ""
    reconcile_drift: Decimal | None = None
    open_orders_own: int = 0
    open_orders_foreign: int = 0
    orders_placed: int = 0
    orders_cancelled: int = 0
    orders_rejected: int = 0
    orders_expired: int = 0  # by the exchange: self-trade prevention or an eR reason
    symbol_status: str | None = None  # exchangeInfo's status (None: not read yet)
    order_transport: str = "rest"
    fills: int = 0
    rate_limit_used: int | None = None
    rate_limit_limit: int | None = None
    healthy: bool = True
    health_reason: str = ""
    uptime_s: float | None = None
    last_fills: Sequence[FillRow] = ()  # newest first


def _dec(value: Decimal | None) -> str | None:
    # normalize() would turn 100 into 1E+2; format as plain positional text instead.
    return None if value is None else format(value, "f")


def _headroom(used: int | None, limit: int | None) -> float | None:
    if used is None or not limit:
        return None
    return max(0.0, 1 - used / limit)


def status_document(s: StatusInput) -> dict[str, Any]:
    """The JSON-ready ``/status`` document (see docs/status.schema.json)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "time_ms": s.time_ms,
        "bot": {
            "id": s.bot_id,
            "symbol": s.symbol,
            "market": s.market,
            "venue": s.venue,
            "paused": s.paused,
            "uptime_s": s.uptime_s,
        },
        "market": {
            "price": _dec(s.price),
            "center": _dec(s.center),
            "interval": _dec(s.interval),
            "atr": _dec(s.atr),
        },
        "slots": {state.value: int(s.slots.get(state.value, 0)) for state in SlotState},
        "ladder": [
            {
                "level": _dec(r.level),
                "state": r.state,
                "side": r.side,
                "price": _dec(r.price),
                "qty": _dec(r.qty),
                "filled": _dec(r.filled),
                "age_s": r.age_s,
            }
            for r in s.ladder
        ],
        "position": _dec(s.position),
        "pnl": {
            "realized": _dec(s.realized_pnl),
            "unrealized": _dec(s.unrealized_pnl),
            "fees": _dec(s.fees),
            "net": _dec(s.realized_pnl + s.unrealized_pnl - s.fees),
            "round_trips": s.round_trips,
        },
        "equity": {
            "equity": _dec(s.equity),
            "peak": _dec(s.equity_peak),
            "drawdown_pct": _dec(s.drawdown_pct),
        },
        "risk": {
            "triggered": s.risk_triggered,
            "reasons": list(s.risk_reasons),
            "breaker": {
                "tripped": s.breaker_tripped,
                "reason": s.breaker_reason,
                "until_ms": s.breaker_until_ms,
            },
        },
        "streams": {
            name: {"connected": s.stream_connected.get(name), "staleness_s": age}
            for name, age in sorted(s.stream_staleness_s.items())
        },
        "reconcile": {
            "last_ms": s.last_reconcile_ms,
            "ok": s.last_reconcile_ok,
            "error": s.last_reconcile_error,
            "drift": _dec(s.reconcile_drift),
        },
        "orders": {
            "open_own": s.open_orders_own,
            "open_foreign": s.open_orders_foreign,
            "placed": s.orders_placed,
            "cancelled": s.orders_cancelled,
            "rejected": s.orders_rejected,
            "expired": s.orders_expired,
            "fills": s.fills,
            # TRADING takes new orders; CANCEL_ONLY, BREAK, HALT, ...: no new orders, cancels go on
            "symbol_status": s.symbol_status,
            "placing": s.symbol_status in (None, "TRADING"),
            "transport": s.order_transport,
        },
        "rate_limit": {
            "used_weight": s.rate_limit_used,
            "limit": s.rate_limit_limit,
            "headroom": _headroom(s.rate_limit_used, s.rate_limit_limit),
        },
        "health": {"ok": s.healthy, "reason": s.health_reason},
        "last_fills": [
            {
                "time_ms": f.time_ms,
                "side": f.side,
                "price": _dec(f.price),
                "qty": _dec(f.qty),
                "trade_id": f.trade_id,
            }
            for f in s.last_fills
        ],
    }


def slot_counts(slots: Iterable[Slot]) -> dict[str, int]:
    """Slots by state name (every state present, zeros included)."""
    counts = {state.value: 0 for state in SlotState}
    for slot in slots:
        counts[slot.state.value] += 1
    return counts


def _row(slot: Slot, rules: SymbolRules, placed_at_ms: Mapping[str, int], now_ms: int | None) -> LadderRow:
    if slot.working:
        sent = placed_at_ms.get(slot.client_id)
        return LadderRow(
            level=rules.ticks_to_price(slot.level),
            state=slot.state.value,
            side=slot.side.value if slot.side else None,
            price=rules.ticks_to_price(slot.order_price),
            qty=rules.steps_to_qty(slot.order_qty),
            filled=rules.steps_to_qty(slot.order_filled),
            # never negative: the wall clock may step back between the send and this reading
            age_s=max(0, now_ms - sent) / 1000 if sent is not None and now_ms is not None else None,
        )
    return LadderRow(
        level=rules.ticks_to_price(slot.level),
        state=slot.state.value,
        side=None,
        price=None,
        qty=rules.steps_to_qty(slot.held),
        filled=Decimal(0),
    )


def ladder_from_book(
    book: SlotBook,
    rules: SymbolRules,
    price_ticks: int | None,
    *,
    depth: int = 8,
    placed_at_ms: Mapping[str, int] | None = None,
    now_ms: int | None = None,
) -> list[LadderRow]:
    """Working orders and held levels nearest the price: up to ``depth`` above and ``depth`` below.

    Rows are sorted by price, highest first (like an order book). A level's "price" for sorting is
    its working order's price, or its level when it holds a position without an order.
    ``placed_at_ms`` maps client ids to the time they were sent (for the age column).
    """
    placed = placed_at_ms or {}
    shown = [s for s in book if s.working or s.state is SlotState.FILLED]

    def key(s: Slot) -> int:
        return s.order_price if s.working else s.level

    shown.sort(key=key, reverse=True)
    if price_ticks is not None:
        above = [s for s in shown if key(s) > price_ticks][-depth:] if depth else []
        below = [s for s in shown if key(s) <= price_ticks][:depth]
        shown = above + below
    return [_row(s, rules, placed, now_ms) for s in shown]
