"""Tick-to-order latency on /metrics: a price move that makes the bot place an order is timed from the
market-data frame to the order request going out, through the real actors and connector."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from invariants import BotRun, check_invariants, make_config
from prometheus_client.parser import text_string_to_metric_families

from actors.ops_observer import OpsObserver
from actors.system import RunOptions, TradingSystem
from market_maker.exchange.factory import make_exchange
from market_maker.ops.service import OpsService
from market_maker.ops.status_doc import StatusInput
from market_maker.settings.sim_config import sim_balances, sim_config
from market_maker.sim.server import SimServer

HISTOGRAM = "mm_tick_to_order_latency_seconds"


def latency(ops: OpsService) -> tuple[float, float]:
    """(count, sum) of the tick-to-order histogram as /metrics renders it."""
    values = {
        s.name: s.value
        for family in text_string_to_metric_families(ops.metrics.render().decode())
        for s in family.samples
        if not s.labels.get("le")
    }
    return values[HISTOGRAM + "_count"], values[HISTOGRAM + "_sum"]


def test_a_price_move_that_places_an_order_is_timed_into_the_histogram(tmp_path: Path) -> None:
    config = make_config(tmp_path / "bot.sqlite")
    sim = SimServer(sim_config(config, step_mode=True)).start()
    key, secret = secrets.token_hex(16), secrets.token_hex(16)
    sim.create_account(key, secret, sim_balances(config))
    ops = OpsService.from_config(
        config, lambda: StatusInput("t1", "BTCUSDT", "spot", "sim", int(time.time() * 1000))
    )
    run = BotRun(sim, config, key, secret, RunOptions(heartbeat_s=3600, risk_clock_s=0.2))
    exchange = make_exchange("spot", sim.rest_url, sim.ws_url, key, secret, symbol="BTCUSDT")
    try:
        run.system = TradingSystem(config, exchange, run.options, OpsObserver(ops))
        run.system.start()
        run.price("100000")
        before = latency(ops)
        run.price("100010")  # the centre moves up one level: a new buy at 100000 goes out
        assert any(o["price"] == "100000.00000000" for o in run.own_open())
        after = latency(ops)
        assert after[0] > before[0]  # the placement was timed
        assert after[1] > before[1]  # ... with a positive duration
        run.settle()
        run.stop()
        check_invariants(run)
    finally:
        run.stop()
        sim.stop()
