"""Backtest outputs: summary metrics by hand, market series against the core, report files."""

from __future__ import annotations

import csv
import json
import math
from decimal import Decimal as D
from pathlib import Path

import numpy as np

from market_maker.backtest.engine import run_backtest
from market_maker.backtest.market_series import market_series
from market_maker.backtest.metrics import (
    daily_returns,
    max_drawdown,
    sharpe_sortino,
    summarize,
    summary_table,
)
from market_maker.backtest.report import write_report
from market_maker.backtest.settings import BacktestSettings
from market_maker.backtest.synthetic import synthetic_candles
from market_maker.core.model import Candle
from market_maker.core.risk import start_risk
from market_maker.core.series import close_candle


def test_drawdown_is_measured_from_the_peak_not_the_start() -> None:
    # start 100, peak 150, trough 120: 20% from the peak (only -0% from the start)
    quote, pct = max_drawdown(np.array([100.0, 150.0, 120.0, 140.0]))
    assert quote == 30.0 and math.isclose(pct, 20.0)


def test_daily_returns_sharpe_and_sortino_by_hand() -> None:
    day = 86_400_000
    t = np.array([0, day // 2, day, 2 * day, 3 * day], dtype=np.int64)
    equity = np.array([99.0, 110.0, 121.0, 108.9, 119.79])  # day closes: 110, 121, 108.9, 119.79
    r = daily_returns(t, equity, 100.0)
    assert np.allclose(r, [0.10, 0.10, -0.10, 0.10])
    sharpe, sortino = sharpe_sortino(r)
    mean, sd = 0.05, float(np.std([0.1, 0.1, -0.1, 0.1], ddof=1))
    assert sharpe is not None and math.isclose(sharpe, mean / sd * math.sqrt(365))
    assert sortino is not None and math.isclose(sortino, mean / math.sqrt(0.01 / 4) * math.sqrt(365))
    assert sharpe_sortino(np.array([0.01])) == (None, None)


def test_market_series_equals_folding_the_core_per_candle() -> None:
    c = synthetic_candles(3000, seed=5, volatility=0.002)
    s = BacktestSettings().with_overrides(
        {"dynamic_interval": "true", "price_interval": "50", "baseline_window": "60", "atr_period": "10"}
    )
    cp = s.params
    assert cp.dynamic is not None
    ms = market_series(c, cp.risk, cp.interval, cp.dynamic)
    state = start_risk(cp.risk)
    cur = cp.interval
    for j in range(len(c)):
        state, cur = close_candle(state, cur, c.candle(j), cp.risk, cp.dynamic)
        assert (bool(ms.atr_spike[j]), bool(ms.volume_spike[j]), int(ms.interval[j])) == (
            state.atr_spike,
            state.volume_spike,
            cur,
        ), j
    assert len(set(ms.interval.tolist())) > 1 and ms.volume_spike.any()
    assert isinstance(c.candle(0), Candle)


def test_report_files(tmp_path: Path) -> None:
    c = synthetic_candles(4000, seed=2)
    run = run_backtest(c, BacktestSettings().with_overrides({"price_interval": "60"}))
    summary = summarize(run)
    paths = write_report(run, summary, tmp_path / "out")
    names = sorted(p.name for p in paths)
    assert names == ["equity.csv", "fills.csv", "report.html", "report.png", "summary.json", "summary.txt"]
    out = tmp_path / "out"
    loaded = json.loads((out / "summary.json").read_text())
    assert loaded["round_trips"] == len(run.round_trips) and D(loaded["fees"]) == run.fees
    with (out / "fills.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(run.fills)
    assert sum(D(r["fee"]) for r in rows) == run.fees
    assert {r["side"] for r in rows} == {"BUY", "SELL"}
    with (out / "equity.csv").open() as fh:
        eq = list(csv.DictReader(fh))
    assert len(eq) == len(c)
    final = D(eq[-1]["cash"]) + D(eq[-1]["position"]) * D(eq[-1]["close"])
    assert abs(final - run.final_equity()) < D("0.0001")
    png = (out / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width >= 1200 and height >= 1000  # legible: four panels at 110 dpi
    html = (out / "report.html").read_text()
    assert (
        "data:image/png;base64," in html
        and "<script" not in html
        and "http" not in html.replace("http-equiv", "")
    )
    assert "Max drawdown % (from peak)" in html and "Sharpe" in html
    table = (out / "summary.txt").read_text()
    assert table == summary_table(summary) + "\n"


def test_risk_rules_read_candles_of_the_configured_atr_interval() -> None:
    c = synthetic_candles(3000, seed=6, volatility=0.002)
    s = BacktestSettings().with_overrides(
        {
            "atr_interval": "5m",
            "dynamic_interval": "true",
            "price_interval": "50",
            "baseline_window": "30",
            "atr_period": "5",
        }
    )
    cp = s.params
    assert cp.dynamic is not None and cp.risk_candle_ms == 300_000
    ms = market_series(c, cp.risk, cp.interval, cp.dynamic, cp.risk_candle_ms)
    # fold the core per 5-minute candle, built by hand from the minutes
    state, cur = start_risk(cp.risk), cp.interval
    expect_a, expect_i = [False] * len(c), [cp.interval] * len(c)
    for k in range(len(c) // 5):
        j = 5 * k
        five = Candle(
            int(c.open_time_ms[j]),
            int(c.open[j]),
            int(c.high[j : j + 5].max()),
            int(c.low[j : j + 5].min()),
            int(c.close[j + 4]),
            int(c.volume[j : j + 5].sum()),
        )
        state, cur = close_candle(state, cur, five, cp.risk, cp.dynamic)
        for m in range(j + 4, len(c)):
            expect_a[m], expect_i[m] = state.atr_spike, cur
    assert ms.atr_spike.tolist() == expect_a
    assert ms.interval.tolist() == expect_i
    assert len(set(expect_i)) > 1
