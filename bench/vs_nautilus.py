"""Our backtester against NautilusTrader's, the same grid on the same candles, in one run.

    python3 -m pip install -e '.[bench]'          # NautilusTrader (the optional ``bench`` extra)
    python bench/vs_nautilus.py                   # June 2026 AVAXUSDT, grids 0.01 0.05 0.2, 3 repeats
    python bench/vs_nautilus.py --data F.csv --intervals 0.02,0.1 --repeat 5

The grid (``bench/configs/avax_risk_off.yaml`` with ``--set price_interval=X``): AVAXUSDT USD-M, tick
0.001, step 1; center ``C = round_half_up(P / I) * I``; buys at the free levels ``C - I .. C - 5I`` (post
only, 10 AVAX each, while held + working buys stay within ``max_inventory``, strictly below the price and
below every working sell); a filled buy at level L gets a take-profit sell at ``max(L + I, C + I)`` when
that lies in the sell window ``C + I .. C + 5I`` (above the price and every working buy), else it holds;
trailing cancels: a buy below ``C - 6I`` or above C, a sell above ``C + 6I`` or below C. Fees maker
0.0002 / taker 0.0005; risk rules off. NautilusTrader runs the same rules as a ``Strategy`` subclass
(:func:`grid_strategy_class`) on 1-minute bars (``BarDataWrangler``) of the same CSV, on a
``CryptoPerpetual`` in a margin account (netting, leverage 1), with a fill model that fills a limit
order only when the price goes *through* it, as ours does. What still differs (``NOTES`` below):
our engine lets the core act at each of a candle's four waypoints (open, low/high, high/low, close),
so a buy filled at the low can have its take-profit placed and filled at the high of the same candle,
where NautilusTrader moves the market through a bar's four prices and then calls ``on_bar`` once, at
the close; and a price point that goes through several of the grid's orders on one side fills them
all in ours, only the nearest in NautilusTrader's L1 matching. NautilusTrader reports fewer fills on
a busy grid for these two reasons; ``--waypoints`` measures how much of it is the first.

Two tables, each the median of ``--repeat`` runs, every run in a fresh process (so truly cold: no
import, parse or market-series cache survives from one run to the next):

* ``engine``: NautilusTrader's ``BacktestEngine.run()`` on bars wrangled beforehand, against our
  ``run_backtest`` on candles loaded beforehand (which includes our market-series/indicator pass),
  timed inside each child process (wall time and the process's CPU time);
* ``process``: the whole process: a small NautilusTrader runner (imports, reads and wrangles the CSV,
  builds the engine, runs) against ``python -m market_maker backtest --data F --config C --set
  price_interval=X --json --no-progress``, timed from outside (wall time, and the child's CPU time
  from ``getrusage``).

Ratio = NautilusTrader's time / ours (above 1: we are faster). Results go to
``bench/results/vs_nautilus.json`` and ``.md``, with the machine, CPU model, load average, Python and
NautilusTrader versions and the command.
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
import time
from bisect import bisect_right, insort
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path("/work/shared/data/binance-um-klines/AVAXUSDT-1m-2026-06.csv")
DEFAULT_CONFIG = ROOT / "bench" / "configs" / "avax_risk_off.yaml"
DEFAULT_OUT = ROOT / "bench" / "results" / "vs_nautilus.json"
INSTALL_HINT = "NautilusTrader is not installed: python3 -m pip install -e '.[bench]'"
EXIT_USAGE = 2  # market_maker.exit_codes.EXIT_USAGE (not imported: the Nautilus runner imports none of ours)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``--child`` is how the script starts its own timed child processes)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="one Binance kline CSV (1-minute)")
    ap.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="our configuration YAML")
    ap.add_argument(
        "--intervals", default="0.01,0.05,0.2", help="comma-separated price_interval values (quote units)"
    )
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement, each a fresh process")
    ap.add_argument(
        "--set",
        metavar="NAME=VALUE",
        nargs="+",
        default=[],
        help="more overrides of our configuration for both sides, e.g. max_inventory=100000",
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the JSON result (the .md goes beside it)")
    ap.add_argument(
        "--waypoints",
        action="store_true",
        help="also run NautilusTrader once on our four waypoints per candle as trade ticks (fills only)",
    )
    ap.add_argument(
        "--md-only", action="store_true", help="only rewrite the .md (and notes) of an --out JSON"
    )
    ap.add_argument("--child", choices=("ours", "nautilus"), help=argparse.SUPPRESS)
    ap.add_argument("--spec", help=argparse.SUPPRESS)  # the grid as JSON, for --child nautilus
    args = ap.parse_args(argv)
    try:
        args.interval_list = [Decimal(x) for x in args.intervals.split(",")]
    except ArithmeticError:
        ap.error(f"--intervals {args.intervals!r}: expected numbers like 0.01,0.05")
    if any(x <= 0 for x in args.interval_list) or args.repeat < 1:
        ap.error("--intervals must be > 0 and --repeat >= 1")
    bad = [s for s in args.set if "=" not in s or s.startswith("=")]
    if bad:
        ap.error(f"--set {bad[0]!r}: expected NAME=VALUE")
    return args


# ---- our side (no NautilusTrader needed) ---------------------------------------------------------


def our_settings(config: Path, interval: Decimal, sets: list[str] | tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """``BacktestSettings`` as ``python -m market_maker backtest --config C --set price_interval=I``
    builds them (``market_maker/commands/backtest.py``)."""
    from market_maker.backtest.settings import BacktestSettings
    from market_maker.config import load_config

    overrides = dict(s.split("=", 1) for s in sets)
    overrides["price_interval"] = str(interval)
    return BacktestSettings(load_config(config, os.environ)).with_overrides(overrides)


def grid_spec(config: Path, interval: Decimal, sets: list[str] | tuple[str, ...] = ()) -> dict[str, str]:
    """The grid our settings trade, as plain strings for the NautilusTrader side.

    Refuses (ValueError) settings the NautilusTrader strategy does not model: the dynamic interval,
    inventory skew, any risk rule, volume-share or fill-on-touch fills. The open-order cap is not
    modelled either; our runs report ``cap_cancels`` so a cap that bound shows in the results.
    """
    s = our_settings(config, interval, sets)
    v = s.as_strings()
    off = {
        "dynamic_interval": "False",
        "inventory_skew_factor": "0",
        "atr_spike_multiple": "0",
        "volume_spike_multiple": "0",
        "max_consecutive_losses": "0",
        "max_drawdown_pct": "0",
        "volume_share": "",
        "fill_on_touch": "False",
        "post_only": "True",
    }
    wrong = [f"{k}={v.get(k)!r} (needs {want!r})" for k, want in off.items() if v.get(k) != want]
    if wrong:
        raise ValueError(f"{config}: the NautilusTrader grid does not model " + ", ".join(wrong))
    keys = ("symbol", "price_interval", "order_quantity", "buy_window_size", "sell_window_size")
    keys += ("max_inventory", "tick_size", "step_size", "min_qty", "min_notional", "maker_fee", "taker_fee")
    keys += ("base_asset", "quote_asset")
    spec = {k: str(v[k]) for k in keys}
    spec["capital"] = str(s.initial_capital)
    return spec


def load_ours(data: Path, config: Path, interval: Decimal, sets: list[str] | tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """Our candles and settings for one run (what the timed part gets ready-made)."""
    from market_maker.backtest.candles import concat
    from market_maker.backtest.loaders import load_klines

    settings = our_settings(config, interval, sets)
    rules = settings.params.rules
    return concat([load_klines(data, rules.tick_size, rules.step_size)]), settings


def time_ours(
    data: Path, config: Path, interval: Decimal, sets: list[str] | tuple[str, ...] = ()
) -> dict[str, Any]:
    """One cold ``run_backtest`` on loaded candles: wall and CPU seconds, fills and round trips.

    Cold in a fresh process (the script runs each repeat as one): the market-series pass is computed
    inside the timed call, as no earlier run in this process cached it.
    """
    from market_maker.backtest.engine import run_backtest
    from market_maker.backtest.metrics import summarize

    candles, settings = load_ours(data, config, interval, sets)
    t, c = time.perf_counter(), time.process_time()
    run = run_backtest(candles, settings)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    summary = summarize(run)
    return {
        "seconds": wall,
        "cpu_seconds": cpu,
        "candles": len(candles),
        "fills": summary["fills"],
        "round_trips": summary["round_trips"],
        "cap_cancels": summary["cap_cancels"],
        "inventory_mean": summary["inventory_mean"],  # steps: near max_inventory, the buys mostly wait
    }


def _child_env() -> dict[str, str]:
    """The environment of a child: this tree first on the path (as the project's own tests run it), and
    Python's default bytecode cache on for both sides, as on a user's machine (some CI and sandbox images
    set ``PYTHONDONTWRITEBYTECODE=1``: NautilusTrader's installed modules still load from the ``.pyc``
    files pip wrote, ours, from an editable checkout, would be compiled from source at every start)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def timed_process(cmd: list[str]) -> tuple[dict[str, float], str]:
    """Run ``cmd`` to the end: its wall seconds and CPU seconds (user + system, from ``getrusage``), and
    its standard output. A failing child stops the benchmark with its error output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_child_env(), cwd=ROOT, check=False)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seconds": wall, "cpu_seconds": cpu}, proc.stdout


def ours_cli(
    data: Path, config: Path, interval: Decimal, sets: list[str] | tuple[str, ...] = ()
) -> dict[str, Any]:
    """Our whole ``backtest`` process, timed from outside, with its fills and round trips."""
    cmd = [sys.executable, "-m", "market_maker", "backtest", "--data", str(data), "--config", str(config)]
    cmd += ["--set", *sets, f"price_interval={interval}", "--json", "--no-progress"]
    times, out = timed_process(cmd)
    summary = json.loads(out)
    counts = {k: summary[k] for k in ("fills", "round_trips", "cap_cancels", "inventory_mean")}
    return {**times, **counts}


def ours_engine(
    data: Path, config: Path, interval: Decimal, sets: list[str] | tuple[str, ...] = ()
) -> dict[str, Any]:
    """:func:`time_ours` in a fresh child process (truly cold)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "ours", "--data", str(data)]
    cmd += ["--config", str(config), "--intervals", str(interval)]
    if sets:
        cmd += ["--set", *sets]
    _, out = timed_process(cmd)
    return dict(json.loads(out))


# ---- NautilusTrader's side ------------------------------------------------------------------------


def nautilus_version() -> str | None:
    """The installed NautilusTrader's version, or None when it cannot be imported."""
    try:
        import nautilus_trader
    except ImportError:
        return None
    return str(nautilus_trader.__version__)


def nautilus_instrument(spec: dict[str, str]):  # type: ignore[no-untyped-def]
    """The symbol as a NautilusTrader USD-M perpetual (``CryptoPerpetual``, linear, settled in quote)."""
    from nautilus_trader.model.currencies import Currency
    from nautilus_trader.model.identifiers import InstrumentId, Symbol, Venue
    from nautilus_trader.model.instruments import CryptoPerpetual
    from nautilus_trader.model.objects import Money, Price, Quantity

    quote = Currency.from_str(spec["quote_asset"])
    tick, step = Decimal(spec["tick_size"]), Decimal(spec["step_size"])
    return CryptoPerpetual(
        instrument_id=InstrumentId(Symbol(f"{spec['symbol']}-PERP"), Venue("BINANCE")),
        raw_symbol=Symbol(spec["symbol"]),
        base_currency=Currency.from_str(spec["base_asset"]),
        quote_currency=quote,
        settlement_currency=quote,
        is_inverse=False,
        price_precision=max(0, -tick.normalize().as_tuple().exponent),  # type: ignore[operator]
        price_increment=Price.from_str(str(tick)),
        size_precision=max(0, -step.normalize().as_tuple().exponent),  # type: ignore[operator]
        size_increment=Quantity.from_str(str(step)),
        min_quantity=Quantity.from_str(spec["min_qty"]),
        min_notional=Money(Decimal(spec["min_notional"]), quote),
        margin_init=Decimal("0.05"),
        margin_maint=Decimal("0.025"),
        maker_fee=Decimal(spec["maker_fee"]),
        taker_fee=Decimal(spec["taker_fee"]),
        ts_event=0,
        ts_init=0,
    )


def nautilus_bars(data: Path, instrument):  # type: ignore[no-untyped-def]
    """The CSV's 1-minute candles as NautilusTrader bars (``BarDataWrangler``), stamped at their close."""
    import pandas as pd
    from nautilus_trader.model.data import BarType
    from nautilus_trader.persistence.wranglers import BarDataWrangler

    df = pd.read_csv(data, usecols=["open_time", "open", "high", "low", "close", "volume", "close_time"])
    df.index = pd.to_datetime(df["close_time"] + 1, unit="ms", utc=True)  # a bar is known at its close
    bar_type = BarType.from_str(f"{instrument.id}-1-MINUTE-LAST-EXTERNAL")
    return BarDataWrangler(bar_type, instrument).process(df[["open", "high", "low", "close", "volume"]])


NOTES = """\
How the two sides differ (the same rules otherwise, see the script's docstring):

- **When the strategy acts.** Ours acts at each of a candle's four waypoints (open, low, high, close
  for a rising candle; open, high, low, close for a falling one) and at its close; NautilusTrader
  moves its matching engine through the bar's open, high, low, close (fixed order) and then calls
  `on_bar` once, at the close. So there a take-profit, or the buy that replaces a filled or trailed
  one, is placed at the close and can fill from the next bar on, where ours can place and fill it
  inside the same candle.
- **How many orders one price fills.** Both fill a resting limit order at its own price, the whole
  quantity, as maker, only when the price goes *through* it (NautilusTrader:
  `FillModel(prob_fill_on_limit=0)`, so a touch does not fill). But when one price point goes through
  several of the grid's buys (or sells), ours fills all of them; NautilusTrader 1.221's L1 matching
  fills the nearest one (and any at the same price), then moves its market to that order's price for
  the rest of the pass (`determine_limit_price_and_volume` sets the ask/bid to the limit), so the
  farther ones do not match at that point; they fill only if a later point (the bar's close, a later
  bar) is still through them and the strategy has not trailed them away first.
- Both make NautilusTrader count fewer fills and round trips on a busy grid. `--waypoints` runs
  NautilusTrader once more on our four waypoints as trade ticks, the strategy acting at each (the
  first difference gone): the fills still missing there are the second one's. They can be even fewer
  than on bars: acting more often, the strategy trails away sooner the orders the matching skipped.
  On a grid whose price never crosses two levels at one point (0.2 here) the fills are the same.
  Post-only orders that would cross are rejected on both sides (neither strategy sends one).
- **Cancels** are carried out before the next price on both sides (NautilusTrader's venue processes
  the strategy's commands at the bar's time), so the Nautilus strategy settles a slot when it cancels.
- **Not modelled on the Nautilus side:** the open-order cap (ours: 50 orders; `ours_cap_cancels` in
  the JSON shows it never bound), the reject back-off (no order is rejected), the stale-price trigger
  (the June file has no gap), and our quote-balance check (NautilusTrader's risk engine and margin
  account check instead).
- **Venue:** a `CryptoPerpetual` AVAXUSDT-PERP (tick 0.001, step 1, maker 0.0002, taker 0.0005), margin
  account, netting, leverage 1, 100 000 USDT; L1 book from the 1-minute LAST bars (`BarDataWrangler`,
  stamped at the close); NautilusTrader's default risk engine on, logging bypassed (its fastest).
- **What is timed.** Engine table: NautilusTrader `engine.run()` after `add_data` (bars wrangled and
  added beforehand, not timed) and our `run_backtest` after `load_klines` (not timed; our
  market-series pass is inside, and `summarize` is not). Process table: our process also builds the
  summary and prints it as JSON; the Nautilus runner prints its counts. CPU is the process's user +
  system time; on this shared box it is the fairer figure (wall time also counts other jobs' turns).
"""

_STRATEGY_CLASS: type | None = None


def grid_strategy_class() -> type:
    """The trailing grid as a NautilusTrader ``Strategy`` (defined on first use: NautilusTrader is
    optional). Prices are whole ticks and quantities whole steps, as in our core."""
    global _STRATEGY_CLASS
    if _STRATEGY_CLASS is not None:
        return _STRATEGY_CLASS
    from nautilus_trader.model.enums import OrderSide, TimeInForce
    from nautilus_trader.model.objects import Price, Quantity
    from nautilus_trader.trading.strategy import Strategy

    buy_side, sell_side = OrderSide.BUY, OrderSide.SELL

    class _Slot:
        """One grid level (the buy's price): its working order and the position it holds."""

        __slots__ = ("held", "level", "order_id", "price", "qty", "side", "tp")

        def __init__(self, level: int) -> None:
            self.level = level
            self.side: Any = None  # side of the working order, None when nothing works
            self.order_id: Any = None
            self.price = self.qty = 0  # working order: ticks, steps not filled yet
            self.held = 0  # steps held (bought, not yet sold)
            self.tp = 0  # take-profit price frozen at the buy's first fill: level + interval

    class GridStrategy(Strategy):  # type: ignore[misc]
        """The trailing grid of ``market_maker.core.strategy`` (static interval, no skew, risk rules off),
        deciding at each bar's close: NautilusTrader calls ``on_bar`` after its matching engine has
        moved the market through the bar's open, high, low and close.

        Book-keeping as our slot book's index: the working slots by order, the held slots without an
        order sorted by take-profit, and running totals of held and working-buy steps, so a bar costs
        O(working orders + take-profits in the sell window), not O(held slots).
        """

        def __init__(self, instrument, bar_type, spec: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
            super().__init__()
            tick, step = Decimal(spec["tick_size"]), Decimal(spec["step_size"])
            self.instrument_id, self.bar_type = instrument.id, bar_type
            self.iv = int(Decimal(spec["price_interval"]) / tick)
            self.qty = int(Decimal(spec["order_quantity"]) / step)
            self.buy_window, self.sell_window = int(spec["buy_window_size"]), int(spec["sell_window_size"])
            self.max_inventory = int(Decimal(spec["max_inventory"]) / step)
            self.tick_raw, self.step_raw = instrument.price_increment.raw, instrument.size_increment.raw
            self.pp, self.sp = instrument.price_precision, instrument.size_precision
            self.slots: dict[int, _Slot] = {}  # every level that has an order or a position
            self.by_order: dict[Any, _Slot] = {}  # the working ones, by client order id
            self.waiting: list[tuple[int, int]] = []  # (tp, level) of held slots without an order
            self.held_total = self.buy_total = 0  # steps held; steps of working buys not filled
            self.fills = self.round_trips = self.placed = self.cancels = self.rejects = 0

        def on_start(self) -> None:
            if self.bar_type is None:
                self.subscribe_trade_ticks(self.instrument_id)
            else:
                self.subscribe_bars(self.bar_type)

        def _place(self, s: _Slot, side: Any, price: int, qty: int) -> None:
            order = self.order_factory.limit(
                self.instrument_id,
                side,
                Quantity.from_raw(qty * self.step_raw, self.sp),
                Price.from_raw(price * self.tick_raw, self.pp),
                time_in_force=TimeInForce.GTC,
                post_only=True,
            )
            s.side, s.order_id, s.price, s.qty = side, order.client_order_id, price, qty
            self.by_order[order.client_order_id] = s
            if side is buy_side:
                self.buy_total += qty
            self.placed += 1
            self.submit_order(order)

        def _order_over(self, s: _Slot) -> None:
            """The slot's order ended (cancelled, rejected or filled): hold, or free the level."""
            del self.by_order[s.order_id]
            if s.side is buy_side:
                self.buy_total -= s.qty
            s.side, s.order_id, s.qty = None, None, 0
            if s.held:
                insort(self.waiting, (s.tp, s.level))
            else:
                del self.slots[s.level]

        def _cancel(self, s: _Slot) -> None:
            # The venue carries the cancel out at this bar's time, before any later price can fill the
            # order, so the slot is settled at once, as our simulated exchange answers a cancel at once.
            order = self.cache.order(s.order_id)
            self._order_over(s)
            self.cancels += 1
            self.cancel_order(order)

        def on_bar(self, bar) -> None:  # type: ignore[no-untyped-def]
            self.decide(bar.close.raw // self.tick_raw)

        def on_trade_tick(self, tick) -> None:  # type: ignore[no-untyped-def]
            self.decide(tick.price.raw // self.tick_raw)

        def decide(self, p: int) -> None:
            """The grid's actions at price ``p`` (ticks), carried out."""
            iv, slots = self.iv, self.slots
            c = (2 * p + iv) // (2 * iv) * iv  # half up, as market_maker.core.grid.center
            buy_lo, buy_hi = c - self.buy_window * iv, c - iv
            sell_lo, sell_hi = c + iv, c + self.sell_window * iv
            for s in list(self.by_order.values()):  # trailing, one interval of slack on each side
                if s.side is buy_side:
                    if s.level < buy_lo - iv or s.level > c:
                        self._cancel(s)
                elif s.price > sell_hi + iv or s.price < c:
                    self._cancel(s)
            max_buy, min_sell = 0, 1 << 62
            for s in self.by_order.values():
                if s.side is buy_side:
                    max_buy = max(max_buy, s.price)
                else:
                    min_sell = min(min_sell, s.price)
            # take-profits: max(tp, C + I) lies in the sell window exactly when tp <= C + sell_window * I
            upto = bisect_right(self.waiting, (sell_hi, 1 << 62))
            if upto:
                for tp, level in sorted(self.waiting[:upto], key=lambda w: w[1]):  # by level, as ours
                    target = max(tp, sell_lo)
                    if target > p and target > max_buy:  # post-only: above the price and every buy
                        self.waiting.remove((tp, level))
                        self._place(slots[level], sell_side, target, slots[level].held)
                        min_sell = min(min_sell, target)
            budget = self.max_inventory - self.held_total - self.buy_total
            for level in range(buy_hi, buy_lo - 1, -iv):  # buys, nearest the center first
                if self.qty > budget:
                    break
                if level in slots or level >= p or level >= min_sell:
                    continue
                s = slots[level] = _Slot(level)
                self._place(s, buy_side, level, self.qty)
                budget -= self.qty

        def on_order_filled(self, event) -> None:  # type: ignore[no-untyped-def]
            self.fills += 1
            s = self.by_order.get(event.client_order_id)
            if s is None:
                return
            q = event.last_qty.raw // self.step_raw
            s.qty -= q
            if s.side is buy_side:
                self.buy_total -= q
                self.held_total += q
                s.held += q
                s.tp = s.tp or s.level + self.iv
            else:
                self.held_total -= q
                s.held -= q
            if s.qty == 0:  # the order is done
                if s.side is sell_side and not s.held:
                    self.round_trips += 1  # a take-profit closed the position
                self._order_over(s)

        def on_order_rejected(self, event) -> None:  # type: ignore[no-untyped-def]
            self.rejects += 1  # a post-only order that would cross (never seen: the checks above)
            s = self.by_order.get(event.client_order_id)
            if s is not None:
                self._order_over(s)

    _STRATEGY_CLASS = GridStrategy
    return GridStrategy


def nautilus_waypoints(data: Path, instrument):  # type: ignore[no-untyped-def]
    """The CSV's candles as our engine's four waypoints, as NautilusTrader trade ticks: open, low, high,
    close for a rising or flat candle, open, high, low, close for a falling one, at the candle's open
    time + 0, 1/4, 1/2, 3/4 of a minute (docs/backtesting.md, "The fill model"); each a quarter of the
    candle's volume (at least one step), as NautilusTrader makes ticks from a bar. For ``--waypoints``:
    the strategy then acts at each waypoint, as ours does."""
    import pandas as pd
    from nautilus_trader.model.data import TradeTick
    from nautilus_trader.model.enums import AggressorSide
    from nautilus_trader.model.identifiers import TradeId
    from nautilus_trader.model.objects import Price, Quantity

    df = pd.read_csv(data, usecols=["open_time", "open", "high", "low", "close", "volume"], dtype=str)
    pp, sp, iid = instrument.price_precision, instrument.size_precision, instrument.id
    step = Decimal(str(instrument.size_increment))
    ticks = []
    for row in df.itertuples(index=False):
        o, h, lo, c = (Price(Decimal(x), pp) for x in (row.open, row.high, row.low, row.close))
        path = (o, lo, h, c) if Decimal(row.close) >= Decimal(row.open) else (o, h, lo, c)
        size = Quantity(max(Decimal(row.volume) / 4 // step * step, step), sp)
        t0 = int(row.open_time) * 1_000_000
        for k, price in enumerate(path):
            ts = t0 + k * 15_000_000_000
            trade_id = TradeId(f"{row.open_time}-{k}")
            ticks.append(TradeTick(iid, price, size, AggressorSide.NO_AGGRESSOR, trade_id, ts, ts))
    return ticks


def nautilus_engine(data: list, instrument, spec: dict[str, str]):  # type: ignore[no-untyped-def,type-arg]
    """A fresh ``BacktestEngine``: the venue (margin account, netting, leverage 1, the capital in quote),
    the instrument, the data (bars, or trade ticks from :func:`nautilus_waypoints`) and the grid
    strategy, ready to ``run()``."""
    from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
    from nautilus_trader.backtest.models import FillModel
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.data import TradeTick
    from nautilus_trader.model.enums import AccountType, OmsType
    from nautilus_trader.model.objects import Money

    ticks = isinstance(data[0], TradeTick)
    engine = BacktestEngine(
        BacktestEngineConfig(trader_id="BENCH-001", logging=LoggingConfig(bypass_logging=True))
    )
    quote = instrument.quote_currency
    engine.add_venue(
        instrument.id.venue,
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        base_currency=quote,
        starting_balances=[Money(Decimal(spec["capital"]), quote)],
        default_leverage=Decimal(1),
        # a resting limit order fills only when the price goes through it (never on a touch), as ours
        fill_model=FillModel(prob_fill_on_limit=0.0),
        trade_execution=ticks,  # trade ticks move NautilusTrader's market only when asked to
    )
    engine.add_instrument(instrument)
    engine.add_data(data)
    strategy = grid_strategy_class()(instrument, None if ticks else data[0].bar_type, spec)
    engine.add_strategy(strategy)
    return engine, strategy


def time_nautilus(data: Path, spec: dict[str, str], waypoints: bool = False) -> dict[str, Any]:
    """Wrangle the bars (or build the waypoint ticks), build the engine, then time ``engine.run()``
    alone (wall and CPU seconds)."""
    instrument = nautilus_instrument(spec)
    bars = (nautilus_waypoints if waypoints else nautilus_bars)(data, instrument)
    engine, strategy = nautilus_engine(bars, instrument, spec)
    t, c = time.perf_counter(), time.process_time()
    engine.run()
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    out = {
        "seconds": wall,
        "cpu_seconds": cpu,
        "ticks" if waypoints else "bars": len(bars),
        "fills": strategy.fills,
        "round_trips": strategy.round_trips,
        "orders_placed": strategy.placed,
        "cancels": strategy.cancels,
        "post_only_rejects": strategy.rejects,
    }
    engine.dispose()
    return out


def nautilus_process(data: Path, spec: dict[str, str], waypoints: bool = False) -> dict[str, Any]:
    """The NautilusTrader runner as a whole process: its engine-run figures and, timed from outside,
    the whole process's (import, read and wrangle the CSV, build the engine, run)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "nautilus", "--data", str(data)]
    cmd += ["--spec", json.dumps(spec), *(["--waypoints"] if waypoints else [])]
    times, out = timed_process(cmd)
    return {"engine": json.loads(out), "process": times}


# ---- the benchmark ---------------------------------------------------------------------------------


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 3)


def _row(label: str, interval: Decimal, ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> dict:  # type: ignore[type-arg]
    """One table row: medians of both sides, fills and round trips, and Nautilus time / ours."""
    o_s, n_s = _median(ours, "seconds"), _median(theirs, "seconds")
    o_c, n_c = _median(ours, "cpu_seconds"), _median(theirs, "cpu_seconds")
    return {
        "table": label,
        "price_interval": str(interval),
        "nautilus_seconds": n_s,
        "nautilus_cpu_seconds": n_c,
        "ours_seconds": o_s,
        "ours_cpu_seconds": o_c,
        "ratio_wall": round(n_s / o_s, 2) if o_s else None,
        "ratio_cpu": round(n_c / o_c, 2) if o_c else None,
        "nautilus_fills": theirs[0]["fills"],
        "ours_fills": ours[0]["fills"],
        "nautilus_round_trips": theirs[0]["round_trips"],
        "ours_round_trips": ours[0]["round_trips"],
        "ours_cap_cancels": ours[0]["cap_cancels"],  # the open-order cap, which Nautilus' grid lacks
        "ours_inventory_mean": ours[0].get("inventory_mean"),
        "nautilus_runs": [{k: round(v, 3) for k, v in r.items() if k.endswith("seconds")} for r in theirs],
        "ours_runs": [{k: round(v, 3) for k, v in r.items() if k.endswith("seconds")} for r in ours],
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _inventory(mean: float | None) -> str:
    return "-" if mean is None else f"{mean:,.0f}"


def write_md(doc: dict[str, Any], path: Path) -> None:
    """The two tables as Markdown (what the docs quote)."""
    m = doc["machine"]
    lines = [
        "# Our backtester against NautilusTrader",
        "",
        f"Data: `{doc['data']}` ({doc['candles']} one-minute candles). Grid: `{doc['config']}` with "
        f"`--set {' '.join([*doc.get('set', []), 'price_interval=X'])}` (windows 5 + 5, 10 AVAX post-only, "
        "take-profit +I, risk rules off). "
        f"Median of {doc['repeat']} runs, each in a fresh process (cold; modules from their bytecode cache,"
        " Python's default). Ratio = NautilusTrader / ours.",
        "",
        f"Machine: {m['cpus']} CPUs, {m['cpu_model']}, load average at start {m['load_start']} "
        f"(at end {m['load_end']}); Python {m['python']}, NautilusTrader {m['nautilus_trader']}; "
        f"{doc['started']}.",
        "",
        f"Command: `{doc['command']}`",
    ]
    titles = {
        "engine": "Engine alone: NautilusTrader `BacktestEngine.run()` on wrangled bars vs our "
        "`run_backtest` on loaded candles (including the market-series pass)",
        "process": "Whole process: NautilusTrader runner (import, read + wrangle CSV, build, run) vs "
        "`python -m market_maker backtest ... --json --no-progress`",
    }
    for table, title in titles.items():
        lines += [
            "",
            f"## {title}",
            "",
            "| grid | Nautilus s | Nautilus CPU s | ours s | ours CPU s | ratio (wall) | ratio (CPU) "
            "| fills Nautilus / ours | round trips Nautilus / ours | our mean inventory (AVAX) |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in (r for r in doc["results"] if r["table"] == table):
            lines.append(
                f"| {r['price_interval']} | {r['nautilus_seconds']} | {r['nautilus_cpu_seconds']} "
                f"| {r['ours_seconds']} | {r['ours_cpu_seconds']} | {r['ratio_wall']} | {r['ratio_cpu']} "
                f"| {r['nautilus_fills']:,} / {r['ours_fills']:,} "
                f"| {r['nautilus_round_trips']:,} / {r['ours_round_trips']:,} "
                f"| {_inventory(r.get('ours_inventory_mean'))} |"
            )
    rows = [r for r in doc["results"] if "nautilus_waypoints" in r]
    if rows:
        lines += [
            "",
            "## NautilusTrader on our four waypoints per candle (trade ticks, the strategy acting at each)",
            "",
            "| grid | fills Nautilus waypoints / bars / ours | round trips waypoints / bars / ours | CPU s |",
            "|---|---|---|---|",
        ]
        for r in rows:
            w = r["nautilus_waypoints"]
            lines.append(
                f"| {r['price_interval']} | {w['fills']:,} / {r['nautilus_fills']:,} / {r['ours_fills']:,} "
                f"| {w['round_trips']:,} / {r['nautilus_round_trips']:,} / {r['ours_round_trips']:,} "
                f"| {round(w['cpu_seconds'], 3)} |"
            )
    lines += ["", doc.get("notes", ""), ""]
    path.write_text("\n".join(lines))


def run_benchmark(args: argparse.Namespace, version: str) -> dict[str, Any]:
    """Every interval, ``--repeat`` times each, the four kinds of run interleaved (so a burst of load on
    the shared box hits both sides alike)."""
    load_start = os.getloadavg()
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    results, candles = [], 0
    for interval in args.interval_list:
        spec = grid_spec(args.config, interval, args.set)
        runs: dict[str, list[dict[str, Any]]] = {"oe": [], "op": [], "ne": [], "np": []}
        for i in range(args.repeat):
            runs["oe"].append(ours_engine(args.data, args.config, interval, args.set))
            n = nautilus_process(args.data, spec)
            runs["ne"].append(n["engine"])
            runs["np"].append({**n["process"], **{k: n["engine"][k] for k in ("fills", "round_trips")}})
            runs["op"].append(ours_cli(args.data, args.config, interval, args.set))
            last = {k: v[-1] for k, v in runs.items()}
            print(
                f"grid {interval} run {i + 1}/{args.repeat}: engine Nautilus {last['ne']['seconds']:.2f} s"
                f" / ours {last['oe']['seconds']:.2f} s; process {last['np']['seconds']:.2f} s"
                f" / {last['op']['seconds']:.2f} s; fills {last['ne']['fills']} / {last['oe']['fills']}",
                file=sys.stderr,
                flush=True,
            )
        candles = runs["oe"][0]["candles"]
        results.append(_row("engine", interval, runs["oe"], runs["ne"]))
        results.append(_row("process", interval, runs["op"], runs["np"]))
        if args.waypoints:  # which of the fill differences the bar model makes (one run, in a child)
            w = nautilus_process(args.data, spec, waypoints=True)["engine"]
            results[-2]["nautilus_waypoints"] = {k: w[k] for k in ("fills", "round_trips", "cpu_seconds")}
    return {
        "benchmark": "vs_nautilus",
        "started": started,
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "data": str(args.data),
        "candles": candles,
        "config": str(args.config.relative_to(ROOT) if args.config.is_relative_to(ROOT) else args.config),
        "repeat": args.repeat,
        "set": args.set,
        "machine": {
            "host": platform.node(),
            "cpus": os.cpu_count(),
            "cpu_model": _cpu_model(),
            "load_start": [round(x, 2) for x in load_start],
            "load_end": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "nautilus_trader": version,
        },
        "results": results,
        "notes": NOTES,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or one timed child) and write the results."""
    args = parse_args(argv)
    if args.child == "ours":
        sys.path.insert(0, str(ROOT))
        print(json.dumps(time_ours(args.data, args.config, args.interval_list[0], args.set)))
        return 0
    if args.child == "nautilus":
        print(json.dumps(time_nautilus(args.data, json.loads(args.spec), args.waypoints)))
        return 0
    if args.md_only:  # the figures as they were; the notes as the script now says them
        doc = {**json.loads(args.out.read_text()), "notes": NOTES}
        args.out.write_text(json.dumps(doc, indent=2) + "\n")
        write_md(doc, args.out.with_suffix(".md"))
        return 0
    version = nautilus_version()
    if version is None:
        print(INSTALL_HINT, file=sys.stderr)
        return EXIT_USAGE
    sys.path.insert(0, str(ROOT))
    from market_maker.config import ConfigError

    try:  # a configuration that is wrong, or that the Nautilus grid cannot model, fails before any run
        for interval in args.interval_list:
            grid_spec(args.config, interval, args.set)
    except ConfigError as exc:
        for line in exc.errors:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    doc = run_benchmark(args, version)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    write_md(doc, args.out.with_suffix(".md"))
    print(args.out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
