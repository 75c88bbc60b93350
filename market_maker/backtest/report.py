"""Write every output of one run into a directory: summary (JSON + text), fills and equity CSVs,
the PNG figure and the self-contained HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from market_maker.backtest.html_report import write_html
from market_maker.backtest.outputs import write_equity_csv, write_fills_csv, write_summary
from market_maker.backtest.plots import write_png
from market_maker.backtest.results import RunResult


def write_report(run: RunResult, summary: dict[str, Any], directory: Path) -> list[Path]:
    """Write the report files into ``directory`` (created if missing); returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    js, txt = write_summary(summary, directory)
    fills, equity = directory / "fills.csv", directory / "equity.csv"
    write_fills_csv(run, fills)
    write_equity_csv(run, equity)
    png, html = directory / "report.png", directory / "report.html"
    data = write_png(run, png)
    write_html(summary, data, html, title=f"Backtest: {run.params.get('symbol', '')} {run.candles.name}")
    return [js, txt, fills, equity, png, html]
