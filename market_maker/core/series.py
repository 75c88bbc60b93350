"""The market state after each closed candle: one per-candle step, and its whole-history form.

What a closed candle changes does not depend on our trading: the ATR, the baseline ATR, the volume
average, the ATR-spike and volume-spike triggers (:func:`~market_maker.core.risk.on_candle`) and the
dynamic interval (:func:`~market_maker.core.interval.interval_after_close`: unchanged until the ATR has
a full period, then the clamped, tick-rounded rule with hysteresis). :func:`close_candle` is that one
step; the live risk actor calls it on every closed candle, and the start-up warm-up folds it over the
recent history (:func:`close_candles`).

A backtest must not build a state object per candle, so the rest of this module runs the *same* rules
over whole columns of closed candles in tight loops of plain integers. Property tests check that each
series equals folding :func:`close_candle`, value for value, so live trading and backtests cannot drift
apart.

Element ``i`` of every series is the value *after* candle ``i`` closed (what applies to candle ``i+1``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction

from market_maker.core.atr import SCALE
from market_maker.core.interval import IntervalParams, interval_after_close
from market_maker.core.model import Candle
from market_maker.core.risk import RiskParams, RiskState, on_candle


def close_candle(
    risk: RiskState, interval: int, candle: Candle, params: RiskParams, dynamic: IntervalParams | None
) -> tuple[RiskState, int]:
    """(risk state, interval ticks) after one more *closed* candle.

    ``dynamic`` None is a static interval: it stays ``interval``.
    """
    risk = on_candle(risk, candle, params)
    if dynamic is not None:
        interval = interval_after_close(interval, risk.atr, risk.baseline_scaled, dynamic)
    return risk, interval


def close_candles(
    risk: RiskState,
    interval: int,
    candles: Iterable[Candle],
    params: RiskParams,
    dynamic: IntervalParams | None,
) -> tuple[RiskState, int]:
    """:func:`close_candle` folded over ``candles`` in order."""
    for candle in candles:
        risk, interval = close_candle(risk, interval, candle, params, dynamic)
    return risk, interval


def warm_up_candles(params: RiskParams) -> int:
    """How many closed candles make the ATR, and a rolling baseline, ready (a warm-up reads that many)."""
    rolling = params.baseline_window if params.baseline_atr is None else 0
    return params.atr_period + rolling + 1


def true_ranges(highs: Sequence[int], lows: Sequence[int], closes: Sequence[int]) -> list[int]:
    """Wilder's true range of each candle (ticks); the first uses ``high - low``."""
    out = []
    prev: int | None = None
    for h, lo, c in zip(highs, lows, closes, strict=True):
        out.append(h - lo if prev is None else max(h, prev) - min(lo, prev))
        prev = c
    return out


def wilder_series(samples: Sequence[int], period: int) -> list[int]:
    """Wilder average (x ``SCALE``) after each sample; plain mean until ``period`` samples were seen."""
    if period < 1:
        raise ValueError(f"average period must be >= 1, got {period}")
    out = []
    value = 0
    total = 0
    for n, x in enumerate(samples, 1):
        if n <= period:
            total += x
            value = (2 * total * SCALE + n) // (2 * n)
        else:
            value = (2 * (value * (period - 1) + x * SCALE) + period) // (2 * period)
        out.append(value)
    return out


def baseline_series(trs: Sequence[int], params: RiskParams) -> list[int]:
    """Baseline ATR (x ``SCALE``) after each candle: the fixed one, or the rolling one once ready (else 0)."""
    if params.baseline_atr is not None:
        return [params.baseline_atr] * len(trs)
    window = params.baseline_window
    return [v if i + 1 >= window else 0 for i, v in enumerate(wilder_series(trs, window))]


def interval_series(
    atr: Sequence[int], baseline: Sequence[int], atr_period: int, params: IntervalParams, start: int
) -> list[int]:
    """The dynamic interval (ticks) after each candle, starting from ``start``, with hysteresis.

    Before the ATR has seen ``atr_period`` candles the interval stays where it is. Same rule as
    :func:`~market_maker.core.interval.interval_after_close`, inlined for speed (tested equal).
    """
    lo, hi = params.min_interval, params.max_interval
    g_num, g_den = params.gain_ratio
    h_num, h_den = params.hysteresis_ratio
    base_target = params.clamp(params.base)
    cur = start
    out = [cur] * min(len(atr), max(atr_period - 1, 0))
    for a, b in zip(atr[len(out) :], baseline[len(out) :], strict=True):
        if cur < lo or cur > hi:
            cur = lo if cur < lo else hi
        else:
            if b <= 0:
                target = base_target
            else:
                target = (2 * g_num * a + g_den * b) // (2 * g_den * b)
                target = lo if target < lo else hi if target > hi else target
            if target != cur and (target in (lo, hi) or abs(target - cur) * h_den > h_num * cur):
                cur = target
        out.append(cur)
    return out


def candle_triggers_off(params: RiskParams) -> bool:
    """True when neither candle trigger can ever fire (both multiples 0: the rules are off), so their
    series are all False whatever the candles (the ``> 0`` guards of ``risk.on_candle``)."""
    return not params.atr_spike_multiple > 0 and not params.volume_spike_multiple > 0


def candle_trigger_series(
    opens: Sequence[int],
    closes: Sequence[int],
    volumes: Sequence[int],
    atr: Sequence[int],
    baseline: Sequence[int],
    params: RiskParams,
) -> tuple[list[bool], list[bool]]:
    """The candle-based risk triggers after each candle: (ATR spike, volume spike on a falling candle).

    ``atr`` and ``baseline`` are the series from :func:`wilder_series` / :func:`baseline_series`.
    """
    if candle_triggers_off(params):
        return [False] * len(opens), [False] * len(opens)
    vol_avg = wilder_series(volumes, params.volume_period)
    a_mult = Fraction(params.atr_spike_multiple)
    v_mult = Fraction(params.volume_spike_multiple)
    a_num, a_den = a_mult.numerator, a_mult.denominator
    v_num, v_den = v_mult.numerator, v_mult.denominator
    atr_from = params.atr_period - 1
    vol_from = params.volume_period
    atr_out = []
    vol_out = []
    for i in range(len(opens)):
        b = baseline[i]
        atr_out.append(a_num > 0 and i >= atr_from and b > 0 and atr[i] * a_den > a_num * b)
        vol_out.append(
            v_num > 0
            and i >= vol_from
            and closes[i] < opens[i]
            and volumes[i] * SCALE * v_den > v_num * vol_avg[i - 1]
        )
    return atr_out, vol_out
