"""Binance error answers -> the connector's typed errors (reference §A.3, §B.1, §B.5).

One table says what each code means and which family it belongs to; :func:`error_from_answer` turns
an HTTP status plus a ``{"code", "msg"}`` body into the right exception. The HTTP status decides
first where Binance says it does: 5xx and 408 are *unknown outcome* whatever the body says (except
-1008 "overloaded", which did not execute), 429 is a rate limit and 418 a ban.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from market_maker.exchange import errors as e

# code -> (error class, what it means for the bot)
_CODES: dict[int, tuple[type[e.ExchangeError], str]] = {
    -1003: (e.RateLimitedError, "request-weight limit exceeded"),
    -1007: (e.UnknownOutcomeError, "backend timeout: the request may have been executed"),
    -1008: (e.RetryableError, "server overloaded; the request was not executed"),
    -1015: (e.RateLimitedError, "order-rate limit exceeded"),
    -1021: (e.ClockSkewError, "timestamp outside recvWindow (clock skew)"),
    -1022: (e.AuthError, "signature rejected: the API secret is wrong"),
    -1100: (e.InvalidRequestError, "illegal characters in a parameter"),
    -1102: (e.InvalidRequestError, "a mandatory parameter is missing or malformed"),
    -1106: (e.InvalidRequestError, "a parameter was sent that this order type does not take"),
    -1111: (e.InvalidRequestError, "a price or quantity has too much precision"),
    -1121: (e.ConfigError, "the exchange does not know this symbol"),
    -1125: (e.ListenKeyError, "the listenKey does not exist any more"),
    -2010: (e.RejectedError, "new order rejected"),
    -2011: (e.OrderNotFoundError, "cancel rejected: unknown or already closed order"),
    -2013: (e.OrderNotFoundError, "order does not exist"),
    -2014: (e.AuthError, "API key format invalid"),
    -2015: (e.AuthError, "API key invalid, IP not allowed, or permission missing for this action"),
    -2018: (e.InsufficientBalanceError, "balance not sufficient"),
    -2019: (e.InsufficientBalanceError, "margin not sufficient"),
    -2022: (e.RejectedError, "reduce-only order rejected (it would not reduce the position)"),
    -2026: (e.OrderNotFoundError, "order archived (closed more than 90 days ago)"),
    -4003: (e.FilterError, "quantity must be greater than zero"),
    -4004: (e.FilterError, "quantity below the symbol's minimum"),
    -4005: (e.FilterError, "quantity above the symbol's maximum"),
    -4013: (e.FilterError, "price below the symbol's minimum"),
    -4014: (e.FilterError, "price not a multiple of the tick size"),
    -4015: (e.InvalidRequestError, "client order id not valid"),
    -4016: (e.FilterError, "price above the mark-price band"),
    -4023: (e.FilterError, "quantity not a multiple of the step size"),
    -4024: (e.FilterError, "price below the mark-price band"),
    -4028: (e.RejectedError, "leverage not valid for this symbol"),
    -4046: (e.RejectedError, "margin type already set"),
    -4047: (e.RejectedError, "margin type cannot change while orders are open"),
    -4048: (e.RejectedError, "margin type cannot change while a position is open"),
    -4059: (e.RejectedError, "position mode already set"),
    -4061: (e.InvalidRequestError, "positionSide does not match the account's position mode"),
    -4067: (e.RejectedError, "position mode cannot change while orders are open"),
    -4068: (e.RejectedError, "position mode cannot change while a position is open"),
    -4116: (e.DuplicateOrderError, "client order id already used"),
    -4164: (e.FilterError, "order notional below the symbol's minimum"),
    -5022: (e.PostOnlyRejectedError, "post-only order would have taken liquidity"),
    -5028: (e.ClockSkewError, "timestamp outside recvWindow at the matching engine"),
}

# futures filter codes -> Binance's filter name, so callers can treat both markets alike
_FUTURES_FILTER = {
    -4003: "LOT_SIZE",
    -4004: "LOT_SIZE",
    -4005: "LOT_SIZE",
    -4013: "PRICE_FILTER",
    -4014: "PRICE_FILTER",
    -4016: "PERCENT_PRICE",
    -4023: "LOT_SIZE",
    -4024: "PERCENT_PRICE",
    -4164: "MIN_NOTIONAL",
}

_FILTER_MSG = re.compile(r"Filter failure:\s*([A-Z_]+)")

# ALREADY-SO codes: the state asked for is already the state (reference §B.4, §G.3)
MARGIN_TYPE_ALREADY_SET = -4046
POSITION_MODE_ALREADY_SET = -4059
CANCEL_REJECTED = -2011
NO_SUCH_ORDER = -2013


def retry_after_seconds(headers: Mapping[str, str]) -> float:
    """The ``Retry-After`` header in seconds (0 when absent or unreadable); ``headers`` case-insensitive."""
    raw = _header(headers, "retry-after")
    if raw is None:
        return 0.0
    try:
        return max(0.0, float(raw))
    except ValueError:
        return 0.0


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def error_from_answer(
    http_status: int, body: Any, headers: Mapping[str, str], endpoint: str = ""
) -> e.ExchangeError:
    """The typed error for one non-2xx answer (``body`` is the parsed JSON, or None)."""
    code: int | None = None
    msg = ""
    if isinstance(body, dict):
        raw_code = body.get("code")
        code = raw_code if isinstance(raw_code, int) else None
        msg = str(body.get("msg", ""))
    elif isinstance(body, str):
        msg = body[:200]
    kw: dict[str, Any] = {"code": code, "http_status": http_status, "msg": msg, "endpoint": endpoint}
    retry_after = retry_after_seconds(headers)

    if http_status == 418:
        return e.BannedError("IP banned for ignoring rate limits", retry_after_s=retry_after, **kw)
    if http_status == 429:
        cls, meaning = _CODES.get(code or -1003, (e.RateLimitedError, "rate limit exceeded"))
        if not issubclass(cls, e.RateLimitedError):
            cls, meaning = e.RateLimitedError, "rate limit exceeded"
        return cls(meaning, retry_after_s=retry_after, **kw)
    if http_status >= 500 or http_status == 408:
        if code == -1008:
            return e.RetryableError(_CODES[-1008][1], retry_after_s=retry_after, **kw)
        return e.UnknownOutcomeError("server error: execution status unknown", **kw)
    if code is not None and code in _CODES:
        cls, meaning = _CODES[code]
        if code == -2010:
            return _new_order_rejected(msg, kw)
        if cls is e.FilterError:
            return e.FilterError(meaning, filter_name=_FUTURES_FILTER.get(code, "UNKNOWN"), **kw)
        if issubclass(cls, e.RetryableError):
            return cls(meaning, retry_after_s=retry_after, **kw)
        return cls(meaning, **kw)
    if code == -1013:
        m = _FILTER_MSG.search(msg)
        if m:
            return e.FilterError(f"order fails the {m.group(1)} filter", filter_name=m.group(1), **kw)
        return e.InvalidRequestError("invalid message", **kw)
    if http_status == 401:
        return e.AuthError("API key refused", **kw)
    if http_status == 403:
        return e.FatalError("request blocked by the exchange's firewall (WAF)", **kw)
    if 400 <= http_status < 500:
        return e.RejectedError("request rejected", **kw)
    return e.UnknownOutcomeError(f"unexpected HTTP status {http_status}", **kw)


def _new_order_rejected(msg: str, kw: dict[str, Any]) -> e.ExchangeError:
    """-2010 carries the engine's reason only in its message."""
    low = msg.lower()
    if "immediately match" in low:
        return e.PostOnlyRejectedError("post-only order would have taken liquidity", **kw)
    if "insufficient balance" in low:
        return e.InsufficientBalanceError("balance not sufficient", **kw)
    if "duplicate order" in low:
        return e.DuplicateOrderError("client order id already used by an open order", **kw)
    return e.RejectedError("new order rejected", **kw)
