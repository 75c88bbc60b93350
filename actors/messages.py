"""Every message the actors exchange: one vocabulary of frozen dataclasses (never mutated, never copied).

Grouped by who sends them. Prices are integer ticks, quantities integer steps, times milliseconds of
the local clock unless a field says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from market_maker.core.actions import Action
from market_maker.core.model import Candle, Fill, OrderSnapshot, Side
from market_maker.core.risk import RiskState
from market_maker.core.slot_events import RoundTripClosed
from market_maker.core.slots import SlotBook
from market_maker.exchange.types import OrderUpdate

# --- timers (an actor tells itself; the timer re-arms after the tick is handled) ------------------------


@dataclass(frozen=True, slots=True)
class TimerTick:
    """A periodic timer of the receiving actor fired; ``name`` says which."""

    name: str


# --- market data (PriceMonitorActor) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriceTick:
    """A new price is waiting in the shared latest-price box (the strategy takes the newest one)."""


@dataclass(frozen=True, slots=True)
class MarketDataSeen:
    """Market data arrived at ``time_ms`` (sent at most about once a second): clears the stale trigger."""

    time_ms: int


@dataclass(frozen=True, slots=True)
class MarketDataStale:
    """A run of market data was dropped as unbelievable at ``time_ms``: the stale trigger is set until
    the next :class:`MarketDataSeen`."""

    time_ms: int


@dataclass(frozen=True, slots=True)
class CandleClosed:
    """One closed candle of the risk ATR interval."""

    candle: Candle


# --- risk (RiskActor) ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RiskUpdate:
    """The risk state or the grid interval (ticks) changed."""

    risk: RiskState
    interval: int
    trip_seq: int = 0  # the last RoundTripDone.seq this state includes


@dataclass(frozen=True, slots=True)
class RiskRestarted:
    """The risk actor was restarted: round trips told to the old one will never be acknowledged."""


@dataclass(frozen=True, slots=True)
class TripBreaker:
    """Halt all new orders (e.g. position drift found by reconciliation)."""

    reason: str


@dataclass(frozen=True, slots=True)
class EquityUpdate:
    """Current equity in the quote asset (for the drawdown-from-peak breaker)."""

    equity: Decimal
    time_ms: int


@dataclass(frozen=True, slots=True)
class RoundTripDone:
    """A slot closed a round trip (forwarded from the slot manager to the risk actor)."""

    round_trip: RoundTripClosed
    seq: int  # the slot manager places nothing new until a RiskUpdate with trip_seq >= seq arrives


# --- strategy (StrategyActor) ---------------------------------------------------------------------------


class Decisions(NamedTuple):
    """What the strategy wants now, with the market view it decided on (for the heartbeat and fills).

    A NamedTuple, not a frozen dataclass like the other messages: one is built on every price tick, on
    the tick-to-order path, and its ``__new__`` hands the fields to ``tuple.__new__`` at once, where a
    frozen dataclass's ``__init__`` calls ``object.__setattr__`` once for each of its ten fields (~5x
    the cost). Immutable all the same.
    """

    actions: tuple[Action, ...]
    price: int
    center: int
    interval: int
    buys_blocked: bool
    halted: bool
    time_ms: int
    origin_ns: int = 0  # perf_counter_ns of the market-data frame behind them (0: not a price tick)
    hops: tuple[int, ...] = ()  # stage stamps since then (actors/stages.py)
    book: SlotBook | None = None  # the book they were decided on (the slot manager checks it is its own)


# --- slot manager (SlotManagerActor) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlotsChanged:
    """The slot book after a change (read-only view for the strategy)."""

    book: SlotBook


@dataclass(frozen=True, slots=True)
class DecisionsTaken:
    """The slot manager has handled a Decisions (carried out or dropped; sent after any SlotsChanged of it).

    The strategy keeps one Decisions in flight and decides again, on the newest price, when this arrives:
    back-pressure, so the slot manager's mailbox never fills with decisions on old prices.
    """


class Submit(NamedTuple):
    """Place one post-only limit order (its intent row is already stored).

    A NamedTuple, as Decisions and for the same reason: one is built for every placement, on the
    tick-to-order path (a frozen dataclass's ``__init__`` calls ``object.__setattr__`` per field)."""

    client_id: str
    side: Side
    price: int
    qty: int
    reduce_only: bool = False
    origin_ns: int = 0  # see Decisions.origin_ns: tick-to-order latency is measured from it
    hops: tuple[int, ...] = ()  # see Decisions.hops


class CancelOrder(NamedTuple):
    """Cancel one of our orders by client id (a NamedTuple, as Submit: one per cancel, on the
    tick-to-order path)."""

    client_id: str
    reason: str
    origin_ns: int = 0  # see Decisions.origin_ns
    hops: tuple[int, ...] = ()  # see Decisions.hops


@dataclass(frozen=True, slots=True)
class QueryOrder:
    """Find out what became of an order (and, with ``trades``, fetch its trades since ``since_ms``)."""

    client_id: str
    since_ms: int | None
    trades: bool = True  # False: only the order (its row catches up; the trades are booked already)


@dataclass(frozen=True, slots=True)
class FetchSnapshot:
    """Read open orders, trades since ``since_ms`` and the position for reconciliation."""

    since_ms: int | None


@dataclass(frozen=True, slots=True)
class Republish:
    """Send your current view again (a strategy was started or restarted: it starts blind)."""


@dataclass(frozen=True, slots=True)
class StopTrading:
    """Graceful stop has begun: send no new orders."""


@dataclass(frozen=True, slots=True)
class ApplyCancels:
    """Orders cancelled on the way out (cancel_on_exit): record them (asked from outside)."""

    orders: tuple[OrderSnapshot, ...]


@dataclass(frozen=True, slots=True)
class SweepFills:
    """Asked on the way out, once the exchange actor has stopped: ``fetch(since_ms)`` (called on the slot
    manager's thread) returns the venue time it read first and the account's trades since ``since_ms``;
    every one the user stream had not delivered is recorded. Answered with a :class:`FillsSwept`."""

    fetch: Callable[[int | None], tuple[int, list[Fill]]]


@dataclass(frozen=True, slots=True)
class FillsSwept:
    """What a :class:`SweepFills` found: ``covered_ms`` is the venue time every trade up to which is now
    stored (None when the venue could not be read: ``failed`` says why); ``new`` the fills it added."""

    covered_ms: int | None
    new: int
    failed: str = ""


@dataclass(frozen=True, slots=True)
class StatusQuery:
    """Asked from outside the system (status, tests): answered with a :class:`Status`."""


@dataclass(frozen=True, slots=True)
class Status:
    """The slot manager's view, for status output and tests."""

    book: SlotBook
    reconciled: bool
    price: int
    center: int
    interval: int
    realized: Decimal
    fees: Decimal
    round_trips: int
    open_orders: int
    buys_blocked: bool  # a risk trigger (or the breaker) stops new buys
    halted: bool  # the circuit breaker stops all new orders
    outstanding: int  # order actions the core asks for that are not carried out yet
    risk: RiskState | None = None  # the risk actor's last word
    queries: int = 0  # orders being looked up by client id (outcome unknown or missing)
    sent_ms: Mapping[str, int] = field(default_factory=dict)  # client id -> when its order was sent


# --- exchange replies (ExchangeActor) -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Accepted:
    """The exchange acknowledged the order."""

    client_id: str
    order: OrderSnapshot


@dataclass(frozen=True, slots=True)
class Rejected:
    """The exchange definitely did not take the order."""

    client_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Unknown:
    """The order may or may not exist (timeout, 5xx): resolve it by client id."""

    client_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The cancel went through; ``order`` carries what filled before it."""

    client_id: str
    order: OrderSnapshot


@dataclass(frozen=True, slots=True)
class CancelFailed:
    """The cancel did not go through; ``not_found`` when the order is unknown or already closed."""

    client_id: str
    reason: str
    not_found: bool


@dataclass(frozen=True, slots=True)
class OrderQueried:
    """Answer to :class:`QueryOrder`: the order (None: the exchange has no such order) and its trades.

    ``failed`` is set when the query itself could not be made; nothing is known then.
    """

    client_id: str
    order: OrderSnapshot | None
    fills: tuple[Fill, ...] = ()
    failed: str = ""


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One user-data stream order event (ack, trade, cancel, expiry)."""

    update: OrderUpdate


@dataclass(frozen=True, slots=True)
class ExchangeSnapshot:
    """Open orders (ours and foreign), recent trades and the position, read at ``time_ms``."""

    open_orders: tuple[OrderSnapshot, ...]
    fills: tuple[Fill, ...]
    position: Decimal
    time_ms: int
    cash: Decimal | None = None  # quote asset: spot total balance, futures wallet balance
    entry_price: Decimal = Decimal(0)  # futures: the position's entry (0 on spot: the position is owned)


@dataclass(frozen=True, slots=True)
class SnapshotFailed:
    """Reconciliation could not read the exchange."""

    reason: str


# --- schedules (ReconcilerActor, CleanupActor) --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamReconnected:
    """The user-data stream reconnected: events may have been missed."""


@dataclass(frozen=True, slots=True)
class ReconcileDue:
    """Time to compare the slots with the exchange."""


@dataclass(frozen=True, slots=True)
class CleanupDue:
    """Time to cancel stale orders (``market_maker/core/cleanup.py``)."""

    stale_after_ms: int
