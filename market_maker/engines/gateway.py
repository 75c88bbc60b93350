"""Order gateways: how the exchange actor places and cancels, per engine.

:class:`DirectGateway` (Simple engine) calls the connector. The Durable engine's gateway,
:class:`market_maker.durable.workflow_gateway.DurableGateway`, runs each call as a DBOS workflow; it
lives in its own module so that the Simple engine never imports DBOS.
"""

from __future__ import annotations

from typing import Protocol

from market_maker.core.model import Side
from market_maker.durable.outcomes import CancelOutcome, PlaceOutcome, cancel_order, place_order
from market_maker.exchange.base import Exchange


class OrderGateway(Protocol):
    """Places and cancels orders for the exchange actor; never raises."""

    def place(
        self, side: Side, price: int, qty: int, client_id: str, *, reduce_only: bool = False
    ) -> PlaceOutcome:
        """Place one post-only limit order."""

    def cancel(self, client_id: str) -> CancelOutcome:
        """Cancel one order by client id."""


class DirectGateway:
    """The Simple engine: the connector, called directly."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def place(
        self, side: Side, price: int, qty: int, client_id: str, *, reduce_only: bool = False
    ) -> PlaceOutcome:
        """One post-only limit order through the connector."""
        return place_order(self.exchange, side, price, qty, client_id, reduce_only)

    def cancel(self, client_id: str) -> CancelOutcome:
        """One cancel through the connector."""
        return cancel_order(self.exchange, client_id)
