"""The optimization's result as JSON-ready data and as text for the terminal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from market_maker.backtest.optimize.space import SearchSpace

if TYPE_CHECKING:
    from market_maker.backtest.optimize.runner import OptimizeResult, WindowResult

SHOWN = ("return_pct", "max_drawdown_pct", "round_trips", "sharpe", "fees")


def day(ms: int) -> str:
    """UTC date and time of a candle's open, to the minute."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def _window(r: WindowResult, result: OptimizeResult) -> dict[str, Any]:
    t = result.candles.open_time_ms
    w = r.window
    return {
        "window": w.index,
        "train": [day(int(t[w.train_start])), day(int(t[w.train_stop - 1]))],
        "test": [day(int(t[w.test_start])), day(int(t[w.test_stop - 1]))],
        "train_candles": w.train_stop - w.train_start,
        "test_candles": w.test_stop - w.test_start,
        "trial": r.trial.number if r.trial is not None else None,
        "chosen": r.overrides,
        "feasible_in_sample": r.feasible_in,
        "feasible_out_of_sample": r.feasible_out,
        "in_sample": {k: r.in_sample.get(k) for k in SHOWN},
        "out_of_sample": {k: r.out_sample.get(k) for k in SHOWN},
        "note": r.note,
    }


def result_json(result: OptimizeResult, space: SearchSpace, recommended: str) -> dict[str, Any]:
    """The result as plain data (the ``--json`` output and the report's ``result.json``)."""
    chosen = result.chosen
    return {
        "study": result.name,
        "candles": len(result.candles),
        "objectives": [{"metric": o.metric, "minimize": o.minimize} for o in space.objectives],
        "walk_forward": [_window(r, result) for r in result.windows],
        "recommended": {
            "file": recommended,
            "trial": chosen.number if chosen is not None else None,
            "values": result.overrides,
            "feasible": result.chosen_feasible,
            "scores": {k: (chosen.user_attrs.get("metrics", {}) if chosen else {}).get(k) for k in SHOWN},
        },
        "executor": result.executor,
        "workers": result.workers,
        "trials_run": result.trials_run,
        "candles_replayed": result.candles_replayed,
        "seconds": round(result.seconds, 3),
        "trials_x_candles_per_second": round(result.throughput),
    }


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def result_text(result: OptimizeResult, space: SearchSpace) -> str:
    """Walk-forward table and the recommendation, aligned for a terminal."""
    lines = []
    if result.windows:
        lines.append("walk-forward (in sample -> out of sample)")
        lines.append(f"{'win':<4}{'test from':<18}" + "".join(f"{k:>26}" for k in SHOWN[:3]) + "  chosen")
        for r in result.windows:
            t = result.candles.open_time_ms
            cells = "".join(
                f"{_fmt(r.in_sample.get(k)) + ' -> ' + _fmt(r.out_sample.get(k)):>26}" for k in SHOWN[:3]
            )
            chosen = ", ".join(f"{k}={v}" for k, v in r.overrides.items())
            lines.append(f"{r.window.index:<4}{day(int(t[r.window.test_start])):<18}{cells}  {chosen}")
    if result.chosen is not None:
        m = result.chosen.user_attrs.get("metrics", {})
        lines.append(
            f"recommended (trial {result.chosen.number} of the whole-history study"
            f"{'' if result.chosen_feasible else ', INFEASIBLE'}): "
            + ", ".join(f"{k}={v}" for k, v in result.overrides.items())
        )
        lines.append("  " + ", ".join(f"{k} {_fmt(m.get(k))}" for k in SHOWN))
    return "\n".join(lines)
