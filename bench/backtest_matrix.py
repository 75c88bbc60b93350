"""The backtester over a matrix of real and gappy data: does every run finish, and how do take-profits close?

    python bench/backtest_matrix.py --data AVAXUSDT-1m-2026-06.csv AVAXUSDT-1m-2026-07.csv \
        [--freqtrade UNITTEST_BTC-1m.json]

For each data set, grid interval, inventory skew (0 and 0.5) and dynamic interval (off and on) it runs
one backtest with the default risk rules and records whether it finished or ended in an error (a user's
backtest must never end in an internal error), the fills and round trips, how the take-profits closed
(at level + I, above it, still held) and how often one was moved up, and the wall time.

Data sets:

* ``avax``: the kline files given with ``--data`` (real Binance USD-M AVAXUSDT 1-minute candles, the
  two shared months), intervals 0.005 .. 0.2 (absolute, tick 0.001).
* ``avax-gappy``: the same candles with seeded stretches removed (a fifth of the minutes, in runs of
  1 to 30 minutes, plus three outages of 2 to 6 hours), so that prices jump across levels between
  candles and the stale-data rule fires, as in exchanges' sparse public histories.
* ``freqtrade``: freqtrade's public ``UNITTEST_BTC-1m.json`` when given (``--freqtrade``; its 6-field
  ``[time, open, high, low, close, volume]`` rows, Nov 2017 ETH/BTC-like prices with many missing minutes
  and flat candles), intervals 0.1 % .. 2 % of its first close on a 1e-8 tick. The file stays outside
  this repository.

Results go to ``bench/results/backtest_matrix.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import sys
import time
import traceback
from decimal import Decimal
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from market_maker.backtest.candles import Candles, concat  # noqa: E402
from market_maker.backtest.engine import run_backtest  # noqa: E402
from market_maker.backtest.loaders import load_klines  # noqa: E402
from market_maker.backtest.settings import BacktestSettings  # noqa: E402

AVAX = {
    "tick_size": "0.001",
    "step_size": "1",
    "order_quantity": "10",
    "max_inventory": "1000",
    "min_qty": "1",
    "min_notional": "5",
    "symbol": "AVAXUSDT",
    "sim.balances.USDT": "100000",
}
AVAX_INTERVALS = ("0.005", "0.01", "0.02", "0.05", "0.1", "0.2")
FT_TICK = Decimal("0.00000001")
FT = {
    "tick_size": str(FT_TICK),
    "step_size": "0.01",
    "order_quantity": "100",
    "max_inventory": "10000",
    "min_qty": "0",
    "min_notional": "0",
    "symbol": "ETHBTC",
    "sim.balances.BTC": "100",
}
FT_PERCENT = ("0.1", "0.2", "0.5", "1", "2")


def gappy(c: Candles, seed: int = 7) -> Candles:
    """``c`` with seeded stretches of candles removed (see the module docstring)."""
    rng = np.random.default_rng(seed)
    keep = np.ones(len(c), dtype=bool)
    removed, target = 0, len(c) // 5
    while removed < target:
        start = int(rng.integers(1, len(c) - 31))
        n = int(rng.integers(1, 31))
        removed += int(keep[start : start + n].sum())
        keep[start : start + n] = False
    for _ in range(3):
        start = int(rng.integers(1, len(c) - 400))
        keep[start : start + int(rng.integers(120, 361))] = False
    return Candles(
        c.open_time_ms[keep].copy(),
        c.open[keep].copy(),
        c.high[keep].copy(),
        c.low[keep].copy(),
        c.close[keep].copy(),
        c.volume[keep].copy(),
        c.tick_size,
        c.step_size,
        c.source + " (gappy, seed 7)",
    )


def freqtrade_candles(path: Path) -> Candles:
    """freqtrade's ``[[ms, open, high, low, close, volume], ...]`` JSON as candles (1e-8 tick, 0.01 step)."""
    rows = json.loads(path.read_text())

    def ticks(x: float) -> int:
        return int(Decimal(repr(x)) / FT_TICK)  # repr: the shortest text that reads back as this float

    cols = list(zip(*rows, strict=True))
    return Candles(
        np.asarray(cols[0], dtype=np.int64),
        np.asarray([ticks(x) for x in cols[1]], dtype=np.int64),
        np.asarray([ticks(x) for x in cols[2]], dtype=np.int64),
        np.asarray([ticks(x) for x in cols[3]], dtype=np.int64),
        np.asarray([ticks(x) for x in cols[4]], dtype=np.int64),
        np.asarray([int(Decimal(repr(x)) / Decimal("0.01")) for x in cols[5]], dtype=np.int64),
        FT_TICK,
        Decimal("0.01"),
        str(path),
    )


def one(name: str, candles: Candles, base: BacktestSettings, interval: str, skew: str, dyn: bool) -> dict:  # type: ignore[type-arg]
    """One backtest of the matrix, its outcome and figures."""
    s = base.with_overrides(
        {"price_interval": interval, "inventory_skew_factor": skew, "dynamic_interval": str(dyn)}
    )
    row: dict[str, object] = {
        "data": name,
        "price_interval": interval,
        "skew": skew,
        "dynamic": dyn,
        "candles": len(candles),
    }
    t = time.perf_counter()
    try:
        run = run_backtest(candles, s)
    except Exception as exc:  # the point of this benchmark: count every way a run can end badly
        row.update(outcome=f"{type(exc).__name__}: {exc}", seconds=round(time.perf_counter() - t, 2))
        traceback.print_exc()
        return row
    k = run.counters
    row.update(
        outcome="ok",
        seconds=round(time.perf_counter() - t, 2),
        fills=len(run.fills),
        round_trips=len(run.round_trips),
        tp_at_target=k.tp_at_target,
        tp_above_target=k.tp_above_target,
        tp_held=k.tp_held,
        tp_moved_up_passed=k.tp_moved_up_passed,
        tp_moved_up_away=k.tp_moved_up_away,
        cap_cancels=k.cap_cancels,
        stale_cancels=k.stale_cancels,
        halted_candles=k.halted_candles,
        realized_pnl=str(run.realized_pnl),
    )
    return row


def write_md(doc: dict, path: Path) -> None:  # type: ignore[type-arg]
    """The Markdown table of the results."""
    rows = doc["results"]
    errors = sum(r["outcome"] != "ok" for r in rows)
    lines = [
        "# Backtest matrix: real and gappy data, every run must finish",
        "",
        f"Command: `{doc['command']}`",
        "",
        f"Python {doc['machine']['python']} on {doc['machine']['processor']}. Default risk rules "
        "(drawdown and loss breaker, ATR and volume triggers, stale data), windows 5 + 5, post-only, "
        "trade-through fills.",
        "",
        f"**{len(rows)} runs, {errors} ended in an error.**",
        "",
        "| data | candles | interval | skew | dynamic | outcome | s | fills | round trips "
        "| TP at level+I | TP above | TP held | TP moved up (center passed / fell away) | halted candles |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ok = r["outcome"] == "ok"
        lines.append(
            f"| {r['data']} | {r['candles']} | {r['price_interval']} | {r['skew']} "
            f"| {'on' if r['dynamic'] else 'off'} | {r['outcome']} | {r['seconds']} "
            + (
                f"| {r['fills']} | {r['round_trips']} | {r['tp_at_target']} | {r['tp_above_target']} "
                f"| {r['tp_held']} | {r['tp_moved_up_passed']} / {r['tp_moved_up_away']} "
                f"| {r['halted_candles']} |"
                if ok
                else "| | | | | | | |"
            )
        )
    lines += [
        "",
        "Reading it: *TP above* are take-profits placed at C + I rather than level + I (the dynamic "
        "interval grew since the buy, or the path jumped over the sell window); *moved up, center "
        "passed* happens only when skew or an interval change moves the center past a working "
        "take-profit (0 on every static grid without skew); *fell away* are take-profits cancelled when "
        "the price fell more than the sell window below them and placed again higher after a jump. With "
        "skew 0.5 the skewed window falls far below the price after a few buys, so their take-profits "
        "lie above the sell window and are held (HODL until profitable): few fills, and the quiet band, "
        "narrow with skew, makes those runs slow. Wall times were taken beside other jobs on the 2-core "
        "box: compare rows, not machines.",
    ]
    path.write_text("\n".join(lines) + "\n")


def main() -> int:
    """Run the matrix and write the results."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", nargs="+", type=Path, required=True, help="AVAXUSDT kline files, in time order")
    ap.add_argument("--freqtrade", type=Path, help="freqtrade's UNITTEST_BTC-1m.json (optional)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "backtest_matrix.json")
    args = ap.parse_args()
    avax_base = BacktestSettings().with_overrides(AVAX)
    rules = avax_base.params.rules
    avax = concat([load_klines(p, rules.tick_size, rules.step_size) for p in args.data])
    sets: list[tuple[str, Candles, BacktestSettings, list[str]]] = [
        ("avax", avax, avax_base, list(AVAX_INTERVALS)),
        ("avax-gappy", gappy(avax), avax_base, list(AVAX_INTERVALS)),
    ]
    if args.freqtrade:
        ft = freqtrade_candles(args.freqtrade)
        ft_base = BacktestSettings().with_overrides(FT)
        first = Decimal(int(ft.close[0])) * FT_TICK
        ivs = [str((first * Decimal(p) / 100).quantize(FT_TICK)) for p in FT_PERCENT]
        sets.append(("freqtrade", ft, ft_base, ivs))
    results = []
    for name, candles, base, intervals in sets:
        for iv, skew, dyn in itertools.product(intervals, ("0", "0.5"), (False, True)):
            r = one(name, candles, base, iv, skew, dyn)
            print(json.dumps(r), flush=True)
            results.append(r)
    doc = {
        "benchmark": "backtest_matrix",
        "command": "python bench/backtest_matrix.py " + " ".join(sys.argv[1:]),
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
        },
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    write_md(doc, args.out.with_suffix(".md"))
    errors = sum(r["outcome"] != "ok" for r in results)
    print(f"{len(results)} runs, {errors} errors; wrote {args.out}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
