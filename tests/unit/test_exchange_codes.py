"""Binance answers map to the typed error a caller can act on (reference §A.3, §B.1, §B.5)."""

import pytest

from market_maker.exchange import errors as e
from market_maker.exchange.codes import error_from_answer


def err(
    status: int, code: int | None, msg: str = "", headers: dict[str, str] | None = None
) -> e.ExchangeError:
    body = {"code": code, "msg": msg} if code is not None else None
    return error_from_answer(status, body, headers or {}, "POST /api/v3/order")


def test_spot_filter_failure_names_the_filter() -> None:
    x = err(400, -1013, "Filter failure: NOTIONAL")
    assert isinstance(x, e.FilterError) and isinstance(x, e.RejectedError)
    assert x.filter_name == "NOTIONAL"
    assert x.code == -1013 and "NOTIONAL" in str(x) and "POST /api/v3/order" in str(x)


@pytest.mark.parametrize(
    ("code", "name"),
    [(-4014, "PRICE_FILTER"), (-4023, "LOT_SIZE"), (-4164, "MIN_NOTIONAL"), (-4004, "LOT_SIZE")],
)
def test_futures_filter_codes_name_the_same_filters_as_spot(code: int, name: str) -> None:
    x = err(400, code, "whatever")
    assert isinstance(x, e.FilterError) and x.filter_name == name


def test_post_only_crossing_is_a_definite_reject_on_both_markets() -> None:
    assert isinstance(err(400, -2010, "Order would immediately match and take."), e.PostOnlyRejectedError)
    assert isinstance(
        err(400, -5022, "Due to the order could not be executed as maker"), e.PostOnlyRejectedError
    )


def test_new_order_rejected_reasons_are_told_apart() -> None:
    assert isinstance(
        err(400, -2010, "Account has insufficient balance for requested action."), e.InsufficientBalanceError
    )
    assert isinstance(err(400, -2010, "Duplicate order sent."), e.DuplicateOrderError)
    assert type(err(400, -2010, "Market is closed.")) is e.RejectedError


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_unknown_outcomes_not_failures(status: int) -> None:
    x = err(status, None)
    assert isinstance(x, e.UnknownOutcomeError) and not isinstance(x, e.RejectedError)


def test_backend_timeout_code_is_unknown_even_with_a_4xx_status() -> None:
    assert isinstance(
        err(400, -1007, "Timeout waiting for response from backend server."), e.UnknownOutcomeError
    )


def test_overloaded_503_did_not_execute_and_may_be_retried() -> None:
    assert isinstance(err(503, -1008, "Server is currently overloaded"), e.RetryableError)


def test_429_carries_retry_after_read_case_insensitively() -> None:
    x = err(429, -1003, "Too much request weight used", {"retry-after": "7"})
    assert isinstance(x, e.RateLimitedError) and x.retry_after_s == 7.0


def test_418_is_a_ban_with_its_length() -> None:
    x = err(
        418, -1003, "Way too much request weight used; IP banned until 1700000000000.", {"Retry-After": "120"}
    )
    assert isinstance(x, e.BannedError) and x.retry_after_s == 120.0


@pytest.mark.parametrize(("status", "code"), [(401, -2015), (401, -2014), (400, -1022), (401, None)])
def test_key_problems_are_fatal(status: int, code: int | None) -> None:
    x = err(status, code, "Invalid API-key, IP, or permissions for action.")
    assert isinstance(x, e.AuthError) and isinstance(x, e.FatalError)


def test_clock_skew_is_retryable_and_unknown_orders_are_rejects() -> None:
    assert isinstance(
        err(400, -1021, "Timestamp for this request is outside of the recvWindow."), e.ClockSkewError
    )
    assert isinstance(err(400, -2011, "Unknown order sent."), e.OrderNotFoundError)
    assert isinstance(err(400, -2013, "Order does not exist."), e.OrderNotFoundError)
    assert isinstance(err(400, -1125, "This listenKey does not exist."), e.ListenKeyError)


def test_unknown_symbol_is_a_configuration_error() -> None:
    assert isinstance(err(400, -1121, "Invalid symbol."), e.ConfigError)
