"""Parameter sweeps: grid parsing, ranking, parallel runs equal single runs, CSV and heatmap."""

from __future__ import annotations

import csv
from decimal import Decimal as D
from pathlib import Path

import pytest

from market_maker.backtest.engine import run_backtest
from market_maker.backtest.metrics import summarize
from market_maker.backtest.settings import BacktestSettings
from market_maker.backtest.sweep import (
    SweepRow,
    combinations,
    parse_grid,
    rank,
    run_sweep,
    write_csv,
    write_heatmap,
)
from market_maker.backtest.synthetic import synthetic_candles
from market_maker.config import ConfigError


def test_parse_grid_and_combinations() -> None:
    grid = parse_grid(["price_interval=5,10,20", "buy_window_size=3,5"])
    assert grid == {"price_interval": ["5", "10", "20"], "buy_window_size": ["3", "5"]}
    combos = combinations(grid)
    assert len(combos) == 6 and combos[0] == {"price_interval": "5", "buy_window_size": "3"}
    assert combos[-1] == {"price_interval": "20", "buy_window_size": "5"}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("price_interval", "must look like name=v1,v2"),
        ("nope=1,2", "nope: unknown setting"),
        (
            "interval_seconds=1,2",
            "interval_seconds: a key of several sections: say reconcile",
        ),
        ("price_interval=1,,2", "an empty value"),
    ],
)
def test_bad_sweep_specs(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_grid([spec])


def test_a_key_and_its_path_are_one_setting() -> None:
    assert parse_grid(["trading.price_interval=5,10"]) == {"trading.price_interval": ["5", "10"]}
    with pytest.raises(ConfigError, match=r"trading\.price_interval is given twice"):
        parse_grid(["price_interval=5,10", "trading.price_interval=20"])


def _row(v: str, ret: float | None, dd: float) -> SweepRow:
    return SweepRow({"price_interval": v}, {"return_pct": ret, "max_drawdown_pct": dd})


def test_ranking_direction_and_missing_values() -> None:
    rows = [_row("5", 1.0, 9.0), _row("10", 3.0, 2.0), _row("20", None, 1.0), _row("40", 2.0, 5.0)]
    assert [r.overrides["price_interval"] for r in rank(rows, "return_pct")] == ["10", "40", "5", "20"]
    # smaller drawdown is better
    assert [r.overrides["price_interval"] for r in rank(rows, "max_drawdown_pct")] == ["20", "10", "40", "5"]


def test_parallel_sweep_ranks_the_same_runs_as_single_backtests(tmp_path: Path) -> None:
    c = synthetic_candles(2500, seed=4)
    base = BacktestSettings()
    grid = parse_grid(["price_interval=20,60", "buy_window_size=2,4"])
    rows = run_sweep(c, base, grid, metric="realized_pnl", processes=2)
    assert len(rows) == 4
    values = [D(r.summary["realized_pnl"]) for r in rows]
    assert values == sorted(values, reverse=True)
    for row in rows:
        single = summarize(run_backtest(c, base.with_overrides(row.overrides)))
        assert row.summary["realized_pnl"] == single["realized_pnl"]
        assert row.summary["fills"] == single["fills"]
    write_csv(rows, grid, tmp_path / "sweep.csv")
    with (tmp_path / "sweep.csv").open() as fh:
        table = list(csv.DictReader(fh))
    assert [t["rank"] for t in table] == ["1", "2", "3", "4"]
    assert (table[0]["price_interval"], table[0]["buy_window_size"]) == (
        rows[0].overrides["price_interval"],
        rows[0].overrides["buy_window_size"],
    )
    write_heatmap(rows, grid, "realized_pnl", tmp_path / "heat.png")
    assert (tmp_path / "heat.png").read_bytes()[:4] == b"\x89PNG"


def test_a_bad_value_fails_before_any_run() -> None:
    c = synthetic_candles(50, seed=1)
    with pytest.raises(
        ConfigError, match=r"--set: trading\.buy_window_size: Input should be a valid integer"
    ):
        run_sweep(c, BacktestSettings(), {"buy_window_size": ["3", "x"]}, processes=2)


def test_a_sweep_on_real_candles_equals_its_runs_one_by_one_and_reports_throughput() -> None:
    from market_maker.backtest.loaders import load_klines
    from market_maker.backtest.sweep import SweepStats
    from market_maker.config import load_config

    data = Path(__file__).resolve().parents[1] / "data"
    c = load_klines(data / "AVAXUSDT-1m-2026-06-20_fast-spikes.csv", "0.001", "1")
    base = BacktestSettings(load_config(data / "avax-backtest.yaml", {}))
    grid = parse_grid(["price_interval=0.018,0.05", "dynamic_interval=false,true"])
    stats: list[SweepStats] = []
    rows = run_sweep(c, base, grid, metric="round_trips", processes=2, stats=stats)
    assert len(rows) == 4 and any(r.summary["round_trips"] for r in rows)
    for row in rows:
        single = summarize(run_backtest(c, base.with_overrides(row.overrides)))
        single.pop("params")
        assert row.summary == single, row.overrides
    (st,) = stats
    assert (st.configs, st.candles, st.processes) == (4, len(c), 2)
    assert st.candles_per_second > 0 and "4 configs x" in st.line()
