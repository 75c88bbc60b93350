"""Events the slot state machine emits: what changed, for the store, the risk actor and reports."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from market_maker.core.model import Side


@dataclass(frozen=True, slots=True)
class Filled:
    """Quantity newly filled on a slot's order (``trade_id`` 0 when learnt from an order snapshot)."""

    level: int
    side: Side
    qty: int  # steps newly applied
    price: int  # ticks
    trade_id: int
    client_id: str


@dataclass(frozen=True, slots=True)
class RoundTripClosed:
    """A slot sold everything it bought: one closed round trip with its realized PnL (quote asset).

    ``qty`` is 0 when the position ended with nothing sellable (a partial buy whose base-asset fee
    left only dust): its fees are realized then, and such a trip is not a trading loss.
    """

    level: int
    qty: int  # steps sold
    buy_cost: Decimal  # FIFO cost of the quantity sold
    proceeds: Decimal
    fees: Decimal  # all fees of the round trip, converted to quote at fill time
    realized: Decimal  # proceeds - buy_cost - fees
    time_ms: int


@dataclass(frozen=True, slots=True)
class OrderRejected:
    """A definite reject: the slot went back and will not retry before ``backoff_until_ms``."""

    level: int
    side: Side
    client_id: str
    reason: str
    backoff_until_ms: int


@dataclass(frozen=True, slots=True)
class OrderClosed:
    """A working order ended without filling completely (cancelled, expired, or never existed)."""

    level: int
    side: Side
    client_id: str
    filled: int  # steps the order filled before it ended
    reason: str


@dataclass(frozen=True, slots=True)
class FeeRejected:
    """A trade was applied but its fee made no sense and was not counted (see pnl.FeeError)."""

    level: int
    trade_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class Ignored:
    """An exchange event that matched no working order of ours (foreign, stale or duplicate)."""

    client_id: str
    reason: str


SlotEvent = Filled | RoundTripClosed | OrderRejected | OrderClosed | FeeRejected | Ignored
