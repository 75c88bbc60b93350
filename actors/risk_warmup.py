"""The risk actor's start state: the ATR, its baseline and the dynamic interval warmed up from REST klines.

Run once at start-up, before any actor: the recent closed candles go through the same per-candle step
the risk actor applies to each live candle (:func:`market_maker.core.series.close_candle`), so the bot
trades from its first tick on the interval and triggers those candles call for.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from market_maker.core.risk import RiskState, on_market_data, start_risk
from market_maker.core.series import close_candles, warm_up_candles
from market_maker.ops.heartbeat import atr_price

if TYPE_CHECKING:
    from market_maker.core.params import TradingParams
    from market_maker.exchange.base import Exchange

log = logging.getLogger("market_maker.risk")

KLINES_LIMIT = 1000  # the most klines Binance returns for one request


def warm_up(
    exchange: Exchange, params: TradingParams, atr_interval: str, now_ms: int
) -> tuple[RiskState, int, int]:
    """(risk state, interval ticks, last closed candle's open time) after replaying recent closed klines.

    The klines just read count as market data at ``now_ms`` (the stale-data trigger starts clear).
    """
    limit = min(warm_up_candles(params.risk), KLINES_LIMIT)
    candles = [c for c in exchange.klines(atr_interval, limit=limit) if c.closed]
    risk, interval = close_candles(
        start_risk(params.risk), params.interval, candles, params.risk, params.dynamic
    )
    risk = on_market_data(risk, now_ms)
    log.info(
        "warm-up: %d closed %s candles, ATR %s, baseline ATR %s, interval %s",
        len(candles),
        atr_interval,
        atr_price(params.rules, risk.atr.scaled),
        atr_price(params.rules, risk.baseline_scaled),
        params.rules.ticks_to_price(interval),
    )
    return risk, interval, candles[-1].open_time_ms if candles else 0
