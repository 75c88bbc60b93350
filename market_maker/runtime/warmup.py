"""Warm the ATR, its baseline and the dynamic interval up from REST klines before trading."""

from __future__ import annotations

import logging

from market_maker.core.interval import next_interval
from market_maker.core.params import TradingParams
from market_maker.core.risk import RiskState, on_candle, on_market_data, start_risk
from market_maker.exchange.base import Exchange

log = logging.getLogger(__name__)


def warm_up(
    exchange: Exchange, params: TradingParams, atr_interval: str, now_ms: int
) -> tuple[RiskState, int, int]:
    """(risk state, interval ticks, last closed candle's open time) after replaying recent closed klines.

    The klines just read count as market data at ``now_ms`` (the stale-data trigger starts clear).
    """
    need = (
        params.risk.atr_period + (params.risk.baseline_window if params.risk.baseline_atr is None else 0) + 1
    )
    candles = [c for c in exchange.klines(atr_interval, limit=min(max(need, 2), 1000)) if c.closed]
    risk = start_risk(params.risk)
    interval = params.interval
    last_open = 0
    for c in candles:
        risk = on_candle(risk, c, params.risk)
        if params.dynamic is not None:
            interval = next_interval(interval, risk.atr.scaled, risk.baseline_scaled, params.dynamic)
        last_open = c.open_time_ms
    risk = on_market_data(risk, now_ms)
    log.info(
        "warm-up: %d closed %s candles, ATR %s ticks, baseline %s, interval %s",
        len(candles),
        atr_interval,
        risk.atr.scaled // 1_000_000,
        risk.baseline_scaled // 1_000_000,
        params.rules.ticks_to_price(interval),
    )
    return risk, interval, last_open
