"""Events the slot state machine emits: what changed, for the store, the risk actor and reports."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from market_maker.core.model import Side
from market_maker.core.values import Value


class Filled(Value):
    """Quantity newly filled on a slot's order (``trade_id`` 0 when learnt from an order snapshot)."""

    __slots__ = ("client_id", "level", "price", "qty", "side", "trade_id")
    FIELDS = ("level", "side", "qty", "price", "trade_id", "client_id")

    def __init__(
        self,
        level: int,
        side: Side,
        qty: int,  # steps newly applied
        price: int,  # ticks
        trade_id: int,
        client_id: str,
    ) -> None:
        self.level: Final = level
        self.side: Final = side
        self.qty: Final = qty
        self.price: Final = price
        self.trade_id: Final = trade_id
        self.client_id: Final = client_id

    def _key(self) -> tuple[object, ...]:
        return (self.level, self.side, self.qty, self.price, self.trade_id, self.client_id)


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


class OrderRejected(Value):
    """A definite reject: the slot went back and will not retry before ``backoff_until_ms``."""

    __slots__ = ("backoff_until_ms", "client_id", "level", "reason", "side")
    FIELDS = ("level", "side", "client_id", "reason", "backoff_until_ms")

    def __init__(
        self,
        level: int,
        side: Side,
        client_id: str,
        reason: str,
        backoff_until_ms: int,
    ) -> None:
        self.level: Final = level
        self.side: Final = side
        self.client_id: Final = client_id
        self.reason: Final = reason
        self.backoff_until_ms: Final = backoff_until_ms

    def _key(self) -> tuple[object, ...]:
        return (self.level, self.side, self.client_id, self.reason, self.backoff_until_ms)


class OrderClosed(Value):
    """A working order ended without filling completely (cancelled, expired, or never existed)."""

    __slots__ = ("client_id", "filled", "level", "reason", "side")
    FIELDS = ("level", "side", "client_id", "filled", "reason")

    def __init__(
        self,
        level: int,
        side: Side,
        client_id: str,
        filled: int,  # steps the order filled before it ended
        reason: str,
    ) -> None:
        self.level: Final = level
        self.side: Final = side
        self.client_id: Final = client_id
        self.filled: Final = filled
        self.reason: Final = reason

    def _key(self) -> tuple[object, ...]:
        return (self.level, self.side, self.client_id, self.filled, self.reason)


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
