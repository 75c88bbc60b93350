"""What a reader sees in the backtest's figures and the sweep's table: a heatmap whose colours keep
their meaning (centred at zero: a loss is never green), a price legend that does not cover the fills,
and a sweep table with the ranking metric, return, round trips and drawdown."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg

from market_maker.backtest.engine import run_backtest
from market_maker.backtest.plots import render_figure
from market_maker.backtest.settings import BacktestSettings
from market_maker.backtest.sweep import SweepRow, heatmap_scale
from market_maker.backtest.sweep_table import sweep_table
from market_maker.backtest.synthetic import synthetic_candles


def _colour(metric: str, cells: list[float], value: float) -> tuple[float, ...]:
    cmap, norm = heatmap_scale(metric, np.array([cells]))
    return tuple(cmap(norm(value)))


def _green(rgba: tuple[float, ...]) -> bool:
    return rgba[1] > rgba[0] + 0.02


def _red(rgba: tuple[float, ...]) -> bool:  # red to orange: the warm half of the map
    return rgba[0] > rgba[1] + 0.02


def test_negative_sharpe_is_never_green_even_when_every_run_loses() -> None:
    cells = [-23.4, -14.2, -9.4, -7.7]  # the best of a losing sweep used to be the greenest cell
    assert all(_red(_colour("sharpe", cells, v)) for v in cells)


def test_the_scale_is_centred_at_zero_whatever_the_spread() -> None:
    cells = [-0.5, 0.4, 3.0]  # magnitudes kept: a small loss is pale orange, a small gain pale green
    assert _red(_colour("return_pct", cells, -0.5)) and _green(_colour("return_pct", cells, 0.4))
    neutral = _colour("return_pct", cells, 0.0)
    assert not _red(neutral) and not _green(neutral)
    assert _green(_colour("return_pct", [0.1, 0.4], 0.1))  # every run gains: all green


def test_a_cost_is_darker_when_worse_and_never_green() -> None:
    cells = [1.0, 5.0, 15.0]
    shades = [_colour("max_drawdown_pct", cells, v) for v in cells]
    assert not any(_green(s) for s in shades)
    assert [sum(s[:3]) for s in shades] == sorted((sum(s[:3]) for s in shades), reverse=True)


def test_the_price_legend_sits_beside_the_fills_not_over_them() -> None:
    run = run_backtest(
        synthetic_candles(3000, seed=1), BacktestSettings().with_overrides({"price_interval": "100"})
    )
    assert run.fills
    fig = render_figure(run)
    FigureCanvasAgg(fig).draw()
    price_ax = fig.axes[0]
    legend = price_ax.get_legend()
    assert legend is not None
    box, area = legend.get_window_extent(), price_ax.get_window_extent()
    assert box.x0 >= area.x1  # wholly right of the plotting area
    # the panels stay aligned under it
    assert {round(ax.get_window_extent().x1) for ax in fig.axes[:4]} == {round(area.x1)}


def test_sweep_table_shows_rank_metric_return_round_trips_and_drawdown() -> None:
    rows = [
        SweepRow(
            {"price_interval": "400"},
            {"sharpe": -7.69, "return_pct": -2.27, "round_trips": 301, "max_drawdown_pct": 3.0},
        ),
        SweepRow(
            {"price_interval": "50"},
            {"sharpe": -22.26, "return_pct": -14.88, "round_trips": 6068, "max_drawdown_pct": 15.22},
        ),
    ]
    lines = sweep_table(rows, ["price_interval"], "sharpe").splitlines()
    assert lines[0].split() == [
        "rank",
        "price_interval",
        "sharpe",
        "(ranked)",
        "return",
        "%",
        "round",
        "trips",
        "drawdown",
        "%",
    ]
    assert lines[1].split() == ["1", "400", "-7.69", "-2.27", "301", "3.00"]
    assert lines[2].split() == ["2", "50", "-22.26", "-14.88", "6068", "15.22"]
    assert len({len(line) for line in lines}) == 1  # aligned columns


def test_ranked_by_one_of_the_context_columns_it_is_not_repeated(tmp_path: Path) -> None:
    rows = [SweepRow({"x": "1"}, {"return_pct": 1.5, "round_trips": 3, "max_drawdown_pct": None})]
    head = sweep_table(rows, ["x"], "return_pct").splitlines()[0]
    assert head.split() == ["rank", "x", "return", "%", "(ranked)", "round", "trips", "drawdown", "%"]
    assert sweep_table(rows, ["x"], "return_pct").splitlines()[1].split()[-1] == "-"
