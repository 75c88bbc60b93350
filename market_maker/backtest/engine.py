"""The backtest engine: replay candles through the core's strategy, slot book, PnL and risk rules.

Nothing here decides what to trade. At each *event* the engine asks the core
(:func:`~market_maker.core.quiet.evaluate`: the strategy's actions and the quiet band from one pass),
carries out the actions as an exchange would under the fill model (:mod:`.fill_model`), and feeds the
outcomes back through the core's transitions (``submit``/``ack``/``reject``, ``apply_fill``,
``cancelled``) and risk updates (``on_round_trip``, ``on_equity``, ``on_clock``).

Time and price: each candle is played as its four waypoints (see :mod:`.fill_model`) at open time +
0, 1/4, 2/4 and 3/4 of the candle; its close is processed at its close time. At a waypoint: resting
orders the move crossed fill first (best price first), then the strategy acts at that price.

Speed without a second rule book: after each event the core's quiet band says which prices change
nothing. The engine finds the next candle that leaves the band with a vectorized numpy search and
skips every candle before it. The band starts as the current center cell; when a candle leaves it,
the core is asked to grow it over the cells that candle reaches (:func:`~market_maker.core.quiet.widen`,
one probe strategy pass per new cell, proofs remembered while the book stays the same), and only a
cell that is not quiet makes an event. Other reasons to stop: a trigger or the dynamic interval changes at a
candle's close (precomputed by the core in :mod:`.market_series`), a back-off or a circuit-breaker
cooldown ends, a gap in the data longer than the stale-price limit, or a candle whose close could trip
the drawdown breaker (screened in float with a safety margin, decided by the core's ``on_equity``).
Equity for the breaker is checked at candle closes.
"""

from __future__ import annotations

import gc
from decimal import Decimal

import numpy as np

from market_maker.backtest.candles import Candles
from market_maker.backtest.errors import BacktestError
from market_maker.backtest.market_series import MarketSeries, market_series
from market_maker.backtest.replay import Replay
from market_maker.backtest.results import RunResult
from market_maker.backtest.settings import BacktestSettings

__all__ = ["BacktestError", "run_backtest"]


def _next_exit(
    lows: list[int],
    highs: list[int],
    low: np.ndarray,
    high: np.ndarray,
    start: int,
    stop: int,
    lo: int,
    hi: int,
) -> int:
    """First index in ``start..stop-1`` with ``low <= lo`` or ``high >= hi``; ``stop`` if none.

    ``lows``/``highs`` are ``low``/``high`` as lists: nineteen searches in twenty end within 64
    candles, and a compiled loop over a list reads a candle in nanoseconds, where each numpy call
    costs about a microsecond of fixed overhead (the longer spans are searched in numpy chunks).
    """
    a = min(start + 64, stop)
    for i in range(start, a):
        if lows[i] <= lo or highs[i] >= hi:
            return i
    size = 256
    while a < stop:
        b = min(a + size, stop)
        hit = (low[a:b] <= lo) | (high[a:b] >= hi)
        i = int(hit.argmax())  # the first True; 0 when there is none
        if hit[i]:
            return a + i
        a = b
        size = min(size * 4, 1 << 16)
    return stop


def run_backtest(
    candles: Candles,
    settings: BacktestSettings,
    progress: bool = False,
    series: MarketSeries | None = None,
    exhaustive: bool = False,
) -> RunResult:
    """Replay ``candles`` through the core with ``settings``; ``progress`` shows a tqdm bar.

    ``series`` lets a caller pass precomputed market series (otherwise computed and cached here).
    ``exhaustive`` asks the core at every waypoint and every close instead of skipping quiet ones:
    slow, and by construction the same result (the tests check that it is).
    """
    cp = settings.params
    if candles.tick_size != cp.rules.tick_size or candles.step_size != cp.rules.step_size:
        raise ValueError(
            f"{candles.source}: candles are in tick {candles.tick_size} / step {candles.step_size}, "
            f"settings say {cp.rules.tick_size} / {cp.rules.step_size}"
        )
    ms = (
        series
        if series is not None
        else market_series(candles, cp.risk, cp.interval, cp.dynamic, cp.risk_candle_ms)
    )
    r = Replay(candles, settings, cp, ms, exhaustive)
    # The run allocates many short-lived immutable books and tuples and makes no reference cycles
    # the cyclic collector would have to find: without it the replay runs a few percent faster.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _replay(r, candles, progress, exhaustive)
    finally:
        if collecting:
            gc.enable()
    return _result(r)


def _replay(r: Replay, candles: Candles, progress: bool, exhaustive: bool) -> None:
    """Play every candle that needs the core; skip the quiet ones (see the module docstring)."""
    cp = r.cp
    ms = r.ms
    n = len(candles)
    low, high = candles.low, candles.high
    lows, highs = candles.low_high_lists  # for the short searches (see _next_exit)
    times = candles.open_time_ms
    close_times = times + candles.interval_ms - 1  # a deadline may fall after the last waypoint
    stale_ms = cp.risk.stale_price_ms
    # Trades run through every candle; only missing candles leave the market silent.
    silent = np.diff(times) - candles.interval_ms
    gaps = np.flatnonzero(silent > stale_ms) + 1 if stale_ms > 0 else np.zeros(0, np.int64)
    gap_set = set(gaps.tolist())
    # candles that need the core whatever the price does: a trigger or the interval changes at their
    # close, or a data gap before them; ascending, walked with a pointer as j only grows
    scheduled = sorted(gap_set.union(ms.changes.tolist()))
    k = 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n, unit="candle", unit_scale=True, desc="backtest", mininterval=0.5)
    j = 0
    done = 0
    while j < n:
        r.candle(j, j in gap_set)
        j += 1
        if j >= n or exhaustive:
            continue
        # Where is the next candle that needs the core? Everything before it is quiet.
        while k < len(scheduled) and scheduled[k] < j:
            k += 1
        stop = scheduled[k] if k < len(scheduled) else n
        until = r.band.until_ms
        if r.risk.halted and r.risk.halted_until_ms:
            until = r.risk.halted_until_ms if until is None else min(until, r.risk.halted_until_ms)
        if until is not None:
            stop = min(stop, max(j, int(np.searchsorted(close_times, until))))
        exit_ = _next_exit(lows, highs, low, high, j, stop, r.band.lo, r.band.hi)
        while exit_ < stop and r.widen_to(exit_):
            # the core proved the cells that candle reaches quiet too: search on with the wider band
            exit_ = _next_exit(lows, highs, low, high, exit_ + 1, stop, r.band.lo, r.band.hi)
        j = max(j, r.skip_quiet(j, exit_))
        if bar is not None and j - done >= 4096:
            bar.update(j - done)
            done = j
    if bar is not None:
        bar.update(n - done)
        bar.close()


def _result(r: Replay) -> RunResult:
    c = r.c
    n = len(c)
    idx = np.asarray(r.mark_idx, dtype=np.int64)
    at = np.searchsorted(idx, np.arange(n), side="right") - 1
    pos_marks = np.asarray(r.mark_pos, dtype=np.int64)
    cash_marks = np.asarray(r.mark_cash, dtype=np.float64)
    position = np.where(at >= 0, pos_marks[np.maximum(at, 0)], 0).astype(np.int64)
    cash = np.where(at >= 0, cash_marks[np.maximum(at, 0)], float(r.s.initial_capital))
    halted = np.asarray(r.mark_halted, dtype=np.bool_)
    counters = r.counted()
    counters.halted_candles = int(np.count_nonzero(np.where(at >= 0, halted[np.maximum(at, 0)], False)))
    counters.risk_triggered_candles = int(np.count_nonzero(r.ms.atr_spike | r.ms.volume_spike))
    counters.tp_held = sum(1 for s in r.book if s.held > 0)
    last = int(c.close[-1]) if n else 0
    return RunResult(
        candles=c,
        initial_capital=r.s.initial_capital,
        fills=r.fills,
        round_trips=r.trips,
        position=position,
        cash=cash,
        final_cash=r.cash,
        realized_pnl=r.realized,
        unrealized_pnl=r.book.unrealized_pnl(last, r.rules) if n else Decimal(0),
        fees=r.fees,
        interval=r.ms.interval.copy(),
        counters=counters,
        params=r.s.as_strings(),
    )
