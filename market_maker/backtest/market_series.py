"""Per-candle market state that does not depend on our trading: risk triggers and the dynamic interval.

What a closed candle changes (ATR, baseline ATR, volume average, the ATR-spike and volume-spike
triggers, the dynamic interval) sees only candles, never our orders: the live risk actor applies it
candle by candle with the core's :func:`~market_maker.core.series.close_candle`. So here it is
evaluated for the whole history before the replay, by the core's whole-history forms of the same step
(:mod:`market_maker.core.series`; property tests prove this module's series equal to folding
``close_candle``), and kept as arrays (value in force *after* each candle closes). The engine then
only needs the candles where one of them changes. The pass is cached per (candles, parameters): a
sweep over grid settings pays it once.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from market_maker.backtest.candles import Candles
from market_maker.core.interval import IntervalParams
from market_maker.core.risk import RiskParams
from market_maker.core.series import (
    baseline_series,
    candle_trigger_series,
    candle_triggers_off,
    interval_series,
    true_ranges,
    wilder_series,
)

_CACHE: OrderedDict[tuple[object, ...], MarketSeries] = OrderedDict()
_CACHE_SIZE = 16


@dataclass(frozen=True)
class MarketSeries:
    """Trading-independent state after each candle's close."""

    atr_spike: npt.NDArray[np.bool_]
    volume_spike: npt.NDArray[np.bool_]
    interval: npt.NDArray[np.int64]  # ticks
    changes: npt.NDArray[np.int64]  # candles whose close changes a trigger or the interval, ascending
    dynamic: bool = True

    def with_base(self, base_interval: int) -> MarketSeries:
        """For a static interval: the same series with the interval column set to ``base_interval``."""
        if self.dynamic:
            return self
        interval = np.full(len(self.atr_spike), base_interval, dtype=np.int64)
        return MarketSeries(self.atr_spike, self.volume_spike, interval, self.changes, False)


def fingerprint(candles: Candles) -> str:
    """A content hash of the candles (cache key); computed once per :class:`Candles` (read-only columns).

    Hashing a year of candles takes ~25 ms, which was ~5 % of each warm run of a sweep.
    """
    known = candles.__dict__.get("_fingerprint")
    if known is None:
        known = candles.__dict__["_fingerprint"] = _fingerprint(candles)
    return str(known)


def _fingerprint(candles: Candles) -> str:
    h = hashlib.blake2b(digest_size=16)
    for col in (candles.open_time_ms, candles.open, candles.high, candles.low, candles.close, candles.volume):
        h.update(np.ascontiguousarray(col).tobytes())
    h.update(f"{candles.tick_size}/{candles.step_size}".encode())
    return h.hexdigest()


@dataclass(frozen=True)
class _Triggers:
    atr: list[int]  # ticks x SCALE after each risk candle
    baseline: list[int]
    atr_spike: npt.NDArray[np.bool_]
    volume_spike: npt.NDArray[np.bool_]
    ends: npt.NDArray[np.int64] | None  # per risk candle: index of its last data candle (None: the same)


_TRIGGERS: OrderedDict[tuple[object, ...], _Triggers] = OrderedDict()


def _cached(
    cache: OrderedDict[tuple[object, ...], Any], key: tuple[object, ...], make: Callable[[], Any]
) -> Any:
    hit = cache.get(key)
    if hit is not None:
        cache.move_to_end(key)
        return hit
    value = make()
    cache[key] = value
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return value


def aggregate(candles: Candles, candle_ms: int) -> tuple[Candles, npt.NDArray[np.int64]]:
    """Candles of ``candle_ms`` (UTC-aligned, as Binance builds them) from finer ones.

    Returns the aggregated candles and, for each, the index of its last source candle (where it
    closes). A last group cut short by the end of the data has not closed and is dropped.
    """
    step = candles.interval_ms
    if candle_ms % step:
        raise ValueError(f"risk candles of {candle_ms} ms cannot be built from {step} ms candles")
    t = candles.open_time_ms
    group = t // candle_ms
    starts = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1]))).astype(np.int64)
    ends = np.concatenate((starts[1:] - 1, [len(t) - 1])).astype(np.int64)
    keep = len(starts)
    if len(t) and t[-1] + step < (group[-1] + 1) * candle_ms:
        keep -= 1
    if keep == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Candles(empty, empty, empty, empty, empty, empty, candles.tick_size, candles.step_size), empty
    # reduce over every group, then drop the unclosed one: a group's reduceat runs up to the next start,
    # so with the last start dropped first the last closed group would take in the unclosed one's candles
    agg = Candles(
        group[starts[:keep]] * candle_ms,
        candles.open[starts[:keep]],
        np.maximum.reduceat(candles.high, starts)[:keep],
        np.minimum.reduceat(candles.low, starts)[:keep],
        candles.close[ends[:keep]],
        np.add.reduceat(candles.volume, starts)[:keep],
        candles.tick_size,
        candles.step_size,
        candles.source,
    )
    return agg, ends[:keep]


def market_series(
    candles: Candles,
    risk: RiskParams,
    base_interval: int,
    dynamic: IntervalParams | None,
    risk_candle_ms: int = 0,
) -> MarketSeries:
    """Evaluate the core's candle-driven rules over every candle (cached).

    ``risk_candle_ms`` is the length of the candles the live risk actor reads (``risk.atr_interval``);
    when it is longer than the data's, the rules run on candles aggregated to it, and their values
    apply from the data candle that closes each one. The triggers depend only on the candles and the
    risk settings, so a sweep over grid settings computes them once.
    """
    if dynamic is None and candle_triggers_off(risk):
        # nothing the pass computes can matter: no trigger can fire and the interval stays the base
        n = len(candles)
        off = np.zeros(n, dtype=np.bool_)
        return MarketSeries(
            off, off.copy(), np.full(n, base_interval, np.int64), np.zeros(0, np.int64), False
        )
    fp = fingerprint(candles)
    agg_ms = risk_candle_ms if risk_candle_ms and risk_candle_ms != candles.interval_ms else 0
    trig: _Triggers = _cached(_TRIGGERS, (fp, risk, agg_ms), lambda: _triggers(candles, risk, agg_ms))
    key = (fp, risk, agg_ms, base_interval if dynamic is not None else 0, dynamic)
    return _cached(_CACHE, key, lambda: _series(len(candles), trig, risk, base_interval, dynamic)).with_base(
        base_interval
    )


def _triggers(candles: Candles, risk: RiskParams, agg_ms: int) -> _Triggers:
    ends = None
    if agg_ms:
        candles, ends = aggregate(candles, agg_ms)
    opens, highs, lows = candles.open.tolist(), candles.high.tolist(), candles.low.tolist()
    closes, volumes = candles.close.tolist(), candles.volume.tolist()
    trs = true_ranges(highs, lows, closes)
    atr = wilder_series(trs, risk.atr_period)
    baseline = baseline_series(trs, risk)
    atr_spike, vol_spike = candle_trigger_series(opens, closes, volumes, atr, baseline, risk)
    return _Triggers(
        atr, baseline, np.asarray(atr_spike, dtype=np.bool_), np.asarray(vol_spike, dtype=np.bool_), ends
    )


def _series(
    n: int, trig: _Triggers, risk: RiskParams, base_interval: int, dynamic: IntervalParams | None
) -> MarketSeries:
    atr_spike, vol_spike = trig.atr_spike, trig.volume_spike
    if dynamic is not None:
        interval = np.asarray(
            interval_series(trig.atr, trig.baseline, risk.atr_period, dynamic, base_interval), dtype=np.int64
        )
    else:
        interval = np.zeros(len(atr_spike), dtype=np.int64)  # static: set to the base by with_base()
    if trig.ends is not None:  # risk candles -> data candles: a value holds from its closing candle on
        before = np.searchsorted(trig.ends, np.arange(n), side="right") - 1
        seen = before >= 0
        idx = np.maximum(before, 0)
        none = len(atr_spike) == 0
        atr_spike = np.zeros(n, np.bool_) if none else np.where(seen, atr_spike[idx], False)
        vol_spike = np.zeros(n, np.bool_) if none else np.where(seen, vol_spike[idx], False)
        start = base_interval if dynamic is not None else 0
        interval = (
            np.full(n, start, np.int64) if none else np.where(seen, interval[idx], start).astype(np.int64)
        )
    prev_a = np.concatenate(([False], atr_spike[:-1]))
    prev_v = np.concatenate(([False], vol_spike[:-1]))
    prev_i = np.concatenate((interval[:1] if dynamic is None else [base_interval], interval[:-1]))
    changes = np.flatnonzero((atr_spike != prev_a) | (vol_spike != prev_v) | (interval != prev_i)).astype(
        np.int64
    )
    return MarketSeries(atr_spike, vol_spike, interval, changes, dynamic is not None)
