"""``optimize``: search grid parameters with Optuna, validated walk-forward; write a recommended config.

Examples::

    python -m market_maker optimize --data AVAXUSDT-1m-2026-06.csv AVAXUSDT-1m-2026-07.csv \\
        --config my.yaml --space space.yaml --trials 200 --report opt/
    python -m market_maker optimize ... --executor dask --scheduler tcp://10.0.0.5:8786

See docs/optimizing.md for the space file, the walk-forward windows and the report.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from market_maker.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from market_maker.backtest.optimize.runner import OptimizeResult
    from market_maker.settings.models import Config

HELP = (
    "Search grid parameters (Optuna TPE / NSGA-II) with walk-forward validation, locally or on a Dask"
    " cluster; write a report and a recommended configuration."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Data, configuration, space, search, executor, storage and output options."""
    parser.add_argument(
        "--data", metavar="FILE", nargs="+", type=Path, required=True, help="kline file(s), in time order"
    )
    parser.add_argument("--config", metavar="FILE", type=Path, help="base bot configuration YAML")
    parser.add_argument(
        "--space", metavar="FILE", type=Path, required=True, help="search space YAML (docs/optimizing.md)"
    )
    parser.add_argument("--trials", metavar="N", type=int, default=100, help="trials per study (default 100)")
    parser.add_argument(
        "--final-trials",
        metavar="N",
        type=int,
        help="trials of the final whole-history study (default --trials)",
    )
    parser.add_argument(
        "--windows", metavar="K", type=int, default=3, help="walk-forward windows (default 3; 0: none)"
    )
    parser.add_argument(
        "--train-ratio", metavar="R", type=float, default=2.0, help="train span / test span (default 2)"
    )
    parser.add_argument("--seed", type=int, default=1, help="sampler seed (default 1)")
    parser.add_argument(
        "--batch",
        metavar="B",
        type=int,
        default=8,
        help="trials asked and run together (default 8): results depend on it, not on the executor",
    )
    parser.add_argument(
        "--population", metavar="P", type=int, help="NSGA-II population (default min(50, max(8, trials/4)))"
    )
    parser.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="local processes (default) or a Dask cluster",
    )
    parser.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="the Dask scheduler (with --executor dask)"
    )
    parser.add_argument(
        "--processes", metavar="N", type=int, help="local worker processes (default: CPU count)"
    )
    parser.add_argument(
        "--storage",
        metavar="URL",
        help="Optuna storage: a SQLite file or a postgresql:// URL"
        " (default: optimize.sqlite beside engine.database)",
    )
    parser.add_argument(
        "--study", metavar="NAME", help="study name (default: from the inputs, so the same command resumes)"
    )
    parser.add_argument(
        "--report", metavar="DIR", type=Path, help="write the HTML report, PNGs and trials CSV into DIR"
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        type=Path,
        help="recommended configuration (default DIR/recommended.yaml or ./recommended.yaml)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


class _UsageError(Exception):
    pass


def storage_url(text: str | None, config: Config) -> str:
    """The SQLAlchemy URL of the Optuna storage (see ``--storage``)."""
    if text is None:
        if config.engine.is_postgres:
            text = config.engine.database
        else:
            text = str(Path(config.engine.database).parent / "optimize.sqlite")
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text[len(prefix) :]
    if "://" in text:
        return text
    path = Path(text).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def study_name(args: argparse.Namespace, config_text: str, space_text: str, symbol: str) -> str:
    """A name from everything that shapes the trials, so the same command resumes the same study."""
    h = hashlib.blake2b(digest_size=6)
    for part in (
        *(f"{p.name}:{p.stat().st_size}" for p in args.data),
        config_text,
        space_text,
        f"{args.windows}/{args.train_ratio}/{args.seed}/{args.batch}/{args.population}",
    ):
        h.update(part.encode())
        h.update(b"\0")
    return f"{symbol}-{h.hexdigest()}"


def _load(args: argparse.Namespace) -> tuple[Any, Any, Any, str]:
    """(candles, base settings, search space, study name); raises what ``run`` turns into exit 2."""
    from market_maker.backtest.candles import concat
    from market_maker.backtest.loaders import load_klines
    from market_maker.backtest.optimize.space import load_space
    from market_maker.backtest.settings import BacktestSettings
    from market_maker.commands.backtest import _check_symbol
    from market_maker.config import Config, load_config

    if args.trials < 1:
        raise _UsageError(f"--trials {args.trials}: at least 1")
    if args.batch < 1:
        raise _UsageError(f"--batch {args.batch}: at least 1")
    if args.windows < 0:
        raise _UsageError(f"--windows {args.windows}: 0 or more")
    if args.executor == "dask" and not args.scheduler:
        raise _UsageError("--executor dask needs --scheduler tcp://HOST:PORT")
    for module, why in (("optuna", "optimize"), ("distributed", "--executor dask")):
        if why == "optimize" or args.executor == "dask":
            try:
                importlib.import_module(module)
            except ImportError:
                raise _UsageError(
                    f"{why} needs {module}: python3 -m pip install 'market-maker[optimize]'"
                ) from None
    config = load_config(args.config, os.environ) if args.config else Config()
    settings = BacktestSettings(config)
    space = load_space(args.space, config)
    rules = settings.params.rules
    for p in args.data:
        _check_symbol(p, rules.symbol)
    candles = concat([load_klines(p, rules.tick_size, rules.step_size) for p in args.data])
    config_text = args.config.read_text(encoding="utf-8") if args.config else ""
    name = args.study or study_name(args, config_text, args.space.read_text(encoding="utf-8"), rules.symbol)
    return candles, settings, space, name


def run(args: argparse.Namespace) -> int:
    """Load and check everything (exit 2 on bad input), optimize, write the outputs."""
    from market_maker.backtest.candles import DataError
    from market_maker.backtest.optimize.space import SpaceError
    from market_maker.config import ConfigError

    try:
        candles, settings, space, name = _load(args)
        if args.windows:
            from market_maker.backtest.optimize.windows import split_windows

            split_windows(len(candles), args.windows, args.train_ratio)
        storage = storage_url(args.storage, settings.config)
    except ConfigError as exc:
        print(f"error: {exc.errors[0]}", file=sys.stderr)
        return EXIT_USAGE
    except (DataError, SpaceError, _UsageError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = _optimize(args, candles, settings, space, name, storage)
    except ConnectionError as exc:  # the Dask scheduler did not answer
        print(f"error: --scheduler {args.scheduler}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"error: {exc.filename or ''} {exc.strerror or exc}".rstrip(), file=sys.stderr)
        return EXIT_ERROR
    return _outputs(args, result, settings, space)


def _optimize(
    args: argparse.Namespace, candles: Any, settings: Any, space: Any, name: str, storage: str
) -> OptimizeResult:
    from market_maker.backtest.optimize.evaluate import Bundle
    from market_maker.backtest.optimize.executors import DaskExecutor, Executor, LocalExecutor
    from market_maker.backtest.optimize.runner import Options, optimize

    population = args.population or min(50, max(8, args.trials // 4))
    opts = Options(
        args.trials, args.windows, args.train_ratio, args.seed, args.batch, population, args.final_trials
    )
    bundle = Bundle(candles, settings)
    executor: Executor
    if args.executor == "dask":
        executor = DaskExecutor(bundle, args.scheduler)
    else:
        executor = LocalExecutor(bundle, args.processes)
    try:
        return optimize(candles, space, opts, executor, storage, name, progress=not args.no_progress)
    finally:
        executor.close()


def _outputs(args: argparse.Namespace, result: OptimizeResult, settings: Any, space: Any) -> int:
    from market_maker.backtest.optimize import recommend
    from market_maker.backtest.optimize.summary import result_json, result_text
    from market_maker.config import ConfigError

    if result.chosen is None:
        print("error: no trial completed: nothing to recommend (see the report's notes)", file=sys.stderr)
        return EXIT_ERROR
    c = result.candles
    last = c.price(int(c.close[-1]))
    out = args.out or ((args.report / "recommended.yaml") if args.report else Path("recommended.yaml"))
    try:
        cfg = recommend.recommended_config(settings.config, result.overrides, last)
    except ConfigError as exc:
        print(f"error: the chosen values do not make a valid configuration: {exc.errors[0]}", file=sys.stderr)
        return EXIT_ERROR
    header = [
        f"recommended by: python -m market_maker optimize, study {result.name} trial {result.chosen.number}",
        f"data: {c.name} ({len(c)} candles)",
        "chosen: " + ", ".join(f"{k}={v}" for k, v in result.overrides.items()),
        "sim.start_price: the last close of the data",
    ]
    if cfg.exchange.leverage is not None and settings.config.exchange.leverage is None:
        header.append("exchange.leverage: risk.max_leverage (the backtest was unlevered; run checks it)")
    if not result.chosen_feasible:
        header.append("WARNING: no trial met the constraints; this is the best of the infeasible ones")
    recommend.write_recommended(cfg, out, header)
    summary = result_json(result, space, str(out))
    print(json.dumps(summary, indent=2) if args.json else result_text(result, space))
    if not result.chosen_feasible:
        print(
            "warning: no trial met the constraints: the recommendation is the best infeasible trial",
            file=sys.stderr,
        )
    print(f"wrote {out}", file=sys.stderr)
    if args.report is not None:
        from market_maker.backtest.optimize.report import write_report

        for path in write_report(result, space, args.report, summary):
            print(f"wrote {path}", file=sys.stderr)
    print(
        f"optimize: {result.trials_run} trials, {result.candles_replayed:,} candles replayed in"
        f" {result.seconds:.1f} s on {result.workers} {result.executor} worker(s):"
        f" {result.throughput:,.0f} trials x candles/s",
        file=sys.stderr,
    )
    return EXIT_OK
