"""Benchmark 2: a burst of 1 000 price updates per second for 60 s against the live bot.

The simulator (own process) sets the price 2 USDT higher 1 000 times a second, so the grid centre moves
one 10 USDT level every 5 updates: 200 decisions/s that each cancel one buy and place one, on top of
1 000 market-data frames/s. Measured in the bot process: the mailbox sizes of the strategy, slot
manager, exchange and risk actors (sampled every 10 ms: they must stay bounded, price ticks coalesce),
how many prices the strategy actually took, the bot's CPU use, its RSS and threads, and the
tick-to-order latency of the decisions under that load.

    python bench/live_burst.py                # 3 runs x 60 s
    python bench/live_burst.py --quick        # 1 run x 10 s, results not written
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from live_bot import LiveBot, every_request, first_per_decision, print_stages, stage_table  # noqa: E402
from live_support import (  # noqa: E402
    RESULTS,
    command_line,
    cpu_seconds,
    machine,
    machine_line,
    median_of,
    percentiles,
    proc_status,
)

from actors import wiring as w  # noqa: E402

STEP = "2"  # USDT per update: a new grid level every 5 updates


def _sample_inboxes(bot: LiveBot, stop: threading.Event, out: dict[str, list[int]]) -> None:
    while not stop.wait(0.01):
        for name, size in bot.inbox_sizes().items():
            out.setdefault(name, []).append(size)


def _decisions(strategy: Any) -> int:
    """How many times the strategy asked the core (asked from outside, with a timeout)."""
    return int(strategy.proxy().decisions.get(timeout=30)) if strategy is not None else 0


def run_once(seconds: float, rate: float, cpu: int = 0) -> dict[str, Any]:
    """A fresh simulator and bot; ``seconds`` of ``rate`` updates per second; the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        bot = LiveBot(Path(tmp), {"bot": {"cpu": None if cpu < 0 else cpu}}).start()
        try:
            assert bot.sim is not None and bot.system is not None
            box = bot.system.box
            strategy = bot.system.wiring.get(w.STRATEGY)
            decided0 = _decisions(strategy)
            puts0, notes0 = box.puts, box.notifications
            sizes: dict[str, list[int]] = {}
            stop = threading.Event()
            sampler = threading.Thread(target=_sample_inboxes, args=(bot, stop, sizes), daemon=True)
            sampler.start()
            bot.recorder.clear()
            cpu0, sim0, t0 = cpu_seconds(), cpu_seconds(bot.sim.pid), time.perf_counter()
            bot.sim.ramp("100002", STEP, rate, int(seconds * rate))
            drive = bot.sim.ramp_wait()
            took = time.perf_counter() - t0
            cpu, sim_cpu = cpu_seconds() - cpu0, cpu_seconds(bot.sim.pid) - sim0
            time.sleep(1.0)  # the tail drains
            stop.set()
            sampler.join()
            footprint = proc_status()
            inbox_end = bot.inbox_sizes()
            samples = list(bot.recorder.samples)
            stages = stage_table(list(bot.recorder.traces))
            decided = _decisions(strategy) - decided0
            puts, notes = box.puts - puts0, box.notifications - notes0
        finally:
            bot.stop()
    first = percentiles(first_per_decision(samples))
    return {
        "updates": puts,
        "strategy_wakeups": notes,
        "strategy_decisions": decided,
        "order_decisions": first["n"],
        "requests": len(samples),
        "inbox_max": {k: max(v) for k, v in sizes.items()},
        "inbox_p99": {k: sorted(v)[int(0.99 * len(v))] for k, v in sizes.items()},
        "inbox_at_end": inbox_end,
        "bot_cpu_percent": round(100 * cpu / took, 1),
        "sim_cpu_percent": round(100 * sim_cpu / took, 1),
        "footprint": footprint,
        **first,
        "every_request": percentiles(every_request(samples)),
        "stages": stages,
        "drive": {k: round(v, 3) for k, v in drive.items()},
    }


def write_md(doc: dict[str, Any], path: Path) -> None:
    """The results as a short Markdown page."""
    lines = [
        "# Burst: 1 000 price updates/s (live path, simulator over loopback)",
        "",
        f"Command: `{doc['command']}`  ",
        f"Date (UTC): {doc['date_utc']}",
        "",
        "| run | updates | strategy wake-ups | order decisions | inbox max (strategy/slots/exchange/risk) "
        "| bot CPU | sim CPU | latency p50/p90/p99/max us | RSS MB | threads |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(doc["runs"], 1):
        mx = r["inbox_max"]
        lines.append(
            f"| {i} | {r['updates']} | {r['strategy_wakeups']} | {r['order_decisions']} "
            f"| {mx.get('strategy')}/{mx.get('slots')}/{mx.get('exchange')}/{mx.get('risk')} "
            f"| {r['bot_cpu_percent']}% | {r['sim_cpu_percent']}% "
            f"| {r.get('p50_us', 0):.0f}/{r.get('p90_us', 0):.0f}/{r.get('p99_us', 0):.0f}"
            f"/{r.get('max_us', 0):.0f} "
            f"| {r['footprint']['rss_mb']:.0f} | {r['footprint']['threads']:.0f} |"
        )
    m = doc["median"]
    mach = doc["machine"]
    lines += [
        "",
        f"Medians over {len(doc['runs'])} runs of {doc['seconds']} s: bot CPU {m['bot_cpu_percent']}%, "
        f"latency p50 {m['p50_us']:.0f} us, p99 {m['p99_us']:.0f} us, max {m['max_us']:.0f} us.",
        "",
        machine_line(mach),
        "",
        doc["method"],
        "",
    ]
    path.write_text("\n".join(lines))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rate", type=float, default=1000.0, help="price updates per second")
    ap.add_argument("--quick", action="store_true", help="1 run of 10 s, results not written")
    ap.add_argument("--out", default=str(RESULTS / "live_burst.json"))
    ap.add_argument("--cpu", type=int, default=0, help="pin the bot to this CPU (bot.cpu); -1: not pinned")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.seconds = 1, 10.0
    runs = []
    for i in range(args.runs):
        r = run_once(args.seconds, args.rate, args.cpu)
        runs.append(r)
        print(
            f"run {i + 1}: {r['updates']} updates ({r['drive']['rate_hz']:.0f}/s), strategy woke "
            f"{r['strategy_wakeups']} times, {r['order_decisions']} order decisions; inbox max "
            f"{r['inbox_max']}, at end {r['inbox_at_end']}; bot CPU {r['bot_cpu_percent']}%, sim CPU "
            f"{r['sim_cpu_percent']}%; latency p50 {r.get('p50_us', 0):.0f} us "
            f"p99 {r.get('p99_us', 0):.0f} us "
            f"max {r.get('max_us', 0):.0f} us; RSS {r['footprint']['rss_mb']:.0f} MB, "
            f"{r['footprint']['threads']:.0f} threads",
            flush=True,
        )
        print_stages(r["stages"])
    med = {k: median_of(runs, k) for k in ("bot_cpu_percent", "p50_us", "p99_us", "max_us")}
    print(
        f"median of {len(runs)} runs: bot CPU {med['bot_cpu_percent']}%, latency p50 {med['p50_us']:.0f} us, "
        f"p99 {med['p99_us']:.0f} us, max {med['max_us']:.0f} us",
        flush=True,
    )
    if args.quick:
        return 0
    doc = {
        "benchmark": "1 000 price updates/s burst against the live bot, simulator in its own process",
        "command": command_line(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": args.seconds,
        "rate_hz": args.rate,
        "median": med,
        "runs": runs,
        "bot_cpu": None if args.cpu < 0 else args.cpu,
        "machine": machine(),
        "method": " ".join((__doc__ or "").split("\n\n")[1:2]).replace("\n", " "),
    }
    out = Path(args.out)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    write_md(doc, out.with_suffix(".md"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
