"""Value types the connector hands to its callers, next to the core's (core/model.py).

Units, the same everywhere in the interface: order prices and quantities are on the symbol's lattice,
so they cross as integer **ticks** and **steps** (convert with the exchange's :class:`SymbolRules`);
account amounts that are not on a lattice (balances, positions, fees, PnL) are exact ``Decimal``.
Times are integer milliseconds of the exchange's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from market_maker.core.model import Candle, Fill, OrderSnapshot


@dataclass(frozen=True, slots=True)
class Balance:
    """One asset of the account: ``free`` can be used, ``locked`` backs open orders (or margin)."""

    asset: str
    free: Decimal
    locked: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        """free + locked."""
        return self.free + self.locked


@dataclass(frozen=True, slots=True)
class Position:
    """The bot's holding in its symbol: signed base quantity (spot: the base asset's total balance)."""

    symbol: str
    qty: Decimal
    entry_price: Decimal = Decimal(0)
    unrealized_pnl: Decimal = Decimal(0)
    leverage: int = 0  # futures only (0 on spot)
    margin_type: str = ""  # futures only: "cross" or "isolated"


class Quote(NamedTuple):
    """Best bid and ask (bookTicker), or the last trade price in both (aggTrade/trade streams).

    A NamedTuple, not a frozen dataclass: one is built for every market-data frame, on the tick-to-order
    path, and its ``__new__`` hands the fields to ``tuple.__new__`` at once, where a frozen dataclass's
    ``__init__`` calls ``object.__setattr__`` once per field. Immutable all the same; equality, hashing
    and ``repr`` leave out ``received_ns``, as the dataclass's ``compare=False, repr=False`` did.
    """

    symbol: str
    bid: int  # ticks
    ask: int  # ticks
    time_ms: int = 0  # exchange time, 0 when the stream does not say (spot bookTicker)
    # perf_counter_ns when its frame came off the socket (0: not from a stream); a measurement, not
    # market data, so two quotes of the same prices are equal whenever they arrived
    received_ns: int = 0

    @property
    def mid2(self) -> int:
        """bid + ask, in ticks (twice the mid price, kept integral)."""
        return self.bid + self.ask

    def __eq__(self, other: object) -> bool:
        return type(other) is Quote and self[:4] == other[:4]

    def __ne__(self, other: object) -> bool:
        return type(other) is not Quote or self[:4] != other[:4]

    def __hash__(self) -> int:
        return hash(self[:4])

    def __repr__(self) -> str:
        return f"Quote(symbol={self.symbol!r}, bid={self.bid!r}, ask={self.ask!r}, time_ms={self.time_ms!r})"


@dataclass(frozen=True, slots=True)
class CandleUpdate:
    """A kline stream message: the candle so far (``candle.closed`` says when it is final)."""

    symbol: str
    interval: str
    candle: Candle


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """One user-data order event, normalized.

    ``order.client_id`` is always the order's *own* client id, also on cancels (where Binance's spot
    ``c`` holds the cancel request's id and the order's is in ``C``). ``fill`` is set on trades only.
    ``execution`` is Binance's execution type: NEW, CANCELED, TRADE, EXPIRED, REJECTED, AMENDMENT, ...
    """

    symbol: str
    execution: str
    order: OrderSnapshot
    fill: Fill | None = None
    event_time_ms: int = 0
    reduce_only: bool = False
    realized_pnl: Decimal = Decimal(0)  # futures "rp" of this trade
    expiry_reason: str = ""  # on an expiry: Binance's eR/er, or "STP" (self-trade prevention)


@dataclass(frozen=True, slots=True)
class BalanceUpdate:
    """Assets whose balance changed (spot outboundAccountPosition, futures ACCOUNT_UPDATE ``B``)."""

    balances: tuple[Balance, ...]
    event_time_ms: int = 0
    reason: str = ""  # futures ACCOUNT_UPDATE reason (ORDER, FUNDING_FEE, ...)


@dataclass(frozen=True, slots=True)
class PositionUpdate:
    """The position after a change (futures ACCOUNT_UPDATE ``P`` for the bot's symbol)."""

    position: Position
    event_time_ms: int = 0


@dataclass(frozen=True, slots=True)
class StreamStatus:
    """A stream's connection changed: ``connected`` true after (re)connect, false when it dropped."""

    stream: str  # "market" or "user"
    connected: bool
    reconnect: bool = False  # true when this connect followed an earlier one: resync from REST
    reason: str = ""
    # true (with ``connected``) when the connection stayed up but an event could not be read and was
    # dropped: resync from REST all the same
    resync: bool = False


UserEvent = OrderUpdate | BalanceUpdate | PositionUpdate


@dataclass(frozen=True, slots=True)
class MarketDataDropped:
    """A market-stream frame that was dropped: unreadable, or a price no market could show (a crossed
    book, off the tick lattice, outside the price filter). Its receiver counts it: a run of them makes
    the feed stale."""

    symbol: str
    reason: str  # one line, values cut


MarketEvent = Quote | CandleUpdate | MarketDataDropped
