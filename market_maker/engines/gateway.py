"""Order gateways: how the exchange actor places and cancels, per engine.

:class:`DirectGateway` (Simple engine) calls the connector. The Durable engine's gateway,
:class:`market_maker.durable.workflow_gateway.DurableGateway`, runs each call as a DBOS workflow; it
lives in its own module so that the Simple engine never imports DBOS.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from market_maker.core.model import OrderSnapshot, Side
from market_maker.durable.outcomes import (
    CancelOutcome,
    PlaceOutcome,
    cancel_order,
    cancel_outcome,
    place_error,
    place_order,
    place_outcome,
)
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

    # Written now, answered later: a connector with an order socket (the WebSocket API) writes the
    # request on the caller's thread when that needs no wait, and the returned call waits for the answer
    # on another (an order lane). None: nothing was sent, use place / cancel.

    def send_place(
        self, side: Side, price: int, qty: int, client_id: str, *, reduce_only: bool = False
    ) -> Callable[[], PlaceOutcome] | None:
        """Write a post-only limit order now if the connector can; the call that waits for its outcome."""
        exchange = self.exchange
        send = getattr(exchange, "send_place", None)
        if send is None:
            return None
        try:
            sent = send(side, price, qty, client_id, reduce_only)
        except Exception as exc:  # a bug: it may have been written, so its outcome is unknown
            return partial(place_error, client_id, exc)
        return None if sent is None else partial(place_outcome, client_id, partial(_finish(exchange), sent))

    def send_cancel(self, client_id: str) -> Callable[[], CancelOutcome] | None:
        """Write a cancel by client id now if the connector can; the call that waits for its outcome."""
        exchange = self.exchange
        send = getattr(exchange, "send_cancel", None)
        if send is None:
            return None
        try:
            sent = send(client_id)
        except Exception as exc:  # a bug: a failed cancel is tried again later
            return partial(CancelOutcome, client_id, "failed", None, f"{type(exc).__name__}: {exc}")
        return None if sent is None else partial(cancel_outcome, client_id, partial(_finish(exchange), sent))


def _finish(exchange: Exchange) -> Callable[[Any], OrderSnapshot]:
    """The connector's wait for a written request's answer (with its send_place / send_cancel)."""
    finish: Callable[[Any], OrderSnapshot] = getattr(exchange, "finish")  # noqa: B009 - not in the protocol
    return finish
