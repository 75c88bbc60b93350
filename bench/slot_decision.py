"""The slot manager's stage of the tick-to-order path, alone: a real SlotManagerActor on a real SQLite store,
driven on this thread (no actor thread, no mailbox hop), in the live benchmarks' scenario.

Set-up per run: a fresh store in a temp dir; the book holds ``--slots`` slots: the three working buys
and FILLED slots far above the market (they hold, as in bench/live_restart.py, and never enter a
window). The actor is built with its constructor, ``on_start()`` runs, then a RiskUpdate and an
ExchangeSnapshot reconcile it as the real start does. Its wiring's references are recording objects
(they implement ``tell``). Logging is installed as ``python -m market_maker run`` does (INFO, to a
file), since the order lines are on the path.

The scenario (bench/live_latency.py): spot, 3+3 window, interval 10 USDT, the price one level higher on
every tick, so each decision is a Cancel of the buy that fell below the window and a Place of a new buy
one level below the centre. The Decisions are the core strategy's for the actor's book (computed outside
the timing); after each, the exchange's Cancelled and Accepted replies are fed back, one message each.
Before each message the log writer thread is let finish the lines logged so far (the bot is idle between
ticks, and a reply takes an exchange round trip), so each message counts the lines it logs itself, not
the backlog of the one before (without that wait the replies measured ~50 us more).

Timed with perf_counter_ns: ``on_receive(Decisions)`` up to the first order handed on (the ORDERS
reference's ``tell``, the span the live stage "slot manager (checks, core transition; a placement's
SQLite intent commit, none for a cancel)" measures, without the mailbox wait), up to the end of the
decision, and each reply's ``on_receive``.
``SlotManagerBase._send`` calls ``slot_base.hand_off`` (``os.sched_yield``) after each tell, to let an
order lane take the GIL; here no lane waits, so every case runs twice: with that hand-off as shipped,
and with it left out (what the slot manager itself costs).

    python bench/slot_decision.py            # 3 runs x 5 000 decisions, 10 and 1 000 slots
    python bench/slot_decision.py --quick    # 1 run x 1 000 decisions, results not written
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from live_bot import BOT_CONFIG  # noqa: E402
from live_support import (  # noqa: E402
    RESULTS,
    SYMBOL,
    command_line,
    filled_slots,
    machine,
    machine_line,
    percentiles,
)

import actors.slot_base as slot_base  # noqa: E402
from actors import wiring as w  # noqa: E402
from actors.messages import (  # noqa: E402
    Accepted,
    Cancelled,
    CancelOrder,
    Decisions,
    ExchangeSnapshot,
    RiskUpdate,
    Submit,
)
from actors.slot_manager import SlotManagerActor, SlotSettings  # noqa: E402
from market_maker.config import config_from_mapping  # noqa: E402
from market_maker.core.actions import is_order_action  # noqa: E402
from market_maker.core.grid import grid_window  # noqa: E402
from market_maker.core.model import Market, OrderSnapshot, OrderStatus, Side  # noqa: E402
from market_maker.core.risk import on_market_data, start_risk  # noqa: E402
from market_maker.core.rules import SymbolRules  # noqa: E402
from market_maker.core.slots import SlotBook  # noqa: E402
from market_maker.core.strategy import actions_for_window  # noqa: E402
from market_maker.ops.log_handoff import flush_handoff, stop_handoff  # noqa: E402
from market_maker.ops.logs import install_logging  # noqa: E402
from market_maker.settings.params import trading_params  # noqa: E402
from market_maker.store import open_store  # noqa: E402

RULES = SymbolRules(SYMBOL, "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), min_notional=Decimal("5"))
BOT = "bench"
START = 10_000_000  # ticks: 100 000.00 USDT
FAR = 1_000_000_000  # ticks: where the extra FILLED slots sit (10 000 000.00 USDT, never in a window)
WARMUP = 20  # decisions before timing (the first ones place the three buys)
WHAT = ("first_send", "decision", "cancelled", "accepted")


class Recorder:
    """Stands for an actor reference: keeps each message told with the perf_counter_ns it arrived at
    (the caller clears them), or, with ``keep=False``, only counts them: a real strategy keeps only the
    newest book, and books kept here would make the garbage collector's passes longer than the bot's."""

    def __init__(self, keep: bool = True) -> None:
        self.keep = keep
        self.told: list[tuple[int, Any]] = []
        self.count = 0

    def tell(self, message: Any) -> None:
        """Record ``message`` (what a real reference would put in the actor's mailbox)."""
        self.count += 1
        if self.keep:
            self.told.append((time.perf_counter_ns(), message))


def _no_hand_off() -> None:
    """Nothing: the hand-off left out."""


SHIPPED_HAND_OFF = slot_base.hand_off


def run_once(n_slots: int, decisions: int, hand_off: bool) -> dict[str, Any]:
    """One fresh store and actor; ``decisions`` timed decisions with their two replies; the samples (us)."""
    config = config_from_mapping(BOT_CONFIG, {})
    params = trading_params(config, RULES)
    interval, qty = params.interval, params.grid.order_qty
    slot_base.hand_off = SHIPPED_HAND_OFF if hand_off else _no_hand_off
    samples: dict[str, list[float]] = {k: [] for k in WHAT}
    odd = 0  # timed decisions that were not exactly one cancel and one place
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"{tmp}/bot.sqlite", BOT, SYMBOL)
        far = max(n_slots - 3, 0)  # the three working buys make up the rest
        book = SlotBook(BOT, filled_slots(far, qty, FAR, BOT), next_gen=far, held_total=far * qty)
        store.save_book(book)
        refs = {name: Recorder(name == w.ORDERS) for name in (w.STRATEGY, w.RISK, w.EXCHANGE, w.ORDERS)}
        wiring = w.Wiring()
        for name, ref in refs.items():
            wiring.set(name, ref)
        settings = SlotSettings(Market.SPOT, 3600, 3600)
        actor = SlotManagerActor(wiring, store, params, settings, store.load_book() or book, interval)
        orders = refs[w.ORDERS].told
        try:
            actor.on_start()
            risk = on_market_data(start_risk(params.risk), int(time.time() * 1000))
            actor.on_receive(RiskUpdate(risk, interval, 0))
            position = RULES.step_size * book.held_total
            actor.on_receive(ExchangeSnapshot((), (), position, 0, cash=Decimal(100_000_000)))
            assert actor.reconciled, "the snapshot did not reconcile the actor"
            price = START
            for i in range(WARMUP + decisions):
                price += interval
                now = int(time.time() * 1000)
                win = grid_window(price, interval, actor.book.held_total, params.grid)
                acts = actions_for_window(win, actor.book, risk, params.grid, RULES, now, price)
                acts = tuple(a for a in acts if is_order_action(a))
                origin = time.perf_counter_ns()
                d = Decisions(acts, price, win.center, interval, False, False, now, origin, (origin,) * 3)
                flush_handoff()  # idle before it: the log writer has written every line so far
                t0 = time.perf_counter_ns()
                actor.on_receive(d)
                t1 = time.perf_counter_ns()
                sent, orders[:] = orders[:], []
                timed = i >= WARMUP
                if timed and sent:
                    samples["first_send"].append((sent[0][0] - t0) / 1000)
                    samples["decision"].append((t1 - t0) / 1000)
                kinds = sorted(type(m).__name__ for _, m in sent)
                odd += timed and kinds != ["CancelOrder", "Submit"]
                for _, m in sent:  # the exchange's answers: the cancel's first (it went out first)
                    reply = _reply(m, actor)
                    flush_handoff()  # the exchange's round trip (loopback: ~0.5 ms) is idle time here
                    t0 = time.perf_counter_ns()
                    actor.on_receive(reply)
                    t1 = time.perf_counter_ns()
                    if timed:
                        samples["cancelled" if isinstance(reply, Cancelled) else "accepted"].append(
                            (t1 - t0) / 1000
                        )
            stored = store.load_book()
            assert stored == actor.book, "the store does not hold the book in memory"
            working = sum(1 for s in actor.book if s.working)
        finally:
            actor.on_stop()
    return {
        "slots": n_slots,
        "hand_off": hand_off,
        "decisions": len(samples["decision"]),
        "not_one_cancel_one_place": odd,
        "working_at_end": working,
        **{k: percentiles(v) for k, v in samples.items()},
    }


def _reply(m: Submit | CancelOrder, actor: SlotManagerActor) -> Accepted | Cancelled:
    """The exchange's answer to ``m``: Accepted (NEW) for a Submit, Cancelled for a CancelOrder."""
    if isinstance(m, Submit):
        o = OrderSnapshot(m.client_id, 1, m.side, m.price, m.qty, 0, OrderStatus.NEW, 1)
        return Accepted(m.client_id, o)
    s = actor.book.find(m.client_id)
    assert s is not None, f"cancel of {m.client_id}, which the book does not hold"
    side = s.side or Side.BUY
    o = OrderSnapshot(m.client_id, 1, side, s.order_price, s.order_qty, 0, OrderStatus.CANCELED, 2)
    return Cancelled(m.client_id, o)


def summary(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per timed span, the median over runs of p50 and p99 (us)."""
    return {
        k: {q: statistics.median(r[k][q] for r in runs) for q in ("p50_us", "p99_us")}
        for k in WHAT
        if all(r[k]["n"] for r in runs)
    }


def write_md(doc: dict[str, Any], path: Path) -> None:
    """The results as a short Markdown page."""
    lines = [
        "# Slot manager decision (bench/slot_decision.py)",
        "",
        f"Command: `{doc['command']}`  ",
        f"Date (UTC): {doc['date_utc']}",
        "",
        f"Median over {doc['runs']} runs of {doc['decisions']} decisions of each run's p50 / p99 (us):",
        "",
        "| slots in the book | hand-off | to first send | whole decision | Cancelled | Accepted |",
        "|---|---|---|---|---|---|",
    ]
    for c in doc["cases"]:
        m = c["median"]
        cells = [f"{m[k]['p50_us']:.0f} / {m[k]['p99_us']:.0f}" if k in m else "-" for k in WHAT]
        sleep = doc.get("hand_off", "as shipped") if c["hand_off"] else "left out"
        lines.append(f"| {c['slots']} | {sleep} | " + " | ".join(cells) + " |")
    lines += ["", machine_line(doc["machine"]), "", doc["method"], ""]
    path.write_text("\n".join(lines))


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--decisions", type=int, default=5_000)
    ap.add_argument("--slots", type=int, nargs="*", default=[10, 1_000], help="FILLED slots in the book")
    ap.add_argument("--quick", action="store_true", help="1 run of 1 000 decisions, results not written")
    ap.add_argument("--out", default=str(RESULTS / "slot_decision.json"))
    args = ap.parse_args()
    if args.quick:
        args.runs, args.decisions = 1, 1_000
    cases = []
    with tempfile.TemporaryDirectory() as tmp, open("/dev/null", "w") as devnull:
        ops = config_from_mapping({**BOT_CONFIG, "ops": {"log_file": f"{tmp}/bot.log"}}, {}).ops
        install_logging(ops, stream=devnull)
        try:
            for n in args.slots:
                for hand_off in (True, False):
                    runs = [run_once(n, args.decisions, hand_off) for _ in range(args.runs)]
                    med = summary(runs)
                    cases.append({"slots": n, "hand_off": hand_off, "median": med, "runs": runs})
                    text = ", ".join(f"{k} {v['p50_us']:.0f}/{v['p99_us']:.0f}" for k, v in med.items())
                    odd = sum(r["not_one_cancel_one_place"] for r in runs)
                    sleep = "as shipped" if hand_off else "left out"
                    print(f"{n} slots, hand-off {sleep}: p50/p99 us {text} (odd {odd})")
        finally:
            stop_handoff()
            slot_base.hand_off = SHIPPED_HAND_OFF
    if args.quick:
        return 0
    doc = {
        "benchmark": "slot manager decision and replies, actor on the current thread, SQLite store",
        "command": command_line(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "runs": args.runs,
        "decisions": args.decisions,
        "hand_off": f"{SHIPPED_HAND_OFF.__module__}.{SHIPPED_HAND_OFF.__name__}",
        "cases": cases,
        "machine": machine(),
        "method": " ".join((__doc__ or "").split("\n\n")[1:4]).replace("\n", " "),
    }
    out = Path(args.out)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    write_md(doc, out.with_suffix(".md"))
    print(f"wrote {out} and {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
