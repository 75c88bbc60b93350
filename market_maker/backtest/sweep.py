"""Parameter sweeps: run the backtest over a grid of settings in parallel processes and rank the runs.

``price_interval=5,10,20 buy_window_size=3,5,8`` is the cartesian product of the listed values (nine
runs). Each run is a full backtest on the same candles (shared with the workers once, at start).
Runs are ranked by one summary metric; for metrics where smaller is better (drawdown, fees) the
order is ascending. Results go to a CSV (one row per run, rank first) and a heatmap of the metric
over the first two swept parameters (the best value over any further parameters).
"""

from __future__ import annotations

import csv
import itertools
import multiprocessing as mp
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from market_maker.backtest.candles import Candles
from market_maker.backtest.market_series import MarketSeries, market_series
from market_maker.backtest.settings import BacktestSettings
from market_maker.settings.errors import ConfigError
from market_maker.settings.overrides import setting_path

if TYPE_CHECKING:  # matplotlib loads only when a heatmap is drawn (not in the workers' runs)
    from matplotlib.colors import Colormap, Normalize

LOWER_IS_BETTER = frozenset({"max_drawdown_pct", "max_drawdown", "fees", "post_only_rejects", "cancels"})
RANKABLE = (
    "return_pct",
    "net_pnl",
    "realized_pnl",
    "sharpe",
    "sortino",
    "win_rate_pct",
    "round_trips",
    "max_drawdown_pct",
    "fees",
    "turnover_ratio",
)


@dataclass(frozen=True)
class SweepRow:
    """One run of a sweep: its swept values and its summary."""

    overrides: dict[str, str]
    summary: dict[str, Any]


def parse_grid(specs: Sequence[str]) -> dict[str, list[str]]:
    """``["price_interval=5,10", "buy_window_size=3,5"]`` -> ``{name: [values]}``; names are configuration
    keys, alone or as a path (see :mod:`market_maker.settings.overrides`); ConfigError on a bad spec."""
    grid: dict[str, list[str]] = {}
    seen: set[tuple[str, ...]] = set()
    for spec in specs:
        name, sep, values = spec.partition("=")
        name = name.strip()
        if not sep or not name or not values.strip():
            raise ConfigError([f"--sweep {spec!r}: must look like name=v1,v2,..."])
        try:
            path = setting_path(name)
        except ConfigError as exc:
            raise ConfigError([f"--sweep: {line}" for line in exc.errors]) from None
        if path in seen:
            raise ConfigError([f"--sweep {spec!r}: {'.'.join(path)} is given twice"])
        seen.add(path)
        items = [v.strip() for v in values.split(",")]
        if any(not v for v in items):
            raise ConfigError([f"--sweep {spec!r}: an empty value"])
        grid[name] = items
    return grid


def combinations(grid: dict[str, list[str]]) -> list[dict[str, str]]:
    """Every combination of the grid's values, first parameter varying slowest."""
    names = list(grid)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*(grid[n] for n in names))]


def _sort_key(metric: str) -> Callable[[SweepRow], tuple[int, float]]:
    sign = 1.0 if metric in LOWER_IS_BETTER else -1.0

    def key(row: SweepRow) -> tuple[int, float]:
        value = row.summary.get(metric)
        if value is None:
            return (1, 0.0)  # runs without the metric (e.g. Sharpe of a flat run) rank last
        return (0, sign * float(value))

    return key


def rank(rows: Sequence[SweepRow], metric: str) -> list[SweepRow]:
    """Rows best first by ``metric`` (stable: ties keep grid order)."""
    return sorted(rows, key=_sort_key(metric))


# --- running -----------------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


@dataclass(frozen=True)
class SweepStats:
    """How long a sweep took: configs x candles per second is its throughput."""

    configs: int
    candles: int
    processes: int
    seconds: float

    @property
    def candles_per_second(self) -> float:
        """Configs x candles replayed per second of wall time, all workers together."""
        return self.configs * self.candles / self.seconds if self.seconds > 0 else float("inf")

    def line(self) -> str:
        """One line for the terminal."""
        return (
            f"sweep: {self.configs} configs x {self.candles:,} candles in {self.seconds:.2f} s on "
            f"{self.processes} process(es): {self.candles_per_second:,.0f} candles/s"
        )


def _init_worker(candles: Candles, base: BacktestSettings, series: list[MarketSeries]) -> None:
    _WORKER["candles"] = candles
    _WORKER["base"] = base
    _WORKER["series"] = series


def _run_one(job: tuple[int, dict[str, str]]) -> SweepRow:
    from market_maker.backtest.engine import run_backtest
    from market_maker.backtest.metrics import summarize

    i, overrides = job
    settings = _WORKER["base"].with_overrides(overrides)
    summary = summarize(run_backtest(_WORKER["candles"], settings, series=_WORKER["series"][i]))
    summary.pop("params", None)
    return SweepRow(overrides, summary)


def run_sweep(
    candles: Candles,
    base: BacktestSettings,
    grid: dict[str, list[str]],
    metric: str = "return_pct",
    processes: int | None = None,
    progress: bool = False,
    stats: list[SweepStats] | None = None,
) -> list[SweepRow]:
    """Run every combination (in ``processes`` worker processes; 1 runs in-process) and rank them.

    The candles are loaded once and the market-series pass (ATR, triggers, dynamic interval) is made
    once per distinct set of its parameters, here, before the workers start: forked workers inherit
    both instead of each loading or recomputing them. One progress bar counts the candles of the whole
    sweep. ``stats``, when given, receives the sweep's :class:`SweepStats`.
    """
    started = time.perf_counter()
    combos = combinations(grid)
    series: list[MarketSeries] = []
    for combo in combos:  # also fails fast on a bad value before any process starts
        cp = base.with_overrides(combo).params
        series.append(market_series(candles, cp.risk, cp.interval, cp.dynamic, cp.risk_candle_ms))
    jobs = list(enumerate(combos))
    n_proc = max(1, min(processes or mp.cpu_count(), len(combos)))
    rows: list[SweepRow] = []
    bar = _bar(progress, len(combos) * len(candles))
    if n_proc == 1:
        _init_worker(candles, base, series)
        for job in jobs:
            rows.append(_run_one(job))
            _advance(bar, len(candles))
    else:
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
        with ctx.Pool(n_proc, initializer=_init_worker, initargs=(candles, base, series)) as pool:
            for row in pool.imap(_run_one, jobs):
                rows.append(row)
                _advance(bar, len(candles))
    if bar is not None:
        bar.close()
    if stats is not None:
        stats.append(SweepStats(len(combos), len(candles), n_proc, time.perf_counter() - started))
    return rank(rows, metric)


def _bar(on: bool, total: int) -> Any:
    if not on:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="sweep", unit="candle", unit_scale=True, mininterval=0.5)


def _advance(bar: Any, n: int) -> None:
    if bar is not None:
        bar.update(n)


# --- output ------------------------------------------------------------------------------------------

SWEEP_METRICS = (
    "return_pct",
    "net_pnl",
    "realized_pnl",
    "unrealized_pnl",
    "fees",
    "round_trips",
    "win_rate_pct",
    "max_drawdown_pct",
    "time_in_market_pct",
    "turnover_ratio",
    "sharpe",
    "sortino",
    "fills",
)


def write_csv(rows: Sequence[SweepRow], grid: dict[str, list[str]], path: Path) -> None:
    """One row per run, best first: rank, the swept values, then the summary metrics."""
    names = list(grid)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(("rank", *names, *SWEEP_METRICS))
        for i, row in enumerate(rows, start=1):
            metrics = ("" if row.summary.get(m) is None else row.summary[m] for m in SWEEP_METRICS)
            w.writerow((i, *(row.overrides[n] for n in names), *metrics))


def heatmap_scale(metric: str, data: np.ndarray) -> tuple[Colormap, Normalize]:
    """Colours that keep their meaning: for a signed metric a diverging map centred at zero (a loss or
    a negative Sharpe is red, never green, whatever the other cells hold); for a cost where lower is
    better (drawdown, fees), a sequential map from zero, darker for worse."""
    from matplotlib import colormaps
    from matplotlib.colors import CenteredNorm, Normalize

    finite = data[np.isfinite(data)]
    if metric in LOWER_IS_BETTER:
        cmap = colormaps["YlOrRd"].with_extremes(bad="#eeeeee")
        return cmap, Normalize(vmin=0, vmax=float(finite.max()) if finite.size and finite.max() > 0 else 1.0)
    half = float(np.abs(finite).max()) if finite.size else 0.0
    return colormaps["RdYlGn"].with_extremes(bad="#eeeeee"), CenteredNorm(0.0, half or 1.0)


def write_heatmap(rows: Sequence[SweepRow], grid: dict[str, list[str]], metric: str, path: Path) -> None:
    """A heatmap of ``metric`` over the first two swept parameters (one row when only one is swept)."""
    from matplotlib.figure import Figure

    names = list(grid)
    xs = grid[names[0]]
    ys = grid[names[1]] if len(names) > 1 else [""]
    better = min if metric in LOWER_IS_BETTER else max
    cells: dict[tuple[str, str], float] = {}
    for row in rows:
        value = row.summary.get(metric)
        if value is None:
            continue
        k = (row.overrides[names[0]], row.overrides[names[1]] if len(names) > 1 else "")
        cells[k] = better(cells[k], float(value)) if k in cells else float(value)
    data = np.full((len(ys), len(xs)), np.nan)
    for (x, y), v in cells.items():
        data[ys.index(y), xs.index(x)] = v
    fig = Figure(figsize=(1.6 + 1.1 * len(xs), 1.4 + 0.7 * len(ys)), dpi=110, layout="constrained")
    ax = fig.subplots()
    cmap, norm = heatmap_scale(metric, data)
    im = ax.imshow(data, cmap=cmap, norm=norm, aspect="auto")
    ax.set_xticks(range(len(xs)), xs)
    ax.set_yticks(range(len(ys)), ys)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1] if len(names) > 1 else "")
    for yi in range(len(ys)):
        for xi in range(len(xs)):
            if not np.isnan(data[yi, xi]):
                shade = cmap(norm(data[yi, xi]))
                ink = "white" if 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2] < 0.5 else "black"
                ax.text(xi, yi, f"{data[yi, xi]:.4g}", ha="center", va="center", fontsize=9, color=ink)
    fig.colorbar(im, ax=ax, label=metric)
    ax.set_title(f"{metric} by {' x '.join(names[:2])}" + (" (best over the rest)" if len(names) > 2 else ""))
    fig.savefig(path, format="png")
