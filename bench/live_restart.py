"""Benchmarks 3 and 4: restart to trading-ready with 1 000 slots and 200 open orders; the running bot's
footprint (RSS, threads).

Set-up: the simulator runs in its own process (step mode: the price stays at 100 000). The store is
seeded with 900 FILLED slots (0.001 BTC each, bought above today's price, so they hold: "HODL until
profitable"; the account holds the 0.9 BTC they add up to). The bot (``python -m market_maker run``,
venue ``binance`` pointed at the simulator's loopback URLs, exactly what an operator runs) then
places its 100 buys (the widest buy window the configuration allows); it is stopped with SIGTERM
(orders stay open) and 100 foreign orders are added by hand on the account: 1 000 slots in the store
(900 FILLED + 100 LOCKED), 200 open orders on the simulator (100 own, 100 foreign).

Measured, per restart, from the moment the process is spawned (interpreter start and imports
included): *reconciled* = the log line "reconciled with the exchange" (store loaded, rules, account
safety checks, ATR warm-up from klines, user stream connected, open orders and trades since the last
stored trade compared and applied); *trading-ready* = the log line "trading BTCUSDT on ..." which
start-up writes once the market stream is connected too and every actor runs: from then on a tick
becomes an order. Footprint: VmRSS, VmHWM and Threads of the bot process 3 s after trading-ready.

    python bench/live_restart.py               # 5 restarts
    python bench/live_restart.py --quick       # 2 restarts, results not written
    python bench/live_restart.py --engine durable   # the Durable engine (DBOS on SQLite beside the store)
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from live_support import (  # noqa: E402
    RESULTS,
    ROOT,
    SYMBOL,
    SimProcess,
    command_line,
    filled_slots,
    machine,
    machine_line,
    median_of,
    proc_status,
)

from market_maker.core.model import Side  # noqa: E402
from market_maker.core.slots import SlotBook  # noqa: E402
from market_maker.exchange.factory import make_exchange  # noqa: E402
from market_maker.store import open_store  # noqa: E402

BOT = "bench"
FILLED, BUYS, FOREIGN = 900, 100, 100
QTY_STEPS = 100  # 0.001 BTC at stepSize 0.00001
TARGET_S = 2.0
RECONCILED, READY = "reconciled with the exchange", f"trading {SYMBOL} on"


def config_text(sim: SimProcess, db: Path, engine: str = "simple") -> str:
    """The bot's YAML: venue binance on the simulator's loopback URLs, a 100-level buy window."""
    return f"""\
bot: {{id: {BOT}}}
exchange:
  venue: binance
  market: spot
  rest_url: {sim.rest_url}
  ws_url: {sim.ws_url}
  ws_api_url: {sim.ws_url}/ws-api/v3
trading: {{symbol: {SYMBOL}, price_interval: "10", order_quantity: "0.001", buy_window_size: {BUYS},
  sell_window_size: 3}}
risk: {{max_inventory: "10", baseline_atr: 100, atr_spike_multiple: 1000, volume_spike_multiple: 1000,
  stale_price_seconds: 3600, max_drawdown_pct: 100}}
cleanup: {{max_open_orders: 200}}
engine: {{type: {engine}, database: {db}}}
"""


def seed_filled_slots(db: Path) -> None:
    """900 FILLED slots bought at 110 000.00 and up (above the market: they hold)."""
    slots = filled_slots(FILLED, QTY_STEPS, 11_000_000, BOT)  # ticks of 0.01
    store = open_store(str(db), BOT, SYMBOL)
    try:
        store.save_book(SlotBook(BOT, slots, next_gen=FILLED, held_total=FILLED * QTY_STEPS))
    finally:
        store.close()


class BotProcess:
    """``python -m market_maker run`` with its log lines timed as they arrive."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "market_maker", "run", "--config", str(config)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.seen: dict[str, float] = {}
        self.lines: list[str] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            t = time.perf_counter() - self.t0
            with self._cond:
                self.lines.append(line.rstrip())
                for mark in (RECONCILED, READY):
                    if mark in line and mark not in self.seen:
                        self.seen[mark] = t
                self._cond.notify_all()

    def wait_for(self, mark: str, timeout_s: float = 60) -> float:
        """Seconds from spawn to the first log line containing ``mark``."""
        with self._cond:
            if not self._cond.wait_for(lambda: mark in self.seen or self.proc.poll() is not None, timeout_s):
                raise RuntimeError(f"no {mark!r} within {timeout_s} s")
            if mark not in self.seen:
                tail = "\n".join(self.lines[-15:])
                raise RuntimeError(f"bot exited with {self.proc.returncode} before {mark!r}:\n{tail}")
            return self.seen[mark]

    def stop(self) -> int:
        """SIGTERM and wait (open orders stay: cancel_on_exit is off); killed if it does not stop."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode


def own_open(sim: SimProcess, key: str) -> int:
    """Open orders of this bot on the simulator."""
    return sum(1 for o in sim.call("open_orders", key, SYMBOL) if o["clientOrderId"].startswith(BOT + "_"))


def prepare(
    sim: SimProcess, key: str, secret: str, workdir: Path, engine: str = "simple"
) -> tuple[Path, dict[str, str]]:
    """Seed the store, let the bot place its buys, stop it, add the foreign orders."""
    db = workdir / "bot.sqlite"
    seed_filled_slots(db)
    config = workdir / "bot.yaml"
    config.write_text(config_text(sim, db, engine))
    env = {**os.environ, "MM_API_KEY": key, "MM_API_SECRET": secret}
    bot = BotProcess(config, env)
    try:
        bot.wait_for(READY)
        sim.call("set_price", SYMBOL, "100000")  # step mode: the first trade gives the bot its price
        deadline = time.monotonic() + 60
        while own_open(sim, key) < BUYS:
            if time.monotonic() > deadline:
                tail = "\n".join(bot.lines[-12:])
                raise RuntimeError(f"the bot placed only {own_open(sim, key)} of {BUYS} buys:\n{tail}")
            time.sleep(0.2)
        time.sleep(1.0)  # the last acknowledgements are stored
    except BaseException:
        bot.stop()  # never leave a bot process behind
        raise
    if bot.stop() != 0:
        raise RuntimeError("the preparing bot did not stop cleanly:\n" + "\n".join(bot.lines[-15:]))
    ex = make_exchange("spot", sim.rest_url, sim.ws_url, key, secret, symbol=SYMBOL)
    try:
        ex.start()
        for i in range(FOREIGN):  # a human's orders on the same account: counted, never touched
            ex.place(Side.BUY, 9_000_000 - 100 * i, QTY_STEPS, f"manual{i}")
    finally:
        ex.close()
    store = open_store(str(db), BOT, SYMBOL)
    try:
        book = store.load_book()
    finally:
        store.close()
    assert book is not None
    n_open = len(sim.call("open_orders", key, SYMBOL))
    print(f"prepared: {len(book.slots)} slots in the store, {n_open} open orders on the simulator")
    return config, env


def restart_once(config: Path, env: dict[str, str]) -> dict[str, Any]:
    """One restart: seconds to reconciled and to trading-ready, then the footprint."""
    bot = BotProcess(config, env)
    try:
        reconciled = bot.wait_for(RECONCILED)
        ready = bot.wait_for(READY)
        time.sleep(3.0)
        footprint = proc_status(bot.proc.pid)
    finally:
        code = bot.stop()
    adopted = [ln for ln in bot.lines if "reconcile:" in ln or "drift" in ln]
    return {
        "reconciled_s": round(reconciled, 3),
        "ready_s": round(ready, 3),
        **{k: round(v, 1) for k, v in footprint.items()},
        "exit_code": code,
        "notes": adopted[:3],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="restarts")
    ap.add_argument("--quick", action="store_true", help="2 restarts, results not written")
    ap.add_argument("--engine", choices=("simple", "durable"), default="simple")
    ap.add_argument("--out", default=None, help="default bench/results/live_restart[_durable].json")
    args = ap.parse_args()
    if args.out is None:
        suffix = "" if args.engine == "simple" else f"_{args.engine}"
        args.out = str(RESULTS / f"live_restart{suffix}.json")
    if args.quick:
        args.runs = 2
    key, secret = secrets.token_hex(16), secrets.token_hex(16)
    btc = str(Decimal(FILLED * QTY_STEPS) * Decimal("0.00001"))
    sim = SimProcess([(key, secret, {"USDT": "100000000", "BTC": btc})])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config, env = prepare(sim, key, secret, Path(tmp), args.engine)
            runs = []
            for i in range(args.runs):
                r = restart_once(config, env)
                runs.append(r)
                print(
                    f"restart {i + 1}: reconciled after {r['reconciled_s']:.2f} s, trading-ready after "
                    f"{r['ready_s']:.2f} s (target {TARGET_S} s); RSS {r['rss_mb']} MB (peak "
                    f"{r['rss_peak_mb']} MB), {r['threads']:.0f} threads; exit {r['exit_code']}",
                    flush=True,
                )
    finally:
        sim.stop()
    med = {k: median_of(runs, k) for k in ("reconciled_s", "ready_s", "rss_mb", "rss_peak_mb", "threads")}
    print(
        f"median of {len(runs)} restarts: reconciled {med['reconciled_s']:.2f} s, trading-ready "
        f"{med['ready_s']:.2f} s; RSS {med['rss_mb']:.1f} MB (peak {med['rss_peak_mb']:.1f}), "
        f"{med['threads']:.0f} threads",
        flush=True,
    )
    if args.quick:
        return 0
    doc: dict[str, Any] = {
        "benchmark": f"restart to trading-ready (1 000 slots, 200 open orders, {args.engine}); footprint",
        "command": command_line(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "median": med,
        "targets": {"ready_s": TARGET_S, "rss_mb": 100},
        "runs": runs,
        "machine": machine(),
        "method": " ".join((__doc__ or "").split("\n\n")[1:3]).replace("\n", " "),
    }
    out = Path(args.out)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    lines = [
        f"# Restart to trading-ready and footprint ({args.engine} engine, simulator over loopback)",
        "",
        f"Command: `{doc['command']}`  ",
        f"Date (UTC): {doc['date_utc']}",
        "",
        "| restart | reconciled s | trading-ready s | RSS MB | peak RSS MB | threads |",
        "|---|---|---|---|---|---|",
        *[
            f"| {i} | {r['reconciled_s']:.2f} | {r['ready_s']:.2f} | {r['rss_mb']} | {r['rss_peak_mb']} "
            f"| {r['threads']:.0f} |"
            for i, r in enumerate(runs, 1)
        ],
        f"| median | {med['reconciled_s']:.2f} | {med['ready_s']:.2f} | {med['rss_mb']:.1f} "
        f"| {med['rss_peak_mb']:.1f} | {med['threads']:.0f} |",
        "",
        f"Targets: trading-ready <= {TARGET_S} s, RSS <= 100 MB.",
        "",
        machine_line(doc["machine"]),
        "",
        doc["method"],
        "",
    ]
    out.with_suffix(".md").write_text("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
