"""Fill for fill: the backtester of today against the same runs at an earlier commit (before the speed work).

    python bench/backtest_before_after.py --data AVAXUSDT-1m-2026-06.csv AVAXUSDT-1m-2026-07.csv

The earlier commit (``--before``, default b4c26ce: the last commit before the compiled build) is
exported with ``git archive`` into a temporary directory and run from source there; today's tree runs
as installed (compiled when the build is in use). Every configuration is run by both on the same files,
and every fill (time, side, price, quantity, fee, level, client id) and the summary's figures are
compared. Results: ``bench/results/backtest_before_after.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "bench" / "configs" / "avax_risk_off.yaml"

# (label, overrides): 0.2 % and 1 % grids, static and dynamic, plus skew and the default risk rules
CASES: list[tuple[str, dict[str, str]]] = [
    ("0.2 % static", {"price_interval": "0.018"}),
    ("0.2 % dynamic", {"price_interval": "0.018", "dynamic_interval": "true"}),
    ("1 % static", {"price_interval": "0.09"}),
    ("1 % dynamic", {"price_interval": "0.09", "dynamic_interval": "true"}),
    (
        "0.5 % skew 0.3, cap 12",
        {"price_interval": "0.045", "inventory_skew_factor": "0.3", "max_open_orders": "12"},
    ),
    (
        "0.2 % default risk rules",
        {
            "price_interval": "0.018",
            "max_drawdown_pct": "3",
            "atr_spike_multiple": "3",
            "volume_spike_multiple": "5",
            "max_consecutive_losses": "3",
        },
    ),
]

_RUNNER = r"""
import hashlib, json, sys, time
from pathlib import Path
import market_maker
from market_maker.backtest.candles import concat
from market_maker.backtest.engine import run_backtest
from market_maker.backtest.loaders import load_klines
from market_maker.backtest.metrics import summarize
from market_maker.backtest.settings import BacktestSettings
from market_maker.config import load_config
config, files, cases = sys.argv[1], sys.argv[2].split("|"), json.loads(sys.argv[3])
base = BacktestSettings(load_config(Path(config), {}))
rules = base.params.rules
candles = concat([load_klines(Path(f), rules.tick_size, rules.step_size) for f in files])
out = []
for label, overrides in cases:
    s = base.with_overrides(overrides)
    t = time.process_time()
    r = run_backtest(candles, s)
    cpu = time.process_time() - t
    fills = [[f.time_ms, f.side.value, f.price, f.qty, str(f.fee), f.level, f.client_id] for f in r.fills]
    summary = summarize(r)
    summary.pop("params")
    out.append({"label": label, "fills": len(fills), "cpu_s": cpu,
                "fills_sha256": hashlib.sha256(json.dumps(fills).encode()).hexdigest(),
                "summary": summary})
print(json.dumps({"compiled": bool(getattr(market_maker, "COMPILED", False)), "runs": out}))
"""


def _run(tree: Path | None, files: list[str], env_extra: dict[str, str]) -> dict:
    env = {**os.environ, **env_extra, "MARKET_MAKER_CANDLE_CACHE": "0"}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    cwd = tree if tree is not None else ROOT
    p = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(CONFIG), "|".join(files), json.dumps(CASES)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )
    if p.returncode != 0:
        sys.exit(f"runner failed ({'before' if tree else 'now'}):\n{p.stderr[-3000:]}")
    return json.loads(p.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", nargs="+", required=True, help="kline files (e.g. the two shared AVAX months)")
    ap.add_argument("--before", default="b4c26ce", help="the commit to compare with")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "backtest_before_after.json")
    args = ap.parse_args()
    files = [str(Path(f).resolve()) for f in args.data]
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "before.tar"
        subprocess.run(["git", "archive", "-o", str(archive), args.before], cwd=ROOT, check=True)
        tree = Path(tmp) / "before"
        tree.mkdir()
        with tarfile.open(archive) as tf:
            tf.extractall(tree, filter="data")
        before = _run(tree, files, {})
    now = _run(None, files, {})
    pure = _run(None, files, {"MARKET_MAKER_PURE": "1"})
    rows = []
    for b, n, p in zip(before["runs"], now["runs"], pure["runs"], strict=True):
        same = (
            b["fills_sha256"] == n["fills_sha256"] == p["fills_sha256"]
            and b["summary"] == n["summary"] == p["summary"]
        )
        rows.append(
            {
                "case": b["label"],
                "fills": n["fills"],
                "round_trips": n["summary"]["round_trips"],
                "identical": same,
                "cpu_before_s": round(b["cpu_s"], 3),
                "cpu_now_pure_s": round(p["cpu_s"], 3),
                "cpu_now_s": round(n["cpu_s"], 3),
                "fills_sha256": n["fills_sha256"][:16],
            }
        )
    result = {
        "command": "python bench/backtest_before_after.py --data " + " ".join(args.data),
        "before": args.before,
        "now": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "compiled_now": now["compiled"],
        "machine": f"{platform.processor() or platform.machine()}, Python {platform.python_version()}",
        "load_at_start": os.getloadavg()[0],
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "rows": rows,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    md = [
        "# Backtest before/after the speed work: fill for fill",
        "",
        f"Command: `{result['command']}`. Before: `{args.before}` (from source); now: `{result['now']}`",
        f"compiled ({'in use' if now['compiled'] else 'NOT in use'}) and the same tree with"
        f" `MARKET_MAKER_PURE=1`. {result['machine']}; load average {result['load_at_start']:.1f}",
        f"at the start ({result['date_utc']} UTC)."
        " CPU seconds of the replay alone (process time), one run each.",
        "",
        "| case | fills | round trips | identical fill for fill | CPU before s | CPU now, pure s"
        " | CPU now, compiled s | fills sha256 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        md.append(
            f"| {r['case']} | {r['fills']:,} | {r['round_trips']:,} |"
            f" {'yes' if r['identical'] else '**NO**'} |"
            f" {r['cpu_before_s']} | {r['cpu_now_pure_s']} | {r['cpu_now_s']} | `{r['fills_sha256']}` |"
        )
    args.out.with_suffix(".md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0 if all(r["identical"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
