"""Backtest speed: candles per second over one year of 1-minute candles, dynamic interval off and on.

    python bench/backtest_speed.py                      # 525 600 seeded synthetic candles
    python bench/backtest_speed.py --data F1.csv F2.csv --set tick_size=0.001 step_size=1 ...

For each grid interval and dynamic on/off it times:

* ``cold``: one full ``run_backtest`` including the market-series pass (ATR, baseline, triggers and
  the dynamic interval over the whole history, computed by ``market_maker.core.series``);
* ``warm``: the replay alone with that pass cached (what each run of a sweep costs), median of
  ``--repeat`` runs, as wall time and as this process's CPU time (on a shared box the CPU time is
  the fairer "one core" figure: wall time also counts the time other jobs held the core).

Candles/s = candles / wall time on one core (one process, no threads). It also reports how many times
the engine asked the core (``core_calls``: rounds of ``market_maker.core.quiet.evaluate``, which gives
the actions and the quiet band from one strategy pass, plus one pass after carrying out orders and a few
for neighbouring quiet cells), because that, not the number of candles, is what the time depends on.
Results go to ``bench/results/backtest_speed.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import market_maker  # noqa: E402
from market_maker.backtest import market_series as ms_mod  # noqa: E402
from market_maker.backtest.candles import concat  # noqa: E402
from market_maker.backtest.engine import run_backtest  # noqa: E402
from market_maker.backtest.loaders import load_klines  # noqa: E402
from market_maker.backtest.settings import BacktestSettings  # noqa: E402
from market_maker.backtest.synthetic import synthetic_candles  # noqa: E402
from market_maker.config import load_config  # noqa: E402


def _one(candles, settings: BacktestSettings, repeat: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    ms_mod._CACHE.clear()
    t = time.perf_counter()
    run = run_backtest(candles, settings)
    cold = time.perf_counter() - t
    warm, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        run = run_backtest(candles, settings)
        warm.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    w = statistics.median(warm)
    wc = statistics.median(cpu)
    n = len(candles)
    return {
        "price_interval": str(settings.config.trading.price_interval),
        "dynamic_interval": settings.config.trading.dynamic_interval,
        "candles": n,
        "cold_seconds": round(cold, 3),
        "cold_candles_per_s": round(n / cold),
        "warm_seconds": round(w, 3),
        "warm_candles_per_s": round(n / w),
        "warm_runs": [round(x, 3) for x in warm],
        # CPU time of this process: what one core spent, less skewed than wall time on a shared box
        "warm_cpu_seconds": round(wc, 3),
        "warm_cpu_candles_per_s": round(n / wc),
        "warm_cpu_runs": [round(x, 3) for x in cpu],
        "core_calls": run.counters.core_calls,
        "core_calls_per_s": round(run.counters.core_calls / w),
        "candles_per_core_call": round(n / max(run.counters.core_calls, 1), 1),
        "fills": len(run.fills),
        "round_trips": len(run.round_trips),
        "interval_changes": run.counters.interval_changes,
    }


def _process(cmd: list[str], repeat: int) -> dict[str, float]:
    """Whole ``python -m market_maker backtest`` processes: median wall and CPU (user + sys) seconds.

    Run as a user's machine runs it, with Python's default bytecode cache: modules load from their
    ``__pycache__`` (one untimed run first writes it). Some CI and sandbox images set
    ``PYTHONDONTWRITEBYTECODE=1``, and then an editable checkout compiles each module from source at
    every start (about 0.03-0.05 s more CPU for a 2-candle file on the benchmark box)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT, env=env)
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT, env=env)
        walls.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {
        "process_wall_s": round(statistics.median(walls), 3),
        "process_cpu_s": round(statistics.median(cpus), 3),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def write_md(doc: dict, path: Path, notes: str = "") -> None:  # type: ignore[type-arg]
    """A Markdown table of the results (what the docs quote)."""
    st, mach = doc["settings"], doc["machine"]
    lines = [
        "# Backtest speed",
        "",
        f"Data: {doc['data']}. Windows {st['buy_window_size']} + {st['sell_window_size']}, "
        f"order {st['order_quantity']}, max inventory {st['max_inventory']}; "
        f"Python {mach['python']} on {mach['processor']}, one process; core "
        f"{'compiled (mypyc)' if mach.get('compiled') else 'pure Python'}; load average "
        f"{mach.get('load_at_start', '?')} at the start ({mach.get('date_utc', '?')} UTC).",
        "",
        "Command: `" + doc.get("command", "python bench/backtest_speed.py") + "`",
        "",
        "Warm: the replay alone, market series cached (median of the repeats). Cold: one run including"
        " the market-series pass. Process: the whole `python -m market_maker backtest ... --json` command"
        " (imports, settings, candles from the parsed-candle cache, run, summary), median wall and CPU.",
        "",
        "| price_interval | dynamic | candles | fills | round trips | warm CPU s | warm candles/s (CPU) "
        "| warm wall s | cold wall s | process CPU s | process wall s | core calls | interval changes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["results"]:
        cpu_rate = f"{r['warm_cpu_candles_per_s']:,}" if "warm_cpu_candles_per_s" in r else "-"
        lines.append(
            f"| {r['price_interval']} | {'on' if r['dynamic_interval'] else 'off'} | {r['candles']:,} "
            f"| {r['fills']:,} | {r.get('round_trips', '-')} | {r.get('warm_cpu_seconds', '-')} "
            f"| **{cpu_rate}** | {r['warm_seconds']} | {r['cold_seconds']} "
            f"| {r.get('process_cpu_s', '-')} | {r.get('process_wall_s', '-')} "
            f"| {r['core_calls']:,} | {r['interval_changes']:,} |"
        )
    if "startup" in doc:
        st = doc["startup"]
        lines += [
            "",
            f"Start-up (`backtest` on a 2-candle file, whole process): CPU {st['process_cpu_s']} s,"
            f" wall {st['process_wall_s']} s (median of {st['repeat']}), modules loaded from their"
            " bytecode cache as on a user's machine (Python's default; the process rows too).",
        ]
    lines += ["", notes.strip(), ""] if notes.strip() else [""]
    path.write_text("\n".join(lines))


def _cli(args: argparse.Namespace, extra: list[str], data: list[Path] | None = None) -> list[str]:
    """The `backtest` command line for this benchmark's data, configuration and settings."""
    cmd = [sys.executable, "-m", "market_maker", "backtest", "--data", *map(str, data or args.data)]
    if args.config:
        cmd += ["--config", str(args.config)]
    sets = [*args.set, *extra]
    return [*cmd, *(["--set", *sets] if sets else []), "--json", "--no-progress"]


def main() -> int:
    """Run the benchmark and write the results."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--candles", type=int, default=525_600)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--intervals", default="50,200,1000", help="price_interval values (synthetic starts at 100000)"
    )
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--data", nargs="+", type=Path, help="kline files instead of synthetic candles")
    ap.add_argument("--set", nargs="+", default=[], metavar="NAME=VALUE", help="settings for --data")
    ap.add_argument("--config", type=Path, help="a bot configuration to start from (e.g. bench/configs/...)")
    ap.add_argument(
        "--process-repeat",
        type=int,
        default=0,
        help="also time N whole `backtest` processes per row (--data)",
    )
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "backtest_speed.json")
    ap.add_argument(
        "--notes", type=Path, help="a Markdown file appended to the .md table (profile, analysis)"
    )
    ap.add_argument("--md-only", action="store_true", help="only rewrite the .md from an existing --out JSON")
    args = ap.parse_args()
    notes = args.notes.read_text() if args.notes else ""
    load_at_start = os.getloadavg()[0]
    if args.md_only:
        write_md(json.loads(args.out.read_text()), args.out.with_suffix(".md"), notes)
        return 0
    windows = {"buy_window_size": "5", "sell_window_size": "5"}
    start = BacktestSettings(load_config(args.config, {})) if args.config else BacktestSettings()
    base = start.with_overrides({**windows, **dict(item.split("=", 1) for item in args.set)})
    rules = base.params.rules
    if args.data:
        candles = concat([load_klines(p, rules.tick_size, rules.step_size) for p in args.data])
    else:
        candles = synthetic_candles(
            args.candles, seed=args.seed, tick_size=rules.tick_size, step_size=rules.step_size
        )
    results = []
    for iv in args.intervals.split(","):
        for dynamic in (False, True):
            s = base.with_overrides({"price_interval": iv, "dynamic_interval": str(dynamic)})
            r = _one(candles, s, args.repeat)
            if args.data and args.process_repeat:
                r.update(
                    _process(
                        _cli(args, [f"price_interval={iv}", f"dynamic_interval={dynamic}"]),
                        args.process_repeat,
                    )
                )
            print(json.dumps(r), flush=True)
            results.append(r)
    doc = {
        "benchmark": "backtest_speed",
        "data": candles.source,
        "settings": {k: v for k, v in base.as_strings().items() if k != "price_interval"},
        "machine": {
            "python": platform.python_version(),
            "processor": _cpu_model(),
            "compiled": market_maker.COMPILED,
            "load_at_start": round(load_at_start, 1),
            "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        },
        "command": "python bench/backtest_speed.py " + " ".join(sys.argv[1:]),
        "results": results,
    }
    if args.data and args.process_repeat:
        with tempfile.TemporaryDirectory() as tmp:
            two = Path(tmp) / "two.csv"
            two.write_text("\n".join(Path(args.data[0]).read_text().splitlines()[:3]) + "\n")
            cli = _cli(args, [], data=[two])
            n = max(3, args.process_repeat)
            doc["startup"] = {**_process(cli, n), "repeat": n}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    write_md(doc, args.out.with_suffix(".md"), notes)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
