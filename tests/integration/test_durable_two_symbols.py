"""Two durable bots, one per symbol, share one PostgreSQL database for two minutes: no cross-talk.

The bots are the shipped pair (config/durable-btcusdt.yaml, config/durable-ethusdt.yaml, the
programs of config/supervisor/two_symbols.conf) run as ``python -m market_maker run`` subprocesses,
reaching one simulator in this test process that lists both symbols, on one account.
"""

from __future__ import annotations

import configparser
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from durable_support import (
    KEY,
    ROOT,
    SECRET,
    start_bot,
    store_vs_venue,
    tail,
    wait_until,
    workflow_executors,
    workflow_statuses,
)

from market_maker.core.ids import decode
from market_maker.sim.config import SimConfig, SymbolSpec
from market_maker.sim.server import SimServer
from market_maker.store import open_store

RUN_S = 120.0
EXAMPLES = {
    "BTCUSDT": ROOT / "config" / "durable-btcusdt.yaml",
    "ETHUSDT": ROOT / "config" / "durable-ethusdt.yaml",
}


def test_the_supervisor_example_runs_both_shipped_configs() -> None:
    conf = configparser.ConfigParser(interpolation=None)
    conf.read(ROOT / "config" / "supervisor" / "two_symbols.conf")
    commands = [conf[s]["command"] for s in conf.sections() if s.startswith("program:")]
    assert len(commands) == 2
    for path, command in zip(sorted(EXAMPLES.values()), sorted(commands), strict=True):
        assert command.endswith(f"run --config /etc/market_maker/{path.name}")
    urls = {yaml.safe_load(p.read_text())["engine"]["database"] for p in EXAMPLES.values()}
    assert len(urls) == 1 and urls.pop().startswith("postgresql://")  # one shared database


def _config(tmp_path: Path, symbol: str, sim: SimServer, database: str) -> tuple[Path, dict[str, Any]]:
    """The shipped example, pointed at the test's simulator (venue binance) and database."""
    data = yaml.safe_load(EXAMPLES[symbol].read_text())
    data["exchange"] = {
        "venue": "binance",
        "market": "spot",
        "rest_url": sim.rest_url,
        "ws_url": sim.ws_url,
        "ws_api_url": sim.ws_url,
    }
    data["engine"]["database"] = database
    data.pop("sim")
    data["reconcile"] = {"interval_seconds": 10}  # reconcile often: any cross-talk would show up
    path = tmp_path / f"{symbol}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path, data


@pytest.mark.slow
def test_two_symbols_share_one_postgresql_database_for_two_minutes_without_cross_talk(
    tmp_path: Path, pg_url: str
) -> None:
    symbols = (
        SymbolSpec(),  # BTCUSDT around 100000
        SymbolSpec(
            symbol="ETHUSDT", base_asset="ETH", step_size="0.0001", min_qty="0.0001", start_price="3000"
        ),
    )
    # step mode driven by a ticker: 30 s of market every 0.1 s (300x), and frozen before the bots stop,
    # so no order of theirs fills after they stopped listening
    with SimServer(
        SimConfig(symbols=symbols, seed=5, step_mode=True, step_ms=30_000, volume_per_second="2")
    ) as sim:
        sim.create_account(KEY, SECRET, {"USDT": "100000", "BTC": "0", "ETH": "0"})
        bots = {s: _config(tmp_path, s, sim, pg_url) for s in EXAMPLES}
        logs = {s: tmp_path / f"{s}.log" for s in EXAMPLES}
        ticking = threading.Event()

        def tick() -> None:
            while not ticking.wait(0.1):
                sim.control.step(1)

        ticker = threading.Thread(target=tick, name="market", daemon=True)
        ticker.start()
        started = time.monotonic()
        procs = {s: start_bot(bots[s][0], logs[s]) for s in EXAMPLES}  # both at once: racing migrations
        try:
            for s, proc in procs.items():
                bot = bots[s][1]["bot"]["id"]
                wait_until(
                    lambda b=bot, sym=s: bool(workflow_statuses(pg_url, b, sym)),
                    60,
                    f"{s} trading",
                    proc,
                    logs[s],
                )
            while time.monotonic() - started < RUN_S:
                for s, proc in procs.items():
                    assert proc.poll() is None, f"{s} bot exited {proc.returncode}:\n{tail(logs[s])}"
                time.sleep(1)
            ticking.set()
            ticker.join()
            time.sleep(2)  # the market is frozen: let the bots take in the last events
            for proc in procs.values():
                proc.send_signal(signal.SIGTERM)
            for s, proc in procs.items():
                assert proc.wait(timeout=60) == 0, f"{s}:\n{tail(logs[s])}"
        finally:
            ticking.set()
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()

        for s in EXAMPLES:
            bot = bots[s][1]["bot"]["id"]
            problems = store_vs_venue(pg_url, bot, s, sim)
            assert not problems, f"{s}: {problems}"
            store = open_store(pg_url, bot, s)
            try:
                stored = sorted(f.trade_id for f in store.fills())
                client_ids = {f.client_id for f in store.fills()} | {o.client_id for o in store.orders()}
                book = store.load_book()
            finally:
                store.close()
            venue = sorted(int(t["id"]) for t in sim.control.trades(KEY, s))
            assert stored == venue, f"{s}: store fills {stored} != venue fills {venue}"
            assert len(venue) >= 5, f"{s} hardly traded in {RUN_S:g} s: {len(venue)} fills"
            assert all(decode(c, bot) is not None for c in client_ids), f"{s}: another bot's order stored"
            assert book is not None
            open_ids = {o["clientOrderId"] for o in sim.control.open_orders(KEY, s)}
            assert {x.client_id for x in book if x.working} == open_ids
            assert workflow_executors(pg_url, bot, s) == {f"{bot}-{s}"}
            assert set(workflow_statuses(pg_url, bot, s).values()) == {"SUCCESS"}
