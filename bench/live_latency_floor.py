"""Diagnostic for benchmark 1: what tick-to-order costs without the store's writes on the order path.

Runs bench/live_latency.py's scenario (the real actors and connector, the simulator in its own
process) twice per round in one invocation: once as shipped, and once with the three store calls the
slot manager makes between a decision and its order requests turned into no-ops
(``Store.save_book_diff``, ``Store.record_intent``, ``Store.atomic``). The second bot is NOT
crash-safe (it sends orders whose intent was never written), so this exists only here, on the
simulator, to answer one question: how far is the tick-to-order target without the intent write,
i.e. what could any way of making that write cheaper win at most. The difference between the two
"slot manager" stages is what the SQLite writes cost in the running bot; every other stage is the same
code in both.

    python bench/live_latency_floor.py                       # 2 rounds x 1 000 ticks, WebSocket API
    python bench/live_latency_floor.py --transport rest --rounds 3
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from live_latency import LABELS, TARGET_P50_US, TARGET_P99_US, TRANSPORTS, run_once  # noqa: E402
from live_support import RESULTS, command_line, machine, machine_line  # noqa: E402

from market_maker.store.store import Store  # noqa: E402

MODES = ("as shipped", "no store writes on the order path")


@contextlib.contextmanager
def without_order_writes() -> Iterator[None]:
    """The slot manager's writes before an order request become no-ops (this process only)."""
    saved = Store.save_book_diff, Store.record_intent, Store.atomic
    Store.save_book_diff = lambda self, old, new: None  # type: ignore[method-assign]
    Store.record_intent = lambda self, *a, **k: None  # type: ignore[method-assign]
    Store.atomic = lambda self: contextlib.nullcontext()  # type: ignore[assignment,method-assign,return-value]
    try:
        yield
    finally:
        Store.save_book_diff, Store.record_intent, Store.atomic = saved  # type: ignore[method-assign]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=2, help="rounds (each: one run per mode)")
    ap.add_argument("--ticks", type=int, default=1_000, help="measured ticks per run")
    ap.add_argument("--rate", type=float, default=25.0, help="ticks per second")
    ap.add_argument("--transport", choices=TRANSPORTS, default="websocket")
    ap.add_argument("--cpu", type=int, default=0, help="pin the bot to this CPU; -1: not pinned")
    ap.add_argument("--out", default=str(RESULTS / "live_latency_floor.json"))
    args = ap.parse_args()
    load_start = [round(x, 2) for x in os.getloadavg()]
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    for i in range(args.rounds):
        for mode in MODES:
            with without_order_writes() if mode == MODES[1] else contextlib.nullcontext():
                r = run_once(args.ticks, args.rate, 100, args.cpu, args.transport)
            r.pop("first_us")
            runs[mode].append(r)
            st = r["stages"]
            print(
                f"round {i + 1} {mode}: p50 {r['p50_us']:.0f} us, p99 {r['p99_us']:.0f} us; "
                f"slot manager stage p50 {st[3].get('p50_us', 0):.0f} us",
                flush=True,
            )
    med = {
        m: {k: statistics.median(r[k] for r in rs) for k in ("p50_us", "p90_us", "p99_us", "bot_cpu_percent")}
        for m, rs in runs.items()
    }
    stages = {
        m: [
            {"stage": s["stage"], "p50_us": statistics.median(r["stages"][i].get("p50_us", 0) for r in rs)}
            for i, s in enumerate(rs[0]["stages"])
        ]
        for m, rs in runs.items()
    }
    doc = {
        "benchmark": "tick-to-order with and without the order path's store writes (diagnostic)",
        "command": command_line(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "transport": args.transport,
        "ticks_per_run": args.ticks,
        "rate_hz": args.rate,
        "load_average_at_start": load_start,
        "median": med,
        "stages_median_p50": stages,
        "runs": runs,
        "machine": machine(),
    }
    out = Path(args.out)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    lines = [
        "# Tick-to-order without the store's writes (diagnostic, not a correct bot)",
        "",
        f"Command: `{doc['command']}`  ",
        f"Date (UTC): {doc['date_utc']}; load average at start {load_start}",
        "",
        f"{LABELS[args.transport]}; median over {args.rounds} runs per mode of {args.ticks} ticks at "
        f"{args.rate} ticks/s, modes alternating (first order request of each decision; target p50 <= "
        f"{TARGET_P50_US} us, p99 <= {TARGET_P99_US} us):",
        "",
        "| mode | p50 | p90 | p99 | bot CPU |",
        "|---|---|---|---|---|",
        *(
            f"| {m} | {v['p50_us']:.0f} us | {v['p90_us']:.0f} us | {v['p99_us']:.0f} us | "
            f"{v['bot_cpu_percent']}% |"
            for m, v in med.items()
        ),
        "",
        "Stage p50s (median over runs, us):",
        "",
        "| stage | " + " | ".join(MODES) + " |",
        "|---|---|---|",
        *(
            f"| {s['stage']} | " + " | ".join(f"{stages[m][i]['p50_us']:.0f}" for m in MODES) + " |"
            for i, s in enumerate(stages[MODES[0]])
        ),
        "",
        machine_line(doc["machine"]),
        "",
        " ".join((__doc__ or "").split("\n\n")[1].split("\n")),
        "",
    ]
    out.with_suffix(".md").write_text("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
