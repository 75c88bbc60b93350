"""Per-candle market state that does not depend on our trading: risk triggers and the dynamic interval.

The core's :func:`~market_maker.core.risk.on_candle` (ATR, baseline ATR, volume average, the ATR-spike
and volume-spike triggers) and :func:`~market_maker.core.interval.next_interval` see only candles, never
our orders. So they are evaluated once per candle, by the core's own code, in one pass before the
replay, and the results are kept as arrays (value in force *after* each candle closes). The engine then
only needs the candles where one of them changes. The pass is cached per (candles, parameters): a
sweep over grid settings pays it once.

The dynamic interval moves only once the ATR has a full period (before that the base interval holds).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from market_maker.backtest.candles import Candles
from market_maker.core.interval import IntervalParams, next_interval
from market_maker.core.model import Candle
from market_maker.core.risk import RiskParams, on_candle, start_risk

_CACHE: OrderedDict[tuple[object, ...], MarketSeries] = OrderedDict()
_CACHE_SIZE = 8


@dataclass(frozen=True)
class MarketSeries:
    """Trading-independent state after each candle's close."""

    atr_spike: npt.NDArray[np.bool_]
    volume_spike: npt.NDArray[np.bool_]
    interval: npt.NDArray[np.int64]  # ticks
    changes: npt.NDArray[np.int64]  # candles whose close changes a trigger or the interval, ascending


def fingerprint(candles: Candles) -> str:
    """A content hash of the candles (cache key)."""
    h = hashlib.blake2b(digest_size=16)
    for col in (candles.open_time_ms, candles.open, candles.high, candles.low, candles.close, candles.volume):
        h.update(np.ascontiguousarray(col).tobytes())
    h.update(f"{candles.tick_size}/{candles.step_size}".encode())
    return h.hexdigest()


def market_series(
    candles: Candles, risk: RiskParams, base_interval: int, dynamic: IntervalParams | None
) -> MarketSeries:
    """Evaluate the core's candle-driven rules over every candle (cached)."""
    key = (fingerprint(candles), risk, base_interval, dynamic)
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    series = _compute(candles, risk, base_interval, dynamic)
    _CACHE[key] = series
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return series


def _compute(
    candles: Candles, risk: RiskParams, base_interval: int, dynamic: IntervalParams | None
) -> MarketSeries:
    n = len(candles)
    atr_spike = np.zeros(n, dtype=np.bool_)
    vol_spike = np.zeros(n, dtype=np.bool_)
    interval = np.full(n, base_interval, dtype=np.int64)
    state = start_risk(risk)
    current = base_interval
    dur = candles.interval_ms
    cols = zip(
        candles.open_time_ms.tolist(),
        candles.open.tolist(),
        candles.high.tolist(),
        candles.low.tolist(),
        candles.close.tolist(),
        candles.volume.tolist(),
        strict=True,
    )
    for j, (t, o, h, lo, c, v) in enumerate(cols):
        state = on_candle(state, Candle(t, o, h, lo, c, v, t + dur - 1), risk)
        atr_spike[j] = state.atr_spike
        vol_spike[j] = state.volume_spike
        if dynamic is not None and state.atr.ready:
            current = next_interval(current, state.atr.scaled, state.baseline_scaled, dynamic)
            interval[j] = current
    prev_a = np.concatenate(([False], atr_spike[:-1]))
    prev_v = np.concatenate(([False], vol_spike[:-1]))
    prev_i = np.concatenate(([base_interval], interval[:-1]))
    changes = np.flatnonzero((atr_spike != prev_a) | (vol_spike != prev_v) | (interval != prev_i)).astype(
        np.int64
    )
    return MarketSeries(atr_spike, vol_spike, interval, changes)
