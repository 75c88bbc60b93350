"""The heartbeat log line and order-event lines (exact decimals, one line each), logged through
:mod:`market_maker.ops.logs` so ``ops.log_format: json`` turns their values into keys of the line."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from market_maker.core.atr import SCALE
from market_maker.core.model import Side, SlotState
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook
from market_maker.ops import logs


@dataclass(frozen=True, slots=True)
class Totals:
    """Closed round trips so far (this database, all runs)."""

    realized: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    round_trips: int = 0
    wins: int = 0

    def add(self, realized: Decimal, fees: Decimal) -> Totals:
        """The totals after one more round trip."""
        return Totals(
            self.realized + realized, self.fees + fees, self.round_trips + 1, self.wins + (realized > 0)
        )


def slot_counts(book: SlotBook) -> dict[str, int]:
    """Slots by state, working orders split by side (e.g. ``LOCKED_BUY``)."""
    c: Counter[str] = Counter()
    for s in book:
        key = s.state.value
        if s.working and s.side is not None:
            key += "_" + s.side.value
        c[key] += 1
    return dict(sorted(c.items()))


def open_fees(book: SlotBook) -> Decimal:
    """Fees already paid by positions still open (not yet in a closed round trip)."""
    return sum((s.fees for s in book if s.held or s.state is not SlotState.FREE), Decimal(0))


def heartbeat_fields(
    book: SlotBook, rules: SymbolRules, price: int, center: int, interval: int, totals: Totals
) -> dict[str, Any]:
    """The heartbeat's values: exact decimals (None when not known yet) and slot counts by state."""
    return {
        "price": _d(rules, price),
        "center": _d(rules, center),
        "interval": _d(rules, interval),
        "slots": slot_counts(book),
        "position": book.position(rules).normalize(),
        "realized_pnl": totals.realized,
        "round_trips": totals.round_trips,
        "fees": totals.fees + open_fees(book),
        "unrealized_pnl": book.unrealized_pnl(price, rules) if price else Decimal(0),
        "open_orders": sum(1 for s in book if s.working),
    }


def heartbeat_line(
    book: SlotBook,
    rules: SymbolRules,
    price: int,
    center: int,
    interval: int,
    totals: Totals,
    extra: str = "",
) -> str:
    """One line: price, center, interval, slots by state, position, realized PnL, fees, open orders."""
    return _line(heartbeat_fields(book, rules, price, center, interval, totals)) + extra


def _line(f: dict[str, Any]) -> str:
    counts = " ".join(f"{k}={v}" for k, v in f["slots"].items()) or "none"
    return (
        f"heartbeat price={_s(f['price'])} center={_s(f['center'])} interval={_s(f['interval'])} "
        f"slots[{counts}] position={f['position']:f} "
        f"realized_pnl={f['realized_pnl']:.8f} round_trips={f['round_trips']} fees={f['fees']:.8f} "
        f"unrealized_pnl={f['unrealized_pnl']:.8f} open_orders={f['open_orders']}"
    )


def log_heartbeat(
    logger: logging.Logger,
    book: SlotBook,
    rules: SymbolRules,
    price: int,
    center: int,
    interval: int,
    totals: Totals,
) -> None:
    """The heartbeat through :func:`market_maker.ops.logs.heartbeat`: the readable line in text logs,
    its values as keys of the line in JSON logs."""
    fields = heartbeat_fields(book, rules, price, center, interval, totals)
    logs.heartbeat(logger, _line(fields), **fields)


def _d(rules: SymbolRules, ticks: int) -> Decimal | None:
    return rules.ticks_to_price(ticks) if ticks else None


def _s(value: Decimal | None) -> str:
    return "-" if value is None else f"{value}"


def order_line(what: str, side: Side | None, qty: int, price: int, client_id: str, rules: SymbolRules) -> str:
    """``placed BUY 0.00100 @ 99990.00 (mm1_B..)``."""
    s = side.value if side is not None else "?"
    return f"{what} {s} {rules.steps_to_qty(qty)} @ {rules.ticks_to_price(price)} ({client_id})"


def utc_time(ms: int) -> str:
    """Epoch milliseconds as a log line shows a time: ``2026-12-07T04:05:03.120Z``."""
    try:
        when = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    except (OverflowError, ValueError, OSError):  # beyond year 9999: no calendar time to show
        return f"{ms} ms after the epoch"
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def plain(value: Decimal | None) -> str:
    """A decimal for a log line: its digits without trailing zeros or exponent (``0E-8`` -> ``0``,
    ``99.2475000000000000`` -> ``99.2475``); ``-`` when unknown."""
    if value is None:
        return "-"
    text = format(value, "f")
    return (text.rstrip("0").rstrip(".") if "." in text else text) or "0"


def atr_price(rules: SymbolRules, scaled: int) -> Decimal:
    """An ATR the core keeps in ticks x ``core.atr.SCALE``, as a price distance rounded to the tick."""
    return rules.ticks_to_price((scaled + SCALE // 2) // SCALE)


# the readable verb of an order line -> the event kind of its structured form (order_<kind>)
_KINDS = {"placing": "placed", "cancelling": "cancel_requested"}


def log_order(
    logger: logging.Logger,
    what: str,
    side: Side | None,
    qty: int,
    price: int,
    client_id: str,
    rules: SymbolRules,
    suffix: str = "",
    level: int = logging.INFO,
    **fields: Any,
) -> None:
    """One order event through :func:`market_maker.ops.logs.order_event`: the text is
    :func:`order_line` plus ``suffix``; JSON lines carry client_id, side, price, qty and ``fields``."""
    logs.order_event(
        logger,
        _KINDS.get(what, what),
        client_id=client_id,
        side=side.value if side is not None else "?",
        price=rules.ticks_to_price(price),
        qty=rules.steps_to_qty(qty),
        text=order_line(what, side, qty, price, client_id, rules) + suffix,
        level=level,
        **fields,
    )
