"""Fast replay of candle history through the functional core, with reports and parameter sweeps.

Public API (see docs/backtesting.md)::

    from market_maker.backtest.loaders import load_klines          # Binance CSV / zip / REST JSON
    from market_maker.backtest.synthetic import synthetic_candles  # seeded candles
    from market_maker.backtest.settings import BacktestSettings    # BacktestSettings(config)
    from market_maker.backtest.engine import run_backtest          # -> RunResult
    from market_maker.backtest.metrics import summarize            # -> summary dict
    from market_maker.backtest.report import write_report          # summary, CSVs, PNG, HTML
    from market_maker.backtest.sweep import parse_grid, run_sweep  # parallel parameter grids

Submodules import numpy and matplotlib; this package file imports nothing so ``--help`` stays fast.
"""
