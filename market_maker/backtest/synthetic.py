"""Seeded synthetic candles for tests and benchmarks.

A geometric random walk per minute with volatility regimes (the volatility multiplier changes every
``regime_minutes``) and rare jumps; each candle opens at the previous close, and its high and low
reach beyond the body by a random wick. The same seed always gives the same candles (numpy's PCG64).
Floats are used only to *generate* the walk; the result is integer ticks and steps like real data.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from market_maker.backtest.candles import Candles

DEFAULT_START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def synthetic_candles(
    n: int,
    seed: int = 0,
    start_price: Decimal | str = "100000",
    tick_size: Decimal | str = "0.01",
    step_size: Decimal | str = "0.00001",
    volatility: float = 0.0006,
    regime_minutes: int = 1440,
    jump_probability: float = 0.0005,
    mean_volume: Decimal | str = "5",
    start_time_ms: int = DEFAULT_START_MS,
    interval_ms: int = 60_000,
) -> Candles:
    """``n`` candles of a seeded random walk starting at ``start_price``.

    ``volatility`` is the per-candle standard deviation of log returns in the calm regime;
    ``mean_volume`` the average base volume of one candle.
    """
    if n < 1:
        raise ValueError(f"synthetic_candles: n must be >= 1, got {n}")
    tick, step = Decimal(tick_size), Decimal(step_size)
    rng = np.random.default_rng(seed)
    n_regimes = n // max(regime_minutes, 1) + 1
    regime = rng.lognormal(mean=0.0, sigma=0.5, size=n_regimes)
    sigma = volatility * np.repeat(regime, max(regime_minutes, 1))[:n]
    returns = rng.standard_normal(n) * sigma
    jumps = rng.random(n) < jump_probability
    returns[jumps] += rng.standard_normal(int(jumps.sum())) * volatility * 20
    start = float(Decimal(start_price) / tick)
    close_f = start * np.exp(np.cumsum(returns))
    open_f = np.concatenate(([start], close_f[:-1]))
    wick_up = np.abs(rng.standard_normal(n)) * sigma * 0.6
    wick_dn = np.abs(rng.standard_normal(n)) * sigma * 0.6
    o = np.maximum(np.rint(open_f), 1).astype(np.int64)
    c = np.maximum(np.rint(close_f), 1).astype(np.int64)
    o[1:] = c[:-1]  # exact continuity after rounding
    h = np.maximum(np.rint(np.maximum(open_f, close_f) * np.exp(wick_up)).astype(np.int64), np.maximum(o, c))
    lo = np.minimum(
        np.rint(np.minimum(open_f, close_f) * np.exp(-wick_dn)).astype(np.int64), np.minimum(o, c)
    )
    lo = np.maximum(lo, 1)
    vol_steps = float(Decimal(mean_volume) / step)
    volume = np.rint(rng.lognormal(mean=0.0, sigma=0.8, size=n) * vol_steps * np.exp(-0.32)).astype(np.int64)
    times = start_time_ms + interval_ms * np.arange(n, dtype=np.int64)
    return Candles(times, o, h, lo, c, volume, tick, step, source=f"synthetic(seed={seed}, n={n})")
