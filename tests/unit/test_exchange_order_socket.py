"""The order socket reads a WebSocket API answer's rate limits as the REST limiter reads headers."""

from __future__ import annotations

from market_maker.exchange.order_socket import OrderSocket, _limit_headers
from market_maker.exchange.ratelimit import RateLimiter


def test_rate_limits_and_retry_after_become_the_headers_the_limiter_reads() -> None:
    answer = {
        "status": 429,
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 6000,
                "count": 6001,
            },
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100, "count": 7},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "count": 9},
        ],
    }
    error = {"code": -1003, "msg": "Too much request weight used", "data": {"retryAfter": 1_000_012_500}}
    headers = _limit_headers(answer, error, now_ms=1_000_000_000)
    assert headers == {"X-MBX-USED-WEIGHT-1M": "6001", "X-MBX-ORDER-COUNT-10S": "7", "Retry-After": "13"}
    limiter = RateLimiter()
    limiter.observe(429, headers)
    assert limiter.used("weight", 60) == 6001 and limiter.stats["rate_limited"] == 1


def test_the_api_path_is_added_per_market_once() -> None:
    assert (
        OrderSocket.url_for("wss://ws-api.binance.com:443", usdm=False)
        == "wss://ws-api.binance.com:443/ws-api/v3"
    )
    assert OrderSocket.url_for("wss://ws-api.binance.com:443/ws-api/v3/", usdm=False).endswith(
        ":443/ws-api/v3"
    )
    assert OrderSocket.url_for("ws://127.0.0.1:9000", usdm=True) == "ws://127.0.0.1:9000/ws-fapi/v1"
