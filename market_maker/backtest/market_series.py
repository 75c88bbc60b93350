"""Per-candle market state that does not depend on our trading: risk triggers and the dynamic interval.

The core's :func:`~market_maker.core.risk.on_candle` (ATR, baseline ATR, volume average, the ATR-spike
and volume-spike triggers) and :func:`~market_maker.core.interval.next_interval` see only candles, never
our orders. So they are evaluated for the whole history before the replay, by the core's whole-history
forms of the same rules (:mod:`market_maker.core.series`, tested equal to folding the per-candle
functions), and kept as arrays (value in force *after* each candle closes). The engine then only needs
the candles where one of them changes. The pass is cached per (candles, parameters): a sweep over grid
settings pays it once.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from market_maker.backtest.candles import Candles
from market_maker.core.interval import IntervalParams
from market_maker.core.risk import RiskParams
from market_maker.core.series import (
    baseline_series,
    candle_trigger_series,
    interval_series,
    true_ranges,
    wilder_series,
)

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
    opens, highs, lows = candles.open.tolist(), candles.high.tolist(), candles.low.tolist()
    closes, volumes = candles.close.tolist(), candles.volume.tolist()
    trs = true_ranges(highs, lows, closes)
    atr = wilder_series(trs, risk.atr_period)
    baseline = baseline_series(trs, risk)
    atr_spike_l, vol_spike_l = candle_trigger_series(opens, closes, volumes, atr, baseline, risk)
    atr_spike = np.asarray(atr_spike_l, dtype=np.bool_)
    vol_spike = np.asarray(vol_spike_l, dtype=np.bool_)
    if dynamic is not None:
        interval = np.asarray(
            interval_series(atr, baseline, risk.atr_period, dynamic, base_interval), dtype=np.int64
        )
    else:
        interval = np.full(len(candles), base_interval, dtype=np.int64)
    prev_a = np.concatenate(([False], atr_spike[:-1]))
    prev_v = np.concatenate(([False], vol_spike[:-1]))
    prev_i = np.concatenate(([base_interval], interval[:-1]))
    changes = np.flatnonzero((atr_spike != prev_a) | (vol_spike != prev_v) | (interval != prev_i)).astype(
        np.int64
    )
    return MarketSeries(atr_spike, vol_spike, interval, changes)
