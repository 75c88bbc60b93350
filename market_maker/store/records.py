"""Plain values read back from the store: order rows, and conversions of fills and round trips."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from market_maker.core.model import Fill, OrderStatus, Side
from market_maker.core.slot_events import RoundTripClosed

INTENT = "INTENT"  # written before the request goes out
UNKNOWN = "UNKNOWN"  # the request's outcome is unknown (timeout, 5xx): query by client id
NOT_FOUND = "NOT_FOUND"  # the exchange says the order never existed
OPEN_STATUSES = frozenset({INTENT, UNKNOWN, OrderStatus.NEW.value, OrderStatus.PARTIALLY_FILLED.value})
ORDER_STATUSES = OPEN_STATUSES | {s.value for s in OrderStatus} | {NOT_FOUND, "EXPIRED_IN_MATCH"}


@dataclass(frozen=True, slots=True)
class OrderRow:
    """One order as the store knows it (from intent to its last known status)."""

    client_id: str
    level: int  # ticks
    side: Side
    price: int  # ticks
    qty: int  # steps
    status: str  # one of ORDER_STATUSES
    order_id: int | None
    executed_qty: int  # steps
    created_ms: int
    updated_ms: int
    avg_price: Decimal | None = None  # the venue's, in the quote asset; None until it reported one

    @property
    def is_open(self) -> bool:
        """True while the order may be (or become) working on the exchange."""
        return self.status in OPEN_STATUSES


def order_from_row(r: Any) -> OrderRow:
    """The OrderRow of an ``orders`` model instance."""
    return OrderRow(
        r.client_id,
        r.level,
        Side(r.side),
        r.price,
        r.qty,
        r.status,
        r.order_id,
        r.executed_qty,
        r.created_ms,
        r.updated_ms,
        r.avg_price,
    )


def _names(cls: Any) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


_FILL = _names(Fill)
_ROUND_TRIP = _names(RoundTripClosed)


def fill_columns(fill: Fill) -> dict[str, Any]:
    """The ``fill`` table columns of one trade (scope columns excluded)."""
    return {**{n: getattr(fill, n) for n in _FILL}, "side": fill.side.value}


def fill_from_row(r: Any) -> Fill:
    """The core Fill of a ``fill`` model instance."""
    return Fill(**{**{n: getattr(r, n) for n in _FILL}, "side": Side(r.side), "is_maker": bool(r.is_maker)})


def round_trip_columns(rt: RoundTripClosed) -> dict[str, Any]:
    """The ``round_trip`` table columns of one closed round trip."""
    return {n: getattr(rt, n) for n in _ROUND_TRIP}


def round_trip_from_row(r: Any) -> RoundTripClosed:
    """The core event of a ``round_trip`` model instance."""
    return RoundTripClosed(**{n: getattr(r, n) for n in _ROUND_TRIP})
