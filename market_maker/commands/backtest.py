"""``backtest``: replay kline history (or seeded synthetic candles) through the core, report, sweep.

Examples::

    python -m market_maker backtest --data AVAXUSDT-1m-2026-06.csv --config my.yaml --report out/
    python -m market_maker backtest --synthetic 525600 --report out/
    python -m market_maker backtest --data f.csv --config my.yaml \\
        --sweep price_interval=0.02,0.05,0.1 buy_window_size=3,5,8 --rank-by sharpe --report sweep/
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from market_maker.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:  # the heavy modules (numpy, matplotlib) load only when the verb runs
    from market_maker.backtest.candles import Candles
    from market_maker.backtest.settings import BacktestSettings

HELP = "Replay candle history through the grid strategy; write a summary, CSVs, plots and an HTML report."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Data, configuration, fill model, output and sweep options."""
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--data",
        metavar="FILE",
        nargs="+",
        type=Path,
        help="kline file(s): Binance public CSV (header or not, zipped or not) or REST JSON, in time order",
    )
    src.add_argument(
        "--synthetic", metavar="N", type=int, help="use N seeded synthetic 1-minute candles instead"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed for --synthetic (default 1)")
    parser.add_argument(
        "--config", metavar="FILE", type=Path, help="bot configuration YAML (default: built-in defaults)"
    )
    parser.add_argument(
        "--set",
        metavar="NAME=VALUE",
        nargs="+",
        action="extend",
        default=[],
        help="override configuration keys, e.g. price_interval=0.05 sim.tick_size=0.001"
        " (see docs/backtesting.md)",
    )
    parser.add_argument(
        "--capital", metavar="QUOTE", help="initial quote capital (default: the config's sim balance)"
    )
    parser.add_argument(
        "--volume-share",
        metavar="F",
        help="partial fills: an order fills at most F x candle volume per candle",
    )
    parser.add_argument(
        "--fill-on-touch", action="store_true", help="fill resting orders when the price only touches them"
    )
    parser.add_argument(
        "--no-post-only", action="store_true", help="crossing orders fill as takers instead of being rejected"
    )
    parser.add_argument(
        "--report", metavar="DIR", type=Path, help="write summary, CSVs, PNG and HTML into DIR"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON instead of a table")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--sweep", metavar="NAME=V1,V2", nargs="+", help="run a parameter grid in parallel processes"
    )
    parser.add_argument(
        "--rank-by", metavar="METRIC", default="return_pct", help="sweep ranking metric (default return_pct)"
    )
    parser.add_argument(
        "--processes", metavar="N", type=int, help="sweep worker processes (default: CPU count)"
    )


def _settings(args: argparse.Namespace) -> BacktestSettings:
    from market_maker.backtest.settings import BacktestSettings
    from market_maker.config import Config, load_config

    base = BacktestSettings(load_config(args.config, os.environ) if args.config else Config())
    overrides: dict[str, str] = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise _UsageError(f"--set {item!r}: expected NAME=VALUE")
        overrides[name.strip()] = value
    if args.volume_share is not None:
        overrides["backtest.volume_share"] = args.volume_share
    if args.fill_on_touch:
        overrides["backtest.fill_on_touch"] = "true"
    if args.no_post_only:
        overrides["backtest.post_only"] = "false"
    settings = base.with_overrides(overrides)
    if args.capital is not None:  # the account's quote balance, once --set has said what the quote is
        settings = settings.with_overrides(
            {f"sim.balances.{settings.params.rules.quote_asset}": args.capital}
        )
    return settings


class _UsageError(Exception):
    pass


_BINANCE_NAME = re.compile(r"^([A-Z0-9]{2,20})-\d+[smhdwM]-")


def _check_symbol(path: Path, symbol: str) -> None:
    """Binance names its files ``<SYMBOL>-<interval>-...``: refuse another symbol's history early."""
    m = _BINANCE_NAME.match(path.name)
    if m and m.group(1) != symbol:
        raise _UsageError(
            f"{path} holds {m.group(1)} klines but the configuration trades {symbol}: use a configuration"
            f" for {m.group(1)} (e.g. tests/data/avax-backtest.yaml)"
            " or --set symbol=... tick_size=... step_size=..."
        )


@contextlib.contextmanager
def _loading() -> Iterator[None]:
    """The cyclic collector off while the modules, the configuration and the candles load; what they
    allocated is then left out of later collections (:func:`gc.freeze`).

    Start-up allocates what lives to the end of the run (modules, the configuration's validators, the
    candles) and hardly any garbage: the collector would only scan it again and again, and once more at
    exit (~30 ms of the ~0.28 s of CPU a two-candle backtest takes)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


def run(args: argparse.Namespace) -> int:
    """Load, run (or sweep), print the summary and write the report; exit 2 on bad input."""
    with _loading():
        from market_maker.backtest.candles import DataError, concat
        from market_maker.backtest.errors import BacktestError
        from market_maker.backtest.loaders import load_klines
        from market_maker.config import ConfigError

        try:
            settings = _settings(args)
            rules = settings.params.rules
            if args.synthetic is not None:
                from market_maker.backtest.synthetic import synthetic_candles

                candles = synthetic_candles(
                    args.synthetic,
                    seed=args.seed,
                    start_price="100000",
                    tick_size=rules.tick_size,
                    step_size=rules.step_size,
                )
            else:
                for p in args.data:
                    _check_symbol(p, rules.symbol)
                candles = concat([load_klines(p, rules.tick_size, rules.step_size) for p in args.data])
        except ConfigError as exc:
            for line in exc.errors:
                print(f"error: {line}", file=sys.stderr)
            return EXIT_USAGE
        except (DataError, _UsageError, ValueError) as exc:  # ValueError: ParamsError among others
            print(f"error: {exc}", file=sys.stderr)
            if isinstance(exc, DataError) and "not a multiple of" in str(exc):
                print(
                    "hint: set the symbol's tick/step with --set tick_size=... step_size=...", file=sys.stderr
                )
            return EXIT_USAGE
    if args.report is not None:
        try:
            args.report.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(f"error: --report {args.report}: cannot create ({exc.strerror})", file=sys.stderr)
            return EXIT_ERROR
    try:
        if args.sweep:
            return _sweep(args, candles, settings)
        return _single(args, candles, settings)
    except ConfigError as exc:  # a bad --sweep name or value
        for line in exc.errors:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # the output was piped into e.g. head
        return EXIT_OK
    except OSError as exc:
        print(
            f"error: writing the report: {exc.filename or ''} {exc.strerror or exc}".rstrip(), file=sys.stderr
        )
        return EXIT_ERROR
    except BacktestError as exc:  # the core kept asking for actions (a bug, said plainly)
        print(f"error: backtest stopped: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _single(args: argparse.Namespace, candles: Candles, settings: BacktestSettings) -> int:
    from market_maker.backtest.engine import run_backtest
    from market_maker.backtest.metrics import summarize, summary_table

    run_result = run_backtest(candles, settings, progress=not args.no_progress)
    summary = summarize(run_result)
    print(json.dumps(summary, indent=2) if args.json else summary_table(summary))
    if args.report is not None:
        from market_maker.backtest.report import write_report  # matplotlib: only for a report

        for path in write_report(run_result, summary, args.report):
            print(f"wrote {path}", file=sys.stderr)
    return EXIT_OK


def _sweep(args: argparse.Namespace, candles: Candles, settings: BacktestSettings) -> int:
    from market_maker.backtest import sweep
    from market_maker.backtest.sweep_table import sweep_table

    grid = sweep.parse_grid(args.sweep)
    if args.rank_by not in sweep.RANKABLE:
        print(
            f"error: --rank-by {args.rank_by!r}: choose one of {', '.join(sweep.RANKABLE)}", file=sys.stderr
        )
        return EXIT_USAGE
    stats: list[sweep.SweepStats] = []
    rows = sweep.run_sweep(
        candles, settings, grid, args.rank_by, args.processes, progress=not args.no_progress, stats=stats
    )
    print(sweep_table(rows, list(grid), args.rank_by))
    print(stats[0].line(), file=sys.stderr)
    if args.report is not None:
        csv_path, png_path = args.report / "sweep.csv", args.report / "sweep_heatmap.png"
        sweep.write_csv(rows, grid, csv_path)
        sweep.write_heatmap(rows, grid, args.rank_by, png_path)
        print(f"wrote {csv_path}\nwrote {png_path}", file=sys.stderr)
    return EXIT_OK
