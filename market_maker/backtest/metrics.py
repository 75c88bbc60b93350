"""Summary metrics of a backtest run.

Money figures (PnL, fees, turnover, equity) are exact Decimals rendered as strings; ratios and
statistics (return %, drawdown %, Sharpe, Sortino) are floats. Definitions:

* ``return_pct``: final equity / initial capital - 1, equity marked at the last close.
* ``max_drawdown_pct``: the largest fall of equity (per candle close) from its running **peak**.
* ``time_in_market_pct``: share of candles that closed with a position.
* ``turnover``: total traded notional; ``turnover_ratio`` that over the initial capital.
* ``sharpe`` / ``sortino``: on daily returns (equity at the last close of each UTC day, the first
  day measured from the initial capital), annualized with sqrt(365) (crypto trades every day), risk
  free rate 0; Sortino's downside deviation is the root mean square of the negative returns. ``None``
  with fewer than two days or no variation.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from market_maker.backtest.results import RunResult
from market_maker.core.model import Side

DAY_MS = 86_400_000


def daily_returns(
    time_ms: npt.NDArray[np.int64], equity: npt.NDArray[np.float64], start: float
) -> npt.NDArray[np.float64]:
    """Simple returns between consecutive UTC day closes, the first from ``start``."""
    if len(equity) == 0:
        return np.zeros(0)
    day = time_ms // DAY_MS
    last_of_day = np.flatnonzero(np.append(day[1:] != day[:-1], True))
    closes = np.concatenate(([start], equity[last_of_day]))
    prev = closes[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(prev != 0, closes[1:] / prev - 1.0, 0.0)
    return np.asarray(r, dtype=np.float64)


def sharpe_sortino(returns: npt.NDArray[np.float64]) -> tuple[float | None, float | None]:
    """Annualized Sharpe and Sortino ratios of daily returns (see the module docstring)."""
    if len(returns) < 2:
        return None, None
    mean = float(np.mean(returns))
    std = float(np.std(returns, ddof=1))
    sharpe = mean / std * math.sqrt(365) if std > 0 else None
    downside = float(np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2)))
    sortino = mean / downside * math.sqrt(365) if downside > 0 else None
    return sharpe, sortino


def max_drawdown(equity: npt.NDArray[np.float64]) -> tuple[float, float]:
    """(largest fall from the running peak in quote, the same as a percentage of that peak)."""
    if len(equity) == 0:
        return 0.0, 0.0
    peak = np.maximum.accumulate(equity)
    fall = peak - equity
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(peak > 0, fall / peak, 0.0)
    return float(fall.max()), float(pct.max() * 100.0)


def money(d: Decimal) -> str:
    """An exact Decimal as plain text without trailing zeros or exponent (``0.69850000`` -> ``0.6985``)."""
    return format(d.normalize(), "f") if d else "0"


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def summarize(run: RunResult) -> dict[str, Any]:
    """The run's summary as a flat dict (JSON-ready: Decimals as strings)."""
    c = run.candles
    equity = run.equity()
    unit = c.tick_size * c.step_size
    turnover = sum((unit * f.price * f.qty for f in run.fills), Decimal(0))
    cap = run.initial_capital
    final_eq = run.final_equity()
    dd_abs, dd_pct = max_drawdown(np.concatenate(([float(cap)], equity)))
    rets = daily_returns(c.open_time_ms, equity, float(cap))
    sharpe, sortino = sharpe_sortino(rets)
    wins = sum(1 for t in run.round_trips if t.pnl > 0)
    n_rt = len(run.round_trips)
    pos = run.position
    held = pos > 0
    return {
        "source": c.source,
        "candles": len(c),
        "start_ms": int(c.open_time_ms[0]) if len(c) else None,
        "end_ms": int(c.open_time_ms[-1]) + c.interval_ms if len(c) else None,
        "initial_capital": money(cap),
        "final_equity": money(final_eq),
        "return_pct": _r(float((final_eq / cap - 1) * 100) if cap else 0.0),
        "net_pnl": money(final_eq - cap),
        "realized_pnl": money(run.realized_pnl),
        "unrealized_pnl": money(run.unrealized_pnl),
        "fees": money(run.fees),
        "round_trips": n_rt,
        "wins": wins,
        "win_rate_pct": _r(100.0 * wins / n_rt) if n_rt else None,
        "fills": len(run.fills),
        "buy_fills": sum(1 for f in run.fills if f.side is Side.BUY),
        "sell_fills": sum(1 for f in run.fills if f.side is Side.SELL),
        "max_drawdown": _r(dd_abs, 8),
        "max_drawdown_pct": _r(dd_pct),
        "time_in_market_pct": _r(100.0 * float(held.mean())) if len(pos) else 0.0,
        "inventory_mean": _r(float(pos.mean()) * float(c.step_size), 8) if len(pos) else 0.0,  # a statistic
        "inventory_max": money(c.qty(int(pos.max()))) if len(pos) else "0",
        "inventory_final": money(c.qty(run.final_position)),
        "turnover": money(turnover),
        "turnover_ratio": _r(float(turnover / cap)) if cap else None,
        "sharpe": _r(sharpe),
        "sortino": _r(sortino),
        "orders_placed": run.counters.orders_placed,
        "post_only_rejects": run.counters.post_only_rejects,
        "balance_rejects": run.counters.balance_rejects,
        "filter_skips": run.counters.filter_skips,
        "cancels": run.counters.cancels,
        "interval_changes": run.counters.interval_changes,
        "risk_triggered_candles": run.counters.risk_triggered_candles,
        "halted_candles": run.counters.halted_candles,
        "cap_cancels": run.counters.cap_cancels,
        "stale_cancels": run.counters.stale_cancels,
        "tp_at_target": run.counters.tp_at_target,
        "tp_above_target": run.counters.tp_above_target,
        "tp_held": run.counters.tp_held,
        "tp_moved_up_passed": run.counters.tp_moved_up_passed,
        "tp_moved_up_away": run.counters.tp_moved_up_away,
        "params": dict(run.params),
    }


SUMMARY_ROWS = (
    ("Return %", "return_pct"),
    ("Initial capital", "initial_capital"),
    ("Final equity", "final_equity"),
    ("Net PnL", "net_pnl"),
    ("Realized PnL", "realized_pnl"),
    ("Unrealized PnL", "unrealized_pnl"),
    ("Fees", "fees"),
    ("Round trips", "round_trips"),
    ("Win rate %", "win_rate_pct"),
    ("Max drawdown % (from peak)", "max_drawdown_pct"),
    ("Time in market %", "time_in_market_pct"),
    ("Inventory mean / max / final", ("inventory_mean", "inventory_max", "inventory_final")),
    ("Turnover (x capital)", ("turnover", "turnover_ratio")),
    ("Sharpe (daily, ann.)", "sharpe"),
    ("Sortino (daily, ann.)", "sortino"),
    ("Fills (all / buy / sell)", ("fills", "buy_fills", "sell_fills")),
    ("Orders placed / post-only rejects / cancels", ("orders_placed", "post_only_rejects", "cancels")),
    ("Buys refused: insufficient balance", "balance_rejects"),
    ("Take-profits: at level + I / above / held", ("tp_at_target", "tp_above_target", "tp_held")),
    ("Take-profits moved up: passed / fell away", ("tp_moved_up_passed", "tp_moved_up_away")),
    ("Cancels: open-order cap / stale cleanup", ("cap_cancels", "stale_cancels")),
    ("Candles", "candles"),
)


def summary_pairs(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows of the human summary; missing values shown as ``-``."""
    pairs = []
    for label, key in SUMMARY_ROWS:
        keys = key if isinstance(key, tuple) else (key,)
        pairs.append(
            (label, " / ".join("-" if summary.get(k) is None else str(summary.get(k)) for k in keys))
        )
    return pairs


def summary_table(summary: dict[str, Any]) -> str:
    """The summary as an aligned two-column text table."""
    return "\n".join(f"{label:<46} {value}" for label, value in summary_pairs(summary))
