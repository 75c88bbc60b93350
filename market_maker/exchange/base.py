"""The interface the actors use: one symbol on one Binance market (spot or USD-M futures).

Units (the same in every method): order prices and quantities are integer **ticks** and **steps** of
the symbol's :class:`SymbolRules` (``symbol_rules()`` converts to and from ``Decimal``); balances,
positions, fees and PnL are exact ``Decimal``; times are the exchange's milliseconds.

Errors: every method raises only :mod:`market_maker.exchange.errors` types. The one to watch is
:class:`UnknownOutcomeError` from :meth:`Exchange.place` and :meth:`Exchange.cancel`: the request may
have been executed, so resolve it with :meth:`Exchange.get_order` (by client id) and never re-send
blindly.

Threads: an exchange object owns one REST client (a pool of keep-alive connections), used from its
actor's thread and its order lanes. Stream callbacks run on the stream's own thread and must not
block: hand the event to an actor (``tell``) and return.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from market_maker.core.model import Candle, Fill, Market, OrderSnapshot, Side
from market_maker.core.rules import SymbolRules
from market_maker.exchange.types import Balance, MarketEvent, Position, StreamStatus, UserEvent

MarketCallback = Callable[[MarketEvent], None]
UserCallback = Callable[[UserEvent], None]
StatusCallback = Callable[[StreamStatus], None]


@runtime_checkable
class Stream(Protocol):
    """A WebSocket subscription that reconnects by itself until stopped."""

    name: str

    def start(self) -> None:
        """Connect in a background thread (returns at once)."""

    def stop(self) -> None:
        """Close the connection and join the thread."""

    def wait_connected(self, timeout_s: float) -> bool:
        """Block until connected (and subscribed); False on timeout."""

    @property
    def connected(self) -> bool:
        """True while connected (and subscribed)."""

    @property
    def reconnects(self) -> int:
        """How many times the stream has reconnected since start."""


@runtime_checkable
class Exchange(Protocol):
    """One symbol on one market, over REST and WebSocket."""

    market: Market
    symbol: str

    def start(self) -> None:
        """Measure the server-clock offset and load the symbol's rules and rate limits."""

    def close(self) -> None:
        """Release the HTTP session."""

    # --- reference data ------------------------------------------------------------------------------

    def symbol_rules(self, refresh: bool = False) -> SymbolRules:
        """The symbol's filters from exchangeInfo (cached; ``refresh`` re-reads them)."""

    def server_time(self) -> int:
        """The exchange's clock, in ms (one request)."""

    def sync_time(self) -> int:
        """Re-measure the offset between the local and the exchange clock; returns it in ms."""

    @property
    def time_offset_ms(self) -> int:
        """Exchange minus local clock, as last measured."""

    def klines(
        self, interval: str, limit: int = 500, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[Candle]:
        """Candles, oldest first; the last one is not ``closed`` while it is still forming."""

    # --- orders --------------------------------------------------------------------------------------

    def place(
        self,
        side: Side,
        price: int,
        qty: int,
        client_id: str,
        *,
        post_only: bool = True,
        reduce_only: bool = False,
    ) -> OrderSnapshot:
        """A limit order; post-only by default (spot LIMIT_MAKER, futures GTX).

        ``reduce_only`` marks a futures take-profit (ignored on spot). A post-only order that would
        cross raises :class:`PostOnlyRejectedError`; a filter failure :class:`FilterError`.
        """

    def cancel(self, client_id: str) -> OrderSnapshot:
        """Cancel one order by its client id; the snapshot carries the order's own id and fills.

        An order that is unknown or already closed raises :class:`OrderNotFoundError`: query it.
        """

    def cancel_all(self) -> None:
        """Cancel every open order of the symbol, foreign ones included ("nothing open" is success)."""

    def cancel_own(self, bot_id: str) -> list[OrderSnapshot]:
        """Cancel only the open orders whose client id was made by ``bot_id``; foreign ones stay."""

    def get_order(self, client_id: str) -> OrderSnapshot | None:
        """The order with this client id, open or closed; None when the exchange has no such order."""

    def open_orders(self) -> list[OrderSnapshot]:
        """Every open order of the symbol (ours and foreign)."""

    def recent_trades(self, start_ms: int | None = None, limit: int = 500) -> list[Fill]:
        """The account's trades in the symbol since ``start_ms`` (default: the exchange's recent ones).

        Each fill carries its order's client id and the order's cumulative quantity after it.
        """

    # --- account -------------------------------------------------------------------------------------

    def balances(self) -> dict[str, Balance]:
        """Every asset's balance (spot wallet, or futures wallet with free = available)."""

    def position(self) -> Position:
        """The holding in the symbol: futures net position, spot the base asset's total balance."""

    # --- streams -------------------------------------------------------------------------------------

    def market_stream(
        self,
        on_event: MarketCallback,
        *,
        interval: str = "1m",
        on_status: StatusCallback | None = None,
        stale_after_s: float = 30.0,
    ) -> Stream:
        """Best bid/ask (bookTicker) and candles of ``interval``; not started yet: call ``start()``."""

    def user_stream(
        self,
        on_event: UserCallback,
        *,
        on_status: StatusCallback | None = None,
        stale_after_s: float = 300.0,
    ) -> Stream:
        """Order updates, fills, balance and position changes; not started yet: call ``start()``.

        An account can be quiet for long, so a stream without events for ``stale_after_s`` is simply
        reconnected (and the owner resyncs): a stalled subscription cannot hide longer than that.
        ``on_status`` gets a :class:`StreamStatus` with ``reconnect=True`` after every reconnect:
        events may have been missed, so resync open orders and trades from REST.
        """


@runtime_checkable
class FuturesExchange(Exchange, Protocol):
    """USD-M futures add account configuration."""

    def set_leverage(self, leverage: int) -> int:
        """Set the symbol's leverage (1-125); returns what the exchange applied."""

    def set_margin_type(self, margin_type: str) -> None:
        """ "ISOLATED" or "CROSSED"; already set is success."""

    def set_position_mode(self, hedge: bool) -> None:
        """Hedge (True) or one-way (False) mode; already set is success."""

    def position_mode(self) -> bool:
        """True in hedge mode, False in one-way mode."""
