"""The connector's typed errors: the only exceptions that leave ``market_maker.exchange``.

Four families tell a caller what it may do next:

* :class:`RejectedError` - the exchange *definitely* did not do it (filter failure, post-only would
  take, insufficient balance, unknown order). Safe to give up or try something else.
* :class:`UnknownOutcomeError` - the request may or may not have been executed (5xx, -1007, a read
  timeout, a connection reset after sending). Never re-send an order blindly: query it by client id.
* :class:`RetryableError` - nothing was executed and the same request may be tried again later
  (rate limits, IP ban, clock skew, a connection that could not even be opened, a dead listenKey).
* :class:`FatalError` - retrying cannot help (bad API key, bad signature, missing permission, unknown
  symbol); a human has to fix the configuration.

Every error carries the Binance ``code`` (None when the failure was not Binance's answer), the HTTP
status when there was one, and ``meaning``: one sentence on what it means for the bot. API keys and
secrets never appear in any of them.
"""

from __future__ import annotations


class ExchangeError(Exception):
    """Base of every error the connector raises."""

    outcome = "error"

    def __init__(
        self,
        meaning: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        msg: str = "",
        endpoint: str = "",
        retry_after_s: float = 0.0,
        filter_name: str = "",
    ) -> None:
        self.meaning = meaning
        self.retry_after_s = retry_after_s  # seconds to wait before trying again (retryable errors)
        self.filter_name = filter_name  # Binance's filter name (filter errors)
        self.code = code
        self.http_status = http_status
        self.msg = msg  # the exchange's own text, verbatim
        self.endpoint = endpoint
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [self.meaning]
        if self.code is not None:
            parts.append(f"code {self.code}")
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        if self.msg:
            parts.append(f"exchange said: {self.msg!r}")
        if self.endpoint:
            parts.append(f"on {self.endpoint}")
        return "; ".join(parts)


# --- definite rejects ------------------------------------------------------------------------------


class RejectedError(ExchangeError):
    """The exchange definitely did not execute the request."""

    outcome = "rejected"


class FilterError(RejectedError):
    """An order failed one of the symbol's filters (``filter_name`` is Binance's name for it)."""


class PostOnlyRejectedError(RejectedError):
    """A post-only order (LIMIT_MAKER / GTX) would have crossed the book and was rejected."""


class InsufficientBalanceError(RejectedError):
    """Not enough free balance or margin for the order."""


class DuplicateOrderError(RejectedError):
    """The client order id is already used by an open order."""


class OrderNotFoundError(RejectedError):
    """The order does not exist (or is already closed, for a cancel)."""


class SymbolNotTradingError(RejectedError):
    """The symbol's status (CANCEL_ONLY, BREAK, HALT, ...) accepts no new orders: nothing was sent."""


class InvalidRequestError(RejectedError):
    """The request itself was malformed: a bug in the caller or the connector."""


class MalformedEventError(ExchangeError):
    """A stream event the connector cannot read (a field missing, of the wrong type, not finite).

    Not a request's outcome: the event is dropped and, for user data, the bot resyncs from REST.
    ``kind`` is the event type (``executionReport``, ...), ``client_id`` the order's when it was read.
    """

    def __init__(self, meaning: str, *, kind: str = "", client_id: str = "") -> None:
        self.kind = kind
        self.client_id = client_id
        super().__init__(meaning)


# --- unknown outcome -------------------------------------------------------------------------------


class UnknownOutcomeError(ExchangeError):
    """The request may have been executed: query by client id before doing anything else."""

    outcome = "unknown"


# --- retryable ---------------------------------------------------------------------------------------


class RetryableError(ExchangeError):
    """Nothing was executed; the same request may be sent again later."""

    outcome = "retryable"


class RateLimitedError(RetryableError):
    """A request-weight or order-count limit was hit (HTTP 429, -1003, -1015)."""


class BannedError(RetryableError):
    """The IP is banned (HTTP 418); nothing is sent until ``retry_after_s`` has passed."""


class ClockSkewError(RetryableError):
    """The request's timestamp fell outside recvWindow (-1021) even after re-syncing the clock."""


class ConnectFailedError(RetryableError):
    """No connection could be opened, so the request was never sent."""


class ListenKeyError(RetryableError):
    """The futures listenKey does not exist any more (-1125): create a new one."""


# --- fatal -------------------------------------------------------------------------------------------


class FatalError(ExchangeError):
    """Retrying will not help: the configuration (key, permissions, symbol) must be fixed."""

    outcome = "fatal"


class AuthError(FatalError):
    """The API key or its signature was refused, or the key lacks a permission."""


class ConfigError(FatalError):
    """The exchange does not know what we asked for (symbol, interval, option)."""


__all__ = [
    "AuthError",
    "BannedError",
    "ClockSkewError",
    "ConfigError",
    "ConnectFailedError",
    "DuplicateOrderError",
    "ExchangeError",
    "FatalError",
    "FilterError",
    "InsufficientBalanceError",
    "InvalidRequestError",
    "ListenKeyError",
    "MalformedEventError",
    "OrderNotFoundError",
    "PostOnlyRejectedError",
    "RateLimitedError",
    "RejectedError",
    "RetryableError",
    "UnknownOutcomeError",
]
