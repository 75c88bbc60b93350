"""Value types shared by the whole functional core.

Prices are integer *ticks* (price / tickSize) and quantities integer *steps* (qty / stepSize): every
comparison and every piece of grid maths is exact. Money that is not on a lattice (fees, PnL) is a
``Decimal``. Nothing here does I/O or reads a clock; times are integers in milliseconds, passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from decimal import Decimal
from enum import StrEnum


class Side(StrEnum):
    """Order side, spelled as Binance spells it."""

    BUY = "BUY"
    SELL = "SELL"


class SlotState(StrEnum):
    """Life cycle of one grid level (ARCHITECTURE.md §4)."""

    FREE = "FREE"  # nothing held, nothing working
    PENDING = "PENDING"  # request sent (or about to be), outcome not known yet
    LOCKED = "LOCKED"  # order acknowledged and working on the exchange
    FILLED = "FILLED"  # position held at this level, no working order


class Market(StrEnum):
    """Which Binance market a bot trades."""

    SPOT = "spot"
    USDM = "usdm"


class OrderStatus(StrEnum):
    """Exchange order status (Binance's names)."""

    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"

    @property
    def is_open(self) -> bool:
        """True while the order can still trade."""
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


@dataclass(frozen=True, slots=True)
class Candle:
    """One closed (or forming) candle, in ticks and steps."""

    open_time_ms: int
    open: int
    high: int
    low: int
    close: int
    volume: int = 0  # base volume in steps
    close_time_ms: int = 0
    closed: bool = True


@dataclass(frozen=True, slots=True)
class Fill:
    """One trade of one of our orders, as the exchange reported it.

    ``cum_qty`` is the order's cumulative filled quantity after this trade (Binance ``z``); it lets the
    slot book accumulate partial fills idempotently, whatever order events arrive in.
    """

    trade_id: int
    client_id: str
    side: Side
    price: int  # ticks
    qty: int  # steps, this trade only
    cum_qty: int  # steps, cumulative for the order after this trade
    fee: Decimal  # amount charged, in fee_asset
    fee_asset: str
    time_ms: int
    is_maker: bool = True
    order_id: int = 0


@dataclass(frozen=True, slots=True)
class OrderSnapshot:
    """An order as the exchange reports it (open-orders list, query by client id, user stream)."""

    client_id: str
    order_id: int
    side: Side
    price: int  # ticks
    orig_qty: int  # steps
    executed_qty: int  # steps
    status: OrderStatus
    time_ms: int = 0
    # The average price of what executed, in the quote asset: off the tick lattice in general (several
    # fills at different prices), so an exact Decimal like fees; 0 while nothing executed, None when
    # the report does not say (the row keeps what it had).
    avg_price: Decimal | None = None

    def __setstate__(self, state: tuple[object, ...]) -> None:
        # The Durable engine's workflows stored snapshots with pickle before avg_price existed: a shorter
        # state leaves the fields after it at their defaults (dataclasses' own would leave them unset).
        values = (*state, *_SNAPSHOT_DEFAULTS[len(state) :])
        for name, value in zip(_SNAPSHOT_FIELDS, values, strict=True):
            object.__setattr__(self, name, value)


_SNAPSHOT_FIELDS = tuple(f.name for f in fields(OrderSnapshot))
_SNAPSHOT_DEFAULTS = tuple(f.default for f in fields(OrderSnapshot))


def tuple_replace(cls: type[tuple[object, ...]]) -> Callable[..., tuple[object, ...]]:
    """A ``_replace`` for the named tuple class ``cls``: the same result as the generic one, cheaper.

    The generic ``_replace`` pops every one of the class's fields from the keyword arguments; this
    writes only the named ones into a copy of the values. It lives in this module because this one is
    never compiled: only a plain Python function becomes a bound method when set on a class.
    """
    index = {name: i for i, name in enumerate(cls._fields)}  # type: ignore[attr-defined]
    new = tuple.__new__

    def _replace(self: tuple[object, ...], /, **changes: object) -> tuple[object, ...]:
        values = list(self)
        for name, value in changes.items():
            i = index.get(name)
            if i is None:
                raise ValueError(f"Got unexpected field names: {list(changes)!r}")
            values[i] = value
        return new(cls, values)

    _replace.__doc__ = f"Return a new {cls.__name__} object replacing specified fields with new values"
    return _replace
