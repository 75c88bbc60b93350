"""Benchmark 1: tick-to-order latency through the real actors and the real connector, simulator over loopback.

What is timed: from the moment websocket-client hands a market-data frame to the PriceMonitorActor's
stream (``perf_counter_ns`` taken first thing in ``ws.Connection._handle_message``, before JSON
decoding) to the moment the order request is written to the socket (the transport's connection calls
the probe right before the request's first ``sendall`` or the WebSocket frame's write, after signing,
encoding and any connect). In between: parsing (a bookTicker straight from its text), the LatestBox
coalescing hand-off, the StrategyActor asking the core for actions, the SlotManagerActor's checks and
core transition (a decision's cancels go out before anything is written; its placements after their
intents' SQLite commit, on the slot manager's own thread), all on the stream's thread when the
decisions thread is idle (``Dispatcher.run_here``, actors/dispatch.py), else on the decisions thread;
then the ExchangeActor's order desk, which over the WebSocket API writes the frame on that same thread
(an order lane waits for the answer) and over REST hands the request to an order lane (gateway, rate
limiter, order encoding and HMAC signature). Each hop is stamped (actors/stages.py): the runs print every
stage's p50 and p99. The bot is pinned to one CPU (``bot.cpu``, ``--cpu``; -1: not pinned); the
simulator may use every CPU and pushes an open kline at Binance's spot pace (2 s).

How the market is driven: the simulator runs in its own process and sets the price one grid level
(10 USDT) higher every 1/rate seconds, so every tick moves the grid: the bot cancels the buy that fell
more than one level below the window and places a new buy one level below the centre. Every such
decision counts once (its first order request, the cancel; the placement, committed after the cancel
went to its lane, goes out on the other lane: "every request" counts both, and each kind's first
request per decision is also reported on its own).

How the order goes out (``--transport``): over REST with an HMAC key (a signed query string on a
kept-alive HTTP connection), or over the WebSocket API with an Ed25519 key (``exchange.order_transport:
websocket``: one JSON frame on the logged-on socket, no per-request signature). ``both`` (the default)
alternates the two run by run in one invocation, so they share the box's state and hour.

    python bench/live_latency.py                # 3 runs x 3 400 ticks at 25 ticks/s, each transport
    python bench/live_latency.py --transport rest --quick   # 1 run x 1 000 ticks, REST only
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from live_bot import (  # noqa: E402
    INTERVAL,
    LiveBot,
    every_request,
    first_of_kind,
    first_per_decision,
    print_stages,
    stage_table,
)
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

TARGET_P50_US, TARGET_P99_US = 250, 1000


TRANSPORTS = ("rest", "websocket")


def run_once(ticks: int, rate: float, warmup: int, cpu: int = 0, transport: str = "rest") -> dict[str, Any]:
    """Start a fresh simulator and bot, drive ``warmup`` then ``ticks`` prices; the figures."""
    sections = {"bot": {"cpu": None if cpu < 0 else cpu}, "exchange": {"order_transport": transport}}
    with tempfile.TemporaryDirectory() as tmp:
        bot = LiveBot(Path(tmp), sections).start()
        try:
            assert bot.sim is not None
            price = 100000
            bot.sim.ramp(str(price + 10), INTERVAL, rate, warmup)
            bot.sim.ramp_wait()
            time.sleep(0.5)
            price += 10 * warmup
            bot.recorder.clear()
            cpu0, t0 = cpu_seconds(), time.perf_counter()
            bot.sim.ramp(str(price + 10), INTERVAL, rate, ticks)
            drive = bot.sim.ramp_wait()
            time.sleep(0.5)  # the last decisions go out
            cpu, took = cpu_seconds() - cpu0, time.perf_counter() - t0
            samples = list(bot.recorder.samples)
            stages = stage_table(list(bot.recorder.traces))
            inbox_end = bot.inbox_sizes()
            footprint = proc_status()
        finally:
            bot.stop()
    first = percentiles(first_per_decision(samples))
    every = percentiles(every_request(samples))
    return {
        "transport": transport,
        "decisions": first["n"],
        "requests": every["n"],
        "placed": sum(1 for s in samples if s[0] == "place"),
        "cancelled": sum(1 for s in samples if s[0] == "cancel"),
        **first,
        "every_request": every,
        # a decision cancels the buy that fell out of the window and places the new one: each kind's first
        "first_cancel": percentiles(first_of_kind(samples, "cancel")),
        "first_place": percentiles(first_of_kind(samples, "place")),
        "drive": {k: round(v, 3) for k, v in drive.items()},
        "bot_cpu_percent": round(100 * cpu / took, 1),
        "inbox_at_end": inbox_end,
        "first_us": first_per_decision(samples),
        "stages": stages,
        "bench_process": footprint,  # the bot plus this harness (its RSS includes the harness's imports)
    }


def write_md(doc: dict[str, Any], path: Path) -> None:
    """The results as a short Markdown page: the transports side by side, then each one's runs and stages."""
    per = doc["transports"]
    names = list(per)
    lines = [
        "# Tick-to-order latency (live path, simulator over loopback)",
        "",
        f"Command: `{doc['command']}`  ",
        f"Date (UTC): {doc['date_utc']}",
        "",
        f"Median over {len(per[names[0]]['runs'])} runs per transport of {doc['ticks_per_run']} ticks at "
        f"{doc['rate_hz']} ticks/s (first order request of each decision); the transports' runs alternated "
        "in this one invocation:",
        "",
        "| order transport | p50 | p90 | p99 | max | pooled p50 / p99 | target p50 <= "
        f"{TARGET_P50_US} us, p99 <= {TARGET_P99_US} us |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in names:
        m, pooled = per[name]["median"], per[name]["pooled"]
        met = m["p50_us"] <= TARGET_P50_US and m["p99_us"] <= TARGET_P99_US
        verdict = (
            "met"
            if met
            else "p50 "
            + ("met" if m["p50_us"] <= TARGET_P50_US else "missed")
            + (", p99 " + ("met" if m["p99_us"] <= TARGET_P99_US else "missed"))
        )
        lines.append(
            f"| {LABELS[name]} | {m['p50_us']:.0f} us | {m['p90_us']:.0f} us | {m['p99_us']:.0f} us "
            f"| {m['max_us']:.0f} us | {pooled['p50_us']:.0f} / {pooled['p99_us']:.0f} us | {verdict} |"
        )
    lines += [
        "",
        "By kind (each decision cancels one buy and places one; median over runs of each kind's first "
        "request per decision):",
        "",
        "| order transport | tick-to-cancel p50 / p99 | tick-to-place p50 / p99 |",
        "|---|---|---|",
    ]
    for name in names:
        k = per[name]["by_kind"]
        lines.append(
            f"| {LABELS[name]} | {k['cancel']['p50_us']:.0f} / {k['cancel']['p99_us']:.0f} us "
            f"| {k['place']['p50_us']:.0f} / {k['place']['p99_us']:.0f} us |"
        )
    for name in names:
        lines += [
            "",
            f"## {LABELS[name]}",
            "",
            "| run | decisions | p50 us | p90 us | p99 us | max us | every request p50/p99 us | bot CPU |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for i, r in enumerate(per[name]["runs"], 1):
            e = r["every_request"]
            lines.append(
                f"| {i} | {r['decisions']} | {r['p50_us']:.0f} | {r['p90_us']:.0f} | {r['p99_us']:.0f} "
                f"| {r['max_us']:.0f} | {e['p50_us']:.0f} / {e['p99_us']:.0f} | {r['bot_cpu_percent']}% |"
            )
    lines += [
        "",
        "Where the time goes (stage stamps, actors/stages.py; median over runs of each stage's p50, p99; the "
        "last stage is the gateway, encoding and the REST signature or the WebSocket frame):",
        "",
        "| stage | " + " | ".join(f"{LABELS[n]} p50 / p99 us" for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    stages = [st["stage"] for st in per[names[0]]["stages_median"]]
    for i, stage in enumerate(stages):
        cells = [
            f"{per[n]['stages_median'][i]['p50_us']:.0f} / {per[n]['stages_median'][i]['p99_us']:.0f}"
            for n in names
        ]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines += ["", machine_line(doc["machine"]), "", doc["method"], ""]
    path.write_text("\n".join(lines))


LABELS = {"rest": "REST, HMAC key", "websocket": "WebSocket API, Ed25519 key (session.logon)"}


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over runs, pooled percentiles and per-stage medians of one transport's runs."""
    med = {k: median_of(runs, k) for k in ("p50_us", "p90_us", "p99_us", "max_us", "bot_cpu_percent")}
    pooled = percentiles([x for r in runs for x in r.pop("first_us")])
    stages = [
        {
            "stage": st["stage"],
            "p50_us": statistics.median(r["stages"][i].get("p50_us", 0) for r in runs),
            "p99_us": statistics.median(r["stages"][i].get("p99_us", 0) for r in runs),
        }
        for i, st in enumerate(runs[0]["stages"])
    ]
    by_kind = {
        kind: {q: statistics.median(r[f"first_{kind}"].get(q, 0) for r in runs) for q in ("p50_us", "p99_us")}
        for kind in ("cancel", "place")
    }
    return {"median": med, "pooled": pooled, "by_kind": by_kind, "stages_median": stages, "runs": runs}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="runs per transport")
    ap.add_argument("--ticks", type=int, default=3_400, help="measured ticks per run (3 runs: > 10 000)")
    ap.add_argument("--rate", type=float, default=25.0, help="ticks per second")
    ap.add_argument("--warmup", type=int, default=300, help="ticks before measuring")
    ap.add_argument("--quick", action="store_true", help="1 run of 1 000 ticks, results not written")
    ap.add_argument("--out", default=str(RESULTS / "live_latency.json"))
    ap.add_argument("--cpu", type=int, default=0, help="pin the bot to this CPU (bot.cpu); -1: not pinned")
    ap.add_argument(
        "--transport",
        choices=(*TRANSPORTS, "both"),
        default="both",
        help="order transport: rest (HMAC key), websocket (WebSocket API, Ed25519 key) or both, alternating",
    )
    args = ap.parse_args()
    if args.quick:
        args.runs, args.ticks, args.warmup = 1, 1000, 100
    transports = TRANSPORTS if args.transport == "both" else (args.transport,)
    runs: dict[str, list[dict[str, Any]]] = {t: [] for t in transports}
    for i in range(args.runs):
        for transport in transports:
            r = run_once(args.ticks, args.rate, args.warmup, args.cpu, transport)
            runs[transport].append(r)
            e = r["every_request"]
            print(
                f"run {i + 1} {transport}: {r['decisions']} decisions ({r['placed']} placed, "
                f"{r['cancelled']} cancelled): p50 {r['p50_us']:.0f} us, p90 {r['p90_us']:.0f} us, "
                f"p99 {r['p99_us']:.0f} us, max {r['max_us']:.0f} us; every request p50 {e['p50_us']:.0f} us "
                f"p99 {e['p99_us']:.0f} us; bot CPU {r['bot_cpu_percent']}%, "
                f"drive {r['drive']['rate_hz']:.0f}/s; first cancel p50 "
                f"{r['first_cancel'].get('p50_us', 0):.0f} us, first place p50 "
                f"{r['first_place'].get('p50_us', 0):.0f} us",
                flush=True,
            )
            print_stages(r["stages"])
    per = {t: summary(rs) for t, rs in runs.items()}
    for t, s in per.items():
        med, pooled = s["median"], s["pooled"]
        print(
            f"{t}: median of {len(runs[t])} runs: p50 {med['p50_us']:.0f} us (target {TARGET_P50_US}), "
            f"p90 {med['p90_us']:.0f} us, p99 {med['p99_us']:.0f} us (target {TARGET_P99_US}), "
            f"max {med['max_us']:.0f} us; pooled over {pooled['n']} decisions: "
            f"p50 {pooled['p50_us']:.0f} us, p99 {pooled['p99_us']:.0f} us",
            flush=True,
        )
    if args.quick:
        return 0
    doc = {
        "benchmark": "tick-to-order latency, real actors + connector, simulator in its own process",
        "command": command_line(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "ticks_per_run": args.ticks,
        "rate_hz": args.rate,
        "transports": per,
        "targets_us": {"p50": TARGET_P50_US, "p99": TARGET_P99_US},
        "bot_cpu": None if args.cpu < 0 else args.cpu,
        "machine": machine(),
        "method": " ".join((__doc__ or "").split("\n\n")[1:4]).replace("\n", " "),
    }
    out = Path(args.out)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    write_md(doc, out.with_suffix(".md"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
