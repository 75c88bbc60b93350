"""What the actors report as it happens, for metrics and health (the ops endpoint); by default nothing.

Every method is called from an actor or stream thread and must return at once (no I/O, no blocking).
"""

from __future__ import annotations

from decimal import Decimal

from market_maker.core.risk import RiskState
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook


class Observer:
    """No-op base: subclass and override what you need (see actors.ops_observer)."""

    def bind(self, rules: SymbolRules) -> None:
        """The symbol's rules, once known (before any other call)."""

    def market_data(self, price: int) -> None:
        """A market-data message with this price (ticks) arrived."""

    def market_data_dropped(self) -> None:
        """A market-data frame was dropped (unreadable or unbelievable)."""

    def stream(self, name: str, connected: bool, reconnect: bool) -> None:
        """The ``market`` or ``user`` stream connected or dropped."""

    def user_event(self) -> None:
        """A user-data event arrived (proof the user stream is alive)."""

    def order_placed(self) -> None:
        """An order request went out."""

    def order_sent(self, kind: str, origin_ns: int, sent_ns: int) -> None:
        """The ``kind`` ("place" or "cancel") request answering the market-data frame received at
        ``origin_ns`` went to the socket at ``sent_ns`` (both ``time.perf_counter_ns()``)."""

    def order_stages(self, kind: str, origin_ns: int, hops: tuple[int, ...], sent_ns: int) -> None:
        """The same request with the stamp of each hop on its way (``actors.stages.STAGES`` names the
        spans between ``origin_ns``, each of ``hops`` and ``sent_ns``)."""

    def order_cancelled(self, reason: str) -> None:
        """A cancel went out (reason: trailing, risk, stale, cap, orphan...)."""

    def order_expired(self, reason: str) -> None:
        """The exchange expired one of our orders (``reason``: STP, or Binance's eR); not an error."""

    def order_rejected(self, reason: str) -> None:
        """The exchange definitely refused an order."""

    def fill(
        self, side: str, price: Decimal | None = None, qty: Decimal | None = None, trade_id: int = 0
    ) -> None:
        """One trade of our orders was stored (price and quantity in the symbol's units)."""

    def round_trip(self) -> None:
        """A round trip closed."""

    def reconciled(self, ok: bool, error: str = "", drift: Decimal | None = None, foreign: int = 0) -> None:
        """A reconciliation finished (or failed with ``error``)."""

    def book(
        self, book: SlotBook, price: int, center: int, interval: int, realized: Decimal, fees: Decimal
    ) -> None:
        """The slot manager's periodic view (gauges)."""

    def risk(self, state: RiskState, equity: Decimal | None = None) -> None:
        """The risk state changed."""
