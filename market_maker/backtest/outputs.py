"""Write a run's results: summary JSON and text, fills CSV, equity CSV.

Prices and quantities are written as exact Decimal strings; the equity CSV's equity and drawdown
columns are statistics (floats, 8 decimals).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from market_maker.backtest.metrics import summary_table
from market_maker.backtest.results import RunResult

FILLS_HEADER = (
    "time_ms",
    "candle",
    "side",
    "price",
    "qty",
    "notional",
    "fee",
    "liquidity",
    "level",
    "client_id",
)
EQUITY_HEADER = ("time_ms", "close", "position", "cash", "equity", "drawdown_pct", "interval")


def write_fills_csv(run: RunResult, path: Path) -> None:
    """One row per fill, in time order."""
    c = run.candles
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(FILLS_HEADER)
        for f in run.fills:
            price, qty = c.price(f.price), c.qty(f.qty)
            w.writerow(
                (
                    f.time_ms,
                    f.candle,
                    f.side.value,
                    price,
                    qty,
                    price * qty,
                    f.fee,
                    "maker" if f.is_maker else "taker",
                    c.price(f.level),
                    f.client_id,
                )
            )


def write_equity_csv(run: RunResult, path: Path, every: int = 1) -> None:
    """Equity at each candle close (or every ``every``-th candle, plus the last one)."""
    c = run.candles
    n = len(c)
    equity = run.equity()
    peak = np.maximum.accumulate(np.maximum(equity, float(run.initial_capital)))
    dd = np.where(peak > 0, (peak - equity) / peak * 100.0, 0.0)
    idx = np.arange(0, n, max(every, 1))
    if n and idx[-1] != n - 1:
        idx = np.append(idx, n - 1)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(EQUITY_HEADER)
        for i in idx:
            w.writerow(
                (
                    int(c.open_time_ms[i]) + c.interval_ms,
                    c.price(int(c.close[i])),
                    c.qty(int(run.position[i])),
                    f"{run.cash[i]:.8f}",
                    f"{equity[i]:.8f}",
                    f"{dd[i]:.4f}",
                    c.price(int(run.interval[i])),
                )
            )


def write_summary(summary: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    """``summary.json`` and ``summary.txt`` (the table) in ``directory``."""
    js = directory / "summary.json"
    js.write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n")
    txt = directory / "summary.txt"
    txt.write_text(summary_table(summary) + "\n")
    return js, txt
