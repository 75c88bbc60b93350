"""One trial's evaluation: a pure function of (parameters, candles) that runs anywhere.

The driver ships a :class:`Bundle` (the candles and the base settings) to each worker once; a
:class:`Job` then carries only the trial's ``NAME=VALUE`` texts and the span of candles to replay. The
result is the backtest's summary metrics plus the grid's interval against the fee break-even on that
span (the money-sense rule of :mod:`market_maker.settings.money_sense`, at the span's highest close:
the break-even grows with the price). Same job, same bundle: same result, on any process or host.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from market_maker.backtest.candles import Candles
from market_maker.backtest.engine import run_backtest  # imported before the local pool forks
from market_maker.backtest.metrics import summarize
from market_maker.backtest.settings import BacktestSettings
from market_maker.settings.errors import ConfigError
from market_maker.settings.money_sense import break_even_interval, grid_interval

# the summary figures a trial keeps (objectives, constraints and the report read these)
KEPT = (
    "return_pct",
    "net_pnl",
    "realized_pnl",
    "fees",
    "round_trips",
    "win_rate_pct",
    "max_drawdown_pct",
    "sharpe",
    "sortino",
    "turnover_ratio",
    "fills",
    "time_in_market_pct",
)


@dataclass(frozen=True)
class Bundle:
    """What every trial reads and no trial changes: shipped to each worker once."""

    candles: Candles
    base: BacktestSettings


@dataclass(frozen=True)
class Job:
    """One backtest to run: a trial's overrides on candles ``[start, stop)``. ``key`` identifies it."""

    key: tuple[str, int]  # (study name, trial number)
    overrides: dict[str, str]
    start: int
    stop: int


@dataclass(frozen=True)
class Outcome:
    """A job's result: the kept metrics (floats, ints, None), or the one-line reason it could not run."""

    key: tuple[str, int]
    metrics: dict[str, Any]
    error: str | None = None


_SLICES: dict[tuple[int, int, int], Candles] = {}


def _span(bundle: Bundle, start: int, stop: int) -> Candles:
    # one Candles object per span and worker, so its fingerprint (the market-series cache key) is
    # computed once, not per trial
    key = (id(bundle.candles), start, stop)
    span = _SLICES.get(key)
    if span is None:
        if len(_SLICES) > 64:
            _SLICES.clear()
        span = _SLICES[key] = bundle.candles.slice(start, stop)
    return span


def evaluate(bundle: Bundle, job: Job) -> Outcome:
    """Run ``job`` on ``bundle``'s candles; a configuration the bot refuses is an Outcome with an error."""
    try:
        settings = bundle.base.with_overrides(job.overrides)
    except (ConfigError, ValueError) as exc:
        msg = exc.errors[0] if isinstance(exc, ConfigError) else str(exc)
        return Outcome(job.key, {}, msg)
    candles = _span(bundle, job.start, job.stop)
    summary = summarize(run_backtest(candles, settings))
    metrics = {k: summary.get(k) for k in KEPT}
    for k in ("net_pnl", "realized_pnl", "fees"):  # Decimal strings in the summary: floats for scoring
        text = metrics[k]
        metrics[k] = float(text) if text is not None else None
    cfg = settings.config
    tick = settings.params.rules.tick_size
    top = candles.price(int(candles.close.max())) if len(candles) else Decimal(0)
    maker = settings.fill_model().maker_fee
    _, interval = grid_interval(cfg)
    need = break_even_interval(top, maker, tick)
    metrics["interval"] = float(interval)
    metrics["break_even_interval"] = float(need)
    # in ticks, > 0 when the interval beats the fees (interval_warning's rule: interval > need)
    metrics["interval_margin_ticks"] = int((interval - need) / tick)
    return Outcome(job.key, metrics)
