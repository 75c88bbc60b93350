"""Market-data frame -> strategy decision: the first two stages of the tick-to-order path, in isolation.

(a) **frame -> box**: a WebSocket text frame exactly as the simulator sends it (its hub builds it:
combined-stream ``bookTicker``, spot and USD-M shapes) handed to the stream connection's message handler
(``ws.Connection._handle_message``, where websocket-client delivers a received frame) -> JSON ->
``MarketStream`` -> event parsing -> ``PriceFeed.on_event`` -> ``LatestBox.put`` -> the tell to the
strategy (a recording reference). Timed per frame from before the handler is called to its return;
the box is emptied (untimed) after each frame, so every frame finds it empty and tells, as at 25 ticks/s.

(b) **decision**: ``StrategyActor._decide`` on the current thread (the actor is constructed, never
started) with the live benchmark's bot (bench/live_bot.py: spot BTCUSDT, interval 10 USDT, 3+3 window;
and the same with a 20+20 window): each call sees the price one level higher than the last decision's,
and a book as the live run has it then (the window's working buys plus the one now more than one level
below the window, and as many working take-profit sells as the sell window is wide), so each decision
cancels one buy and places one (the tell goes to a recording reference). Timed per call, 200 distinct
(price, book) pairs in turn. ``_ahead``: as live, the book arrived first and the strategy re-decided on
it (untimed), deciding the neighbouring centers ahead; without: the book changed just before the tick.

(c) **threads**: (a) and (b) together across the real thread hop: frames handed to the stream handler
on this thread, the strategy a started actor on its own thread, the book changing before every tick as
live; stage 1 from the handler call to the strategy's first stamp, stage 2 to its second. On a shared
two-core box this case follows the load: compare runs made at the same time.

    python bench/feed_decision.py            # 3 runs x 20 000 frames / decisions per case (threads: 1 000)
    python bench/feed_decision.py --quick    # 1 run x 5 000, nothing written
    python bench/feed_decision.py --before OLD.json --before-label "commit X"   # an earlier run beside

Figures are medians over runs of each run's p50 / p99 (microseconds, perf_counter_ns).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from bisect import bisect_right
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from live_bot import BOT_CONFIG, merged  # noqa: E402
from live_support import RESULTS, command_line, machine, machine_line, percentiles  # noqa: E402

from actors import wiring as w  # noqa: E402
from actors.latest import LatestBox  # noqa: E402
from actors.messages import Decisions, DecisionsTaken, SlotsChanged  # noqa: E402
from actors.price_monitor import PriceFeed  # noqa: E402
from actors.strategy import StrategyActor  # noqa: E402
from actors.wiring import Wiring  # noqa: E402
from market_maker.config import config_from_mapping  # noqa: E402
from market_maker.core.actions import Place  # noqa: E402
from market_maker.core.fills import apply_fill  # noqa: E402
from market_maker.core.model import Fill, Side  # noqa: E402
from market_maker.core.params import TradingParams  # noqa: E402
from market_maker.core.pnl import ZERO  # noqa: E402
from market_maker.core.risk import on_market_data, start_risk  # noqa: E402
from market_maker.core.slots import SlotBook, ack, submit  # noqa: E402
from market_maker.exchange.streams import MarketStream  # noqa: E402
from market_maker.exchange.ws import StreamSettings  # noqa: E402
from market_maker.settings.params import trading_params  # noqa: E402
from market_maker.sim.candles import CandleBook  # noqa: E402
from market_maker.sim.config import SymbolSpec  # noqa: E402
from market_maker.sim.hub import Conn, Hub  # noqa: E402
from market_maker.sim.paths import PathPoint  # noqa: E402

RULES = SymbolSpec().rules()  # the simulator's BTCUSDT
START_TICKS = 10_000_000  # 100 000.00 USDT, the live benchmark's start


class Recorder:
    """An actor reference stand-in: counts what it is told, keeps the last message and the stage stamps
    of tick decisions (kept messages would hold books alive and make the garbage collector's passes
    long, a p99 the bot does not have)."""

    def __init__(self) -> None:
        self.count = 0
        self.last: Any = None
        self.ticks: list[tuple[int, tuple[int, ...]]] = []  # (origin_ns, hops) of each tick's Decisions

    def tell(self, message: Any) -> None:
        """Count ``message``; keep it as the last, and its stamps when it is a tick's Decisions."""
        self.count += 1
        self.last = message
        if isinstance(message, Decisions) and message.origin_ns:
            self.ticks.append((message.origin_ns, message.hops))


def recording_wiring() -> tuple[Wiring, Recorder]:
    """A wiring whose every name points at one recorder."""
    wiring, rec = Wiring(), Recorder()
    for name in (w.STRATEGY, w.RISK, w.SLOTS, w.ORDERS, w.EXCHANGE):
        wiring.set(name, rec)
    return wiring, rec


# --- (a) frame -> box ----------------------------------------------------------------------------------


def sim_frames(futures: bool, n: int, stream: str = "bookTicker", step: int = 1) -> list[bytes]:
    """``n`` combined-stream frames of ``stream`` as the simulator's hub sends them, mid prices ``step``
    ticks apart from START_TICKS, as bytes (the connection skips UTF-8 validation, so websocket-client
    hands text frames over undecoded)."""
    candles = CandleBook()
    hub = Hub({RULES.symbol: RULES}, {RULES.symbol: candles})
    name = f"{RULES.symbol.lower()}@{stream}"
    conn = Conn(None, None, "market", futures=futures, combined=True, streams={name})  # type: ignore[arg-type]
    hub.add(conn)
    out = []
    for i in range(n):
        price = START_TICKS + i * step
        point = PathPoint(1_700_000_000_000 + 100 * i, price, 1)
        candles.add(point)
        hub.market_point(RULES.symbol, point, i, price - 1, price + 1, i)
        out.append((conn.queue.get_nowait() or "").encode())
    return out


def frame_run(futures: bool, n: int, stream: str = "bookTicker") -> dict[str, Any]:
    """Per-frame time of handler -> box -> tell for ``n`` simulator frames."""
    frames = sim_frames(futures, n, stream)
    wiring, rec = recording_wiring()
    box: LatestBox[tuple[int, int]] = LatestBox()
    feed = PriceFeed(wiring, box, "1m")
    market = MarketStream(["ws://unused"], RULES, feed.on_event, settings=StreamSettings())
    handle = market.connections[0]._handle_message  # where websocket-client delivers a frame
    took = []
    clock = time.perf_counter_ns
    for raw in frames:
        t0 = clock()
        handle(None, raw)  # type: ignore[arg-type]
        took.append(clock() - t0)
        box.take()
    if stream == "bookTicker" and (box.notifications != n or rec.count < n):
        raise SystemExit(f"frames lost: {box.notifications} notifications for {n} frames")
    return percentiles([t / 1000 for t in took[n // 10 :]])  # the first tenth warms up


# --- (b) decision --------------------------------------------------------------------------------------


def live_params(window: int) -> TradingParams:
    """The live benchmark's bot parameters with a ``window`` + ``window`` grid."""
    sections = {"trading": {"buy_window_size": window, "sell_window_size": window}}
    data = merged(BOT_CONFIG, {"engine": {"type": "simple", "database": ":memory:"}, **sections})
    return trading_params(config_from_mapping(data, {}), RULES)


def working(book: SlotBook, level: int, side: Side, price: int, qty: int) -> SlotBook:
    """``book`` with an acknowledged order at ``level``."""
    book, cid = submit(book, Place(level, side, price, qty))
    return ack(book, cid)


def live_book(price: int, params: TradingParams, sells: int, trade_id: int) -> SlotBook:
    """The book as the live run has it when the price has just risen one level to ``price`` (a multiple of
    the interval, so the centre): the buys the last two decisions left (the lowest now more than one level
    below the window), and ``sells`` filled buys whose take-profit sells work at centre + I, + 2I, ..."""
    iv, qty, n = params.interval, params.grid.order_qty, params.grid.buy_window
    book = SlotBook("bench")
    for k in range(2, n + 3):
        book = working(book, price - k * iv, Side.BUY, price - k * iv, qty)
    for j in range(sells):
        level = price + j * iv
        book = working(book, level, Side.BUY, level, qty)
        cid = book.slots[level].client_id
        book, _ = apply_fill(
            book, Fill(trade_id + j, cid, Side.BUY, level, qty, qty, ZERO, "USDT", 0), RULES, iv
        )
        book = working(book, level, Side.SELL, level + iv, qty)
    return book


def decision_run(window: int, n: int, ahead: bool = False) -> dict[str, Any]:
    """Per-call time of ``StrategyActor._decide`` for ``n`` price ticks (distinct prices and books).

    ``ahead``: as in the live run, the book arrives first (SlotsChanged) and the strategy re-decides on
    it at the old price, off the tick-to-order path, deciding the neighbouring centers ahead; then the
    tick (timed). Without: the book changes just before the tick, so nothing was decided ahead.
    """
    params = live_params(window)
    now_ms = int(time.time() * 1000)
    iv = params.interval
    prices = [START_TICKS + i * iv for i in range(200)]
    pool = [(p, live_book(p, params, window, 100 * i)) for i, p in enumerate(prices)]
    wiring, rec = recording_wiring()
    box: LatestBox[tuple[int, int]] = LatestBox()
    risk = on_market_data(start_risk(params.risk), now_ms)
    actor = StrategyActor(wiring, box, params, pool[0][1], risk, iv)
    took = []
    clock = time.perf_counter_ns
    for i in range(n):
        price, book = pool[i % len(pool)]
        actor.book = book
        if ahead:
            actor.price, actor._in_flight_since = price - iv, None
            actor._decide()  # the re-decision on the new book (untimed)
        actor.price, actor._in_flight_since = price, None  # the slot manager took the last one
        t0 = clock()
        actor._decide(t0, (t0,))  # the tick's decision alone, on this thread
        took.append(clock() - t0)
    kinds = sorted(type(a).__name__ for a in rec.last.actions)
    if len(rec.ticks) != n or kinds != ["Cancel", "Place"] or (ahead and actor._memo.hits < n):
        hits = actor._memo.hits
        raise SystemExit(f"unexpected: {len(rec.ticks)} tick decisions, last {kinds}, {hits} from the memo")
    return percentiles([t / 1000 for t in took[n // 10 :]])


# --- (c) both stages across the thread hop ---------------------------------------------------------------


def threaded_run(window: int, n: int, gap_s: float = 0.003) -> dict[str, Any]:
    """Stages 1 and 2 of the live path with the real hop: frames handled on this thread (as the stream's
    thread does), the strategy a started actor on its own thread. Before each tick, as live: the new book
    arrives (SlotsChanged while the last Decisions is in flight), DecisionsTaken lets the strategy
    re-decide on it, a second one answers that; pauses of ``gap_s`` let each settle. Stage 1 runs from
    the moment the frame is handed to the stream's handler to the strategy's first stamp, stage 2 to its
    second (actors/stages.py)."""
    params = live_params(window)
    now_ms = int(time.time() * 1000)
    iv = params.interval
    frames = sim_frames(False, n, step=iv)
    wiring, rec = recording_wiring()
    box: LatestBox[tuple[int, int]] = LatestBox()
    risk = on_market_data(start_risk(params.risk), now_ms)
    books = [live_book(START_TICKS + i * iv, params, window, 100 * i) for i in range(min(n, 200))]
    strategy = StrategyActor.start(wiring, box, params, books[0], risk, iv)
    wiring.set(w.STRATEGY, strategy)
    feed = PriceFeed(wiring, box, "1m")
    market = MarketStream(["ws://unused"], RULES, feed.on_event, settings=StreamSettings())
    handle = market.connections[0]._handle_message
    handed: list[int] = []  # when each frame was handed to the stream's handler: stage 1 starts there
    try:
        for i, raw in enumerate(frames):
            strategy.tell(SlotsChanged(books[i % len(books)]))
            strategy.tell(DecisionsTaken())
            time.sleep(gap_s)
            strategy.tell(DecisionsTaken())
            time.sleep(gap_s)
            handed.append(time.perf_counter_ns())
            handle(None, raw)  # type: ignore[arg-type]
            time.sleep(gap_s)
    finally:
        strategy.stop()
    if len(rec.ticks) < 0.9 * n:  # a tick may coalesce with the next one under load: a few, not many
        raise SystemExit(f"unexpected: {len(rec.ticks)} tick decisions for {n} frames")
    spans = []
    for origin, hops in rec.ticks[len(rec.ticks) // 10 :]:
        t0 = handed[bisect_right(handed, origin) - 1]  # the frame's handler call began just before its stamp
        spans.append((hops[0] - t0, hops[1] - hops[0]))
    hop, decide = (percentiles([s[k] / 1000 for s in spans]) for k in (0, 1))
    return {
        f"threads_{window}+{window} frame->strategy": hop,
        f"threads_{window}+{window} decision": decide,
    }


# --- report --------------------------------------------------------------------------------------------

CASES: list[Callable[[int], dict[str, dict[str, Any]]]] = [
    lambda n: {"frame_spot_bookTicker": frame_run(False, n)},
    lambda n: {"frame_usdm_bookTicker": frame_run(True, n)},
    lambda n: {"frame_spot_kline_open": frame_run(False, n, "kline_1m")},
    lambda n: {"decide_3+3": decision_run(3, n)},
    lambda n: {"decide_20+20": decision_run(20, n)},
    lambda n: {"decide_3+3_ahead": decision_run(3, n, ahead=True)},
    lambda n: {"decide_20+20_ahead": decision_run(20, n, ahead=True)},
    lambda n: threaded_run(3, max(n // 20, 200)),  # ~10 ms a tick: fewer
]


def write_md(doc: dict[str, Any], path: Path) -> None:
    """The results as a short Markdown page (with the ``before`` figures when given)."""
    before = doc.get("before", {})
    lines = [
        "# Market-data frame -> strategy decision (microbenchmark)",
        "",
        f"Command: `{doc['command']}`  ",
        f"Date (UTC): {doc['date_utc']}",
        "",
        f"Median over {doc['runs']} runs of each run's p50 and p99 ({doc['n']} frames / decisions per run, "
        "the threaded case a twentieth of that; each run's first tenth is warm-up), microseconds"
        + (f"; before: the same benchmark on {before['label']}" if before else "")
        + ":",
        "",
        "| case | p50 us | p99 us |" + (" before p50 us | before p99 us |" if before else ""),
        "|---|---|---|" + ("---|---|" if before else ""),
    ]
    for k, v in doc["median"].items():
        row = f"| {k} | {v['p50_us']:.1f} | {v['p99_us']:.1f} |"
        if before:
            b = before["median"].get(k)
            row += f" {b['p50_us']:.1f} | {b['p99_us']:.1f} |" if b else " - | - |"
        lines.append(row)
    lines += ["", machine_line(doc["machine"]), "", __doc__ or "", ""]
    path.write_text("\n".join(lines))


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("-n", type=int, default=20_000, help="frames / decisions per case and run")
    ap.add_argument("--quick", action="store_true", help="1 run x 5 000, results not written")
    ap.add_argument("--out", default=str(RESULTS / "feed_decision.json"))
    ap.add_argument("--before", help="a results file of an earlier run, shown next to this one")
    ap.add_argument("--before-label", default="the code before", help="what the earlier run measured")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.n = 1, 5_000
    runs: dict[str, list[dict[str, Any]]] = {}
    for _ in range(args.runs):
        for case in CASES:
            for name, figures in case(args.n).items():
                runs.setdefault(name, []).append(figures)
    median = {
        k: {q: statistics.median(r[q] for r in rs) for q in ("p50_us", "p99_us")} for k, rs in runs.items()
    }
    for k, v in median.items():
        print(f"{k:34s} p50 {v['p50_us']:7.1f} us   p99 {v['p99_us']:7.1f} us")
    doc = {
        "command": command_line(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "runs": args.runs,
        "n": args.n,
        "median": median,
        "per_run": runs,
        "machine": machine(),
    }
    if args.before:
        earlier = json.loads(Path(args.before).read_text())
        doc["before"] = {"label": args.before_label, "median": earlier["median"]}
    print(machine_line(doc["machine"]))
    if not args.quick:
        out = Path(args.out)
        out.write_text(json.dumps(doc, indent=1) + "\n")
        write_md(doc, out.with_suffix(".md"))
        print(f"written: {out} and {out.with_suffix('.md').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
