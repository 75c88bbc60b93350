"""The optimizer's throughput, trials x candles per second, with the local and the Dask executor.

    python bench/optimize_throughput.py --data AVAXUSDT-1m-2026-06.csv AVAXUSDT-1m-2026-07.csv

The same study (``config/optimize/avax-usdm.yaml``, ``config/optimize/avax-space.yaml``: NSGA-II over
five keys, no walk-forward, seed 1, batch 8) runs on the whole history twice: with two local worker
processes, then on a two-worker Dask cluster (``distributed.LocalCluster``, one thread a worker,
loopback). Timed from the first ask to the last tell (the pool's fork and the cluster's start and the
bundle's scatter are timed apart as set-up). The two studies' trials must be equal. Results:
``bench/results/optimize_throughput.json``/``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import optuna  # noqa: E402

import market_maker  # noqa: E402
from market_maker.backtest.candles import concat  # noqa: E402
from market_maker.backtest.loaders import load_klines  # noqa: E402
from market_maker.backtest.optimize.evaluate import Bundle  # noqa: E402
from market_maker.backtest.optimize.executors import DaskExecutor, Executor, LocalExecutor  # noqa: E402
from market_maker.backtest.optimize.runner import OptimizeResult, Options, optimize  # noqa: E402
from market_maker.backtest.optimize.space import load_space  # noqa: E402
from market_maker.backtest.settings import BacktestSettings  # noqa: E402
from market_maker.config import load_config  # noqa: E402


def _trials(result: OptimizeResult) -> list[tuple[object, ...]]:
    return [(t.number, t.state.name, t.params, t.values) for t in result.final.trials]


def _run(
    name: str, make: object, bundle: Bundle, space: object, opts: Options
) -> tuple[OptimizeResult, float]:
    t = time.perf_counter()
    executor: Executor = make()  # type: ignore[operator]
    setup = time.perf_counter() - t
    try:
        result = optimize(bundle.candles, space, opts, executor, optuna.storages.InMemoryStorage(), name)  # type: ignore[arg-type]
    finally:
        executor.close()
    return result, setup


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", nargs="+", required=True, type=Path)
    ap.add_argument("--config", type=Path, default=ROOT / "config" / "optimize" / "avax-usdm.yaml")
    ap.add_argument("--space", type=Path, default=ROOT / "config" / "optimize" / "avax-space.yaml")
    ap.add_argument("--trials", type=int, default=24)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "optimize_throughput.json")
    args = ap.parse_args()
    load_at_start = os.getloadavg()[0]
    config = load_config(args.config, {})
    settings = BacktestSettings(config)
    space = load_space(args.space, config)
    rules = settings.params.rules
    candles = concat([load_klines(p, rules.tick_size, rules.step_size) for p in args.data])
    bundle = Bundle(candles, settings)
    opts = Options(args.trials, windows=0, seed=1, batch=8, population=8)
    rows = []
    results = []
    local, setup = _run("bench", lambda: LocalExecutor(bundle, 2), bundle, space, opts)
    rows.append(("local (2 processes)", local, setup))
    results.append(local)
    from distributed import Client, LocalCluster

    t = time.perf_counter()
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        started = time.perf_counter() - t
        dask, setup = _run("bench", lambda: DaskExecutor(bundle, client), bundle, space, opts)
    rows.append(("dask (2 workers, loopback)", dask, setup + started))
    results.append(dask)
    equal = _trials(local) == _trials(dask)
    out = {
        "data": [str(p) for p in args.data],
        "candles": len(candles),
        "config": str(args.config.relative_to(ROOT)),
        "space": str(args.space.relative_to(ROOT)),
        "trials": args.trials,
        "batch": opts.batch,
        "python": platform.python_version(),
        "compiled_core": getattr(market_maker, "COMPILED", None),
        "cpus": os.cpu_count(),
        "load_average_at_start": round(load_at_start, 2),
        "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "same_trials_both_executors": equal,
        "runs": [
            {
                "executor": label,
                "setup_s": round(setup, 3),
                "seconds": round(r.seconds, 3),
                "trials": r.trials_run,
                "candles_replayed": r.candles_replayed,
                "trials_x_candles_per_s": round(r.throughput),
                "trials_per_s": round(r.trials_run / r.seconds, 3),
            }
            for label, r, setup in rows
        ],
    }
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    md = [
        "# Optimizer throughput: local processes vs a Dask cluster",
        "",
        f"Command: `python bench/optimize_throughput.py --data {' '.join(p.name for p in args.data)}`; "
        f"{out['cpus']} CPUs, Python {out['python']}, core compiled: {out['compiled_core']}; "
        f"load average {out['load_average_at_start']} at the start ({out['at']}).",
        "",
        f"One NSGA-II study ({out['space']} on {out['config']}), {args.trials} trials on the whole history "
        f"({len(candles):,} candles each), no walk-forward, seed 1, batch 8.",
        "",
        "| executor | set-up s | study s | trials | trials x candles | **trials x candles / s**"
        " | trials / s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in out["runs"]:
        md.append(
            f"| {r['executor']} | {r['setup_s']} | {r['seconds']} | {r['trials']} |"
            f" {r['candles_replayed']:,} | **{r['trials_x_candles_per_s']:,}** | {r['trials_per_s']} |"
        )
    md += ["", f"Same trials (parameters, values, states) on both executors: {'yes' if equal else 'NO'}.", ""]
    args.out.with_suffix(".md").write_text("\n".join(md))
    print("\n".join(md))
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
