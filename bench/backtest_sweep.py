"""A 64-config sweep over real candles: its throughput, and its rows against the same configs run alone.

    python bench/backtest_sweep.py --data AVAXUSDT-1m-2026-06.csv AVAXUSDT-1m-2026-07.csv

The sweep (``market_maker.backtest.sweep.run_sweep``: candles loaded once, the market-series pass made
once per distinct setting before the workers fork) runs 8 intervals x 4 window sizes x dynamic off/on
on ``bench/configs/avax_risk_off.yaml``; then every config runs alone with ``run_backtest`` in this
process and its summary must equal the sweep's row. Results: ``bench/results/backtest_sweep.json``/``.md``.
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

import market_maker  # noqa: E402
from market_maker.backtest.candles import concat  # noqa: E402
from market_maker.backtest.engine import run_backtest  # noqa: E402
from market_maker.backtest.loaders import load_klines  # noqa: E402
from market_maker.backtest.metrics import summarize  # noqa: E402
from market_maker.backtest.settings import BacktestSettings  # noqa: E402
from market_maker.backtest.sweep import SweepStats, parse_grid, run_sweep  # noqa: E402
from market_maker.config import load_config  # noqa: E402

GRID = [
    "price_interval=0.009,0.018,0.027,0.036,0.045,0.063,0.09,0.18",
    "buy_window_size=2,3,5,8",
    "dynamic_interval=false,true",
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", nargs="+", required=True, type=Path)
    ap.add_argument("--config", type=Path, default=ROOT / "bench" / "configs" / "avax_risk_off.yaml")
    ap.add_argument("--processes", type=int, default=None, help="worker processes (default: CPU count)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "backtest_sweep.json")
    args = ap.parse_args()
    load_at_start = os.getloadavg()[0]
    base = BacktestSettings(load_config(args.config, {}))
    rules = base.params.rules
    t = time.perf_counter()
    candles = concat([load_klines(p, rules.tick_size, rules.step_size) for p in args.data])
    load_s = time.perf_counter() - t
    grid = parse_grid(GRID)
    stats: list[SweepStats] = []
    rows = run_sweep(candles, base, grid, "return_pct", args.processes, progress=True, stats=stats)
    st = stats[0]
    print(st.line())
    t = time.perf_counter()
    mismatches = []
    for row in rows:
        single = summarize(run_backtest(candles, base.with_overrides(row.overrides)))
        single.pop("params")
        if single != row.summary:
            mismatches.append(row.overrides)
    singles_s = time.perf_counter() - t
    best = rows[0]
    doc = {
        "command": "python bench/backtest_sweep.py --data " + " ".join(map(str, args.data)),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "compiled": market_maker.COMPILED,
        "load_at_start": round(load_at_start, 1),
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "grid": GRID,
        "configs": st.configs,
        "candles": st.candles,
        "processes": st.processes,
        "load_seconds": round(load_s, 3),
        "sweep_seconds": round(st.seconds, 2),
        "sweep_candles_per_s": round(st.candles_per_second),
        "one_by_one_seconds": round(singles_s, 2),
        "one_by_one_candles_per_s": round(st.configs * st.candles / singles_s),
        "rows_equal_one_by_one": not mismatches,
        "mismatches": mismatches,
        "fills_total": sum(r.summary["fills"] for r in rows),
        "best": {"overrides": best.overrides, "return_pct": best.summary["return_pct"]},
    }
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    md = [
        "# A 64-config sweep over both AVAX months",
        "",
        f"Command: `{doc['command']}`; {doc['machine']}; core {'compiled' if doc['compiled'] else 'pure'};"
        f" load average {doc['load_at_start']} at the start ({doc['date_utc']} UTC).",
        "",
        f"Grid: `{' '.join(GRID)}` on `bench/configs/avax_risk_off.yaml`.",
        "",
        "| configs x candles | processes | sweep s | sweep candles/s | one by one s (1 process) "
        "| one by one candles/s | fills, all configs | every row equals its run alone |",
        "|---|---|---|---|---|---|---|---|",
        f"| {st.configs} x {st.candles:,} | {st.processes} | {doc['sweep_seconds']} |"
        f" **{doc['sweep_candles_per_s']:,}** | {doc['one_by_one_seconds']} |"
        f" {doc['one_by_one_candles_per_s']:,} |"
        f" {doc['fills_total']:,} | {'yes' if not mismatches else 'NO: ' + str(mismatches)} |",
        "",
        f"Best by return: {best.overrides} ({best.summary['return_pct']} %).",
    ]
    args.out.with_suffix(".md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0 if not mismatches else 1


if __name__ == "__main__":
    sys.exit(main())
