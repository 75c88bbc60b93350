"""Page through an exchange's REST ``klines`` endpoint: every closed candle in [start, end), oldest first.

Binance answers at most ``limit`` candles per request (1000 on spot, 1500 on USD-M; 1000 is used for
both) starting at ``startTime``. Each next page starts right after the previous page's last close
time, so a page never repeats a candle whatever the exchange does with a ``startTime`` inside a
candle; candles opening before ``start`` or at/after ``end``, and the one still forming, are left
out. Requests go through the connector's :class:`RestClient` with the weight limits that the
exchange's ``exchangeInfo`` announces, so its limiter paces them (and waits out a 429's Retry-After)
exactly as it does for the bot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from market_maker.core.model import Market
from market_maker.exchange.binance import MarketApi
from market_maker.exchange.errors import ExchangeError
from market_maker.exchange.ratelimit import limits_from_exchange_info
from market_maker.exchange.rest import RestClient
from market_maker.exchange.spot import SPOT_API
from market_maker.exchange.usdm import USDM_API

PAGE = 1000


def _api(market: Market) -> MarketApi:
    return SPOT_API if market is Market.SPOT else USDM_API


def rest_client(market: Market, base_url: str, timeout_s: float = 10.0) -> RestClient:
    """An unsigned client for the market's public endpoints (klines need no API key)."""
    return RestClient(base_url, "", "", time_path=_api(market).time.path, timeout_s=(3.05, timeout_s))


def _prepare(rest: RestClient, market: Market, symbol: str) -> int:
    """Adopt the exchange's weight limits and check that it lists ``symbol``; returns its clock (ms)."""
    api = _api(market)
    params = {"symbol": symbol} if market is Market.SPOT else {}
    info = rest.request("GET", api.exchange_info.path, params, weight=api.exchange_info.weight)
    if not isinstance(info, dict) or "serverTime" not in info:
        raise ExchangeError("malformed exchangeInfo answer", endpoint=api.exchange_info.path)
    rest.limiter.set_limits(limits_from_exchange_info(info.get("rateLimits", [])))
    if not any(isinstance(x, dict) and x.get("symbol") == symbol for x in info.get("symbols", [])):
        raise ExchangeError(f"the exchange does not list {symbol}", endpoint=api.exchange_info.path)
    return int(info["serverTime"])


def download_klines(
    rest: RestClient,
    market: Market,
    symbol: str,
    interval: str,
    start_ms: int,
    end_ms: int,
    limit: int = PAGE,
    progress: Callable[[int, int], None] | None = None,
) -> list[list[Any]]:
    """The exchange's 12-field kline rows for candles opening in [start_ms, end_ms), closed only.

    ``progress`` is told (candles so far, open time of the last one) after every page.
    """
    now = _prepare(rest, market, symbol)
    endpoint = _api(market).klines
    rows: list[list[Any]] = []
    at = start_ms
    while at < end_ms:
        page = rest.request(
            "GET",
            endpoint.path,
            {"symbol": symbol, "interval": interval, "startTime": at, "endTime": end_ms - 1, "limit": limit},
            weight=endpoint.weight,
        )
        if not isinstance(page, list):
            raise ExchangeError("malformed klines answer: not a list", endpoint=endpoint.path)
        last_open = int(rows[-1][0]) if rows else start_ms - 1
        for row in page:
            if not isinstance(row, list) or len(row) != 12:
                raise ExchangeError(f"malformed kline row {row!r}", endpoint=endpoint.path)
            t_open, t_close = int(row[0]), int(row[6])
            if last_open < t_open < end_ms and t_open >= start_ms and t_close < now:
                rows.append(row)
                last_open = t_open
        if progress is not None:
            progress(len(rows), last_open)
        if len(page) < limit:
            break  # the exchange has nothing more in the range
        next_at = int(page[-1][6]) + 1
        if next_at <= at:
            raise ExchangeError(f"klines paging made no progress at {at}", endpoint=endpoint.path)
        at = next_at
    return rows
