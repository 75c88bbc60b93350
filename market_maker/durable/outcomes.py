"""What became of one placement or cancellation, and the direct connector calls that produce it.

The classification is the one the exchange actor always used: a definite reject or a retryable
error (nothing executed) is ``rejected``; anything that may have executed is ``unknown`` (query by
client id, never re-send blindly).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from market_maker.core.model import OrderSnapshot, Side
from market_maker.exchange.base import Exchange
from market_maker.exchange.errors import (
    ExchangeError,
    OrderNotFoundError,
    RejectedError,
    RetryableError,
    UnknownOutcomeError,
)

log = logging.getLogger("market_maker.orders")


@dataclass(frozen=True, slots=True)
class PlaceOutcome:
    """``accepted`` (``order`` set), ``rejected`` (definitely not executed) or ``unknown``."""

    client_id: str
    status: Literal["accepted", "rejected", "unknown"]
    order: OrderSnapshot | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """``cancelled`` (``order`` set), ``not_found`` (unknown or already closed) or ``failed``."""

    client_id: str
    status: Literal["cancelled", "not_found", "failed"]
    order: OrderSnapshot | None = None
    reason: str = ""

    @property
    def definite(self) -> bool:
        """True when the exchange gave a definite answer (a failed cancel may be tried again)."""
        return self.status != "failed"


def why(exc: BaseException) -> str:
    """The first line of an error, for logs and messages."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def place_error(client_id: str, exc: Exception) -> PlaceOutcome:
    """Classify an error raised by :meth:`Exchange.place`."""
    if isinstance(exc, (RejectedError, RetryableError)):
        return PlaceOutcome(client_id, "rejected", reason=why(exc))
    if isinstance(exc, (UnknownOutcomeError, ExchangeError)):
        return PlaceOutcome(client_id, "unknown", reason=why(exc))
    # a bug or an unexpected transport error: never assume it did not happen
    log.error("place %s failed unexpectedly", client_id, exc_info=exc)
    return PlaceOutcome(client_id, "unknown", reason=f"{type(exc).__name__}: {exc}")


def place_order(
    exchange: Exchange, side: Side, price: int, qty: int, client_id: str, reduce_only: bool = False
) -> PlaceOutcome:
    """One post-only limit order through the connector, classified."""
    return place_outcome(
        client_id,
        lambda: exchange.place(side, price, qty, client_id, post_only=True, reduce_only=reduce_only),
    )


def cancel_order(exchange: Exchange, client_id: str) -> CancelOutcome:
    """Cancel one order by client id through the connector, classified."""
    return cancel_outcome(client_id, lambda: exchange.cancel(client_id))


def cancel_outcome(client_id: str, cancel: Callable[[], OrderSnapshot]) -> CancelOutcome:
    """``cancel()`` (a cancel by client id, or the wait for its answer), classified."""
    try:
        order = cancel()
    except OrderNotFoundError as exc:
        return CancelOutcome(client_id, "not_found", reason=why(exc))
    except Exception as exc:
        return CancelOutcome(client_id, "failed", reason=f"{type(exc).__name__}: {exc}")
    return CancelOutcome(client_id, "cancelled", order)


def place_outcome(client_id: str, place: Callable[[], OrderSnapshot]) -> PlaceOutcome:
    """``place()`` (a placement, or the wait for its answer), classified."""
    try:
        order = place()
    except Exception as exc:
        return place_error(client_id, exc)
    return PlaceOutcome(client_id, "accepted", order)
