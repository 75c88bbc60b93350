"""Alerts from a running bot to a webhook receiver on loopback: start, reconnect storm, risk trigger and
stop from a `python -m market_maker run` process (webhook from MM_OPS_WEBHOOK_URL, its secret path in
no log line); a breaker trip from the actor system wired exactly as
the run verb wires it (OpsService + OpsObserver), driven to lose two round trips in a row."""

from __future__ import annotations

import secrets
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from invariants import BotRun, make_config
from test_ops_bot_support import KEY, SECRET, OpsBot, Receiver, running_receiver, wait_until

from actors.ops_observer import OpsObserver
from actors.system import RunOptions, TradingSystem
from market_maker.exchange.factory import make_exchange
from market_maker.ops.service import OpsService
from market_maker.ops.status_doc import StatusInput
from market_maker.settings.sim_config import sim_balances, sim_config
from market_maker.sim.server import SimConfig, SimServer


def kinds(receiver: Receiver) -> list[str]:
    return [b["kind"] for b in receiver.bodies]


def alert(receiver: Receiver, kind: str) -> dict[str, Any]:
    wait_until(f"a {kind} alert", lambda: kind in kinds(receiver))
    return next(b for b in receiver.bodies if b["kind"] == kind)


def test_start_storm_risk_and_stop_alerts_from_a_bot_process(tmp_path: Path) -> None:
    with (
        running_receiver() as receiver,
        SimServer(SimConfig(step_mode=True)) as sim,
    ):
        sim.create_account(KEY, SECRET, {"USDT": "10000", "BTC": "0"})
        ops = {"alert_min_interval_seconds": 0}  # the webhook from the environment, as for a chat hook
        with OpsBot(sim, tmp_path, env={"MM_OPS_WEBHOOK_URL": receiver.url}, ops=ops) as bot:
            start = alert(receiver, "start")
            assert start["bot"] == "ops1" and start["symbol"] == "BTCUSDT"

            def reconnects() -> float:
                return sum(v for (n, _), v in bot.metrics().items() if n == "mm_stream_reconnects_total")

            for _ in range(5):  # five dropped connections within a minute make a storm
                before = reconnects()
                sim.control.drop_streams()
                wait_until("the stream to reconnect", lambda b=before: reconnects() > b)  # type: ignore[misc]
            storm = alert(receiver, "reconnect_storm")
            assert "reconnects within 60s" in storm["message"]

            sim.control.stall_streams(0)  # no market data for longer than risk.stale_price_seconds
            risk = alert(receiver, "risk_trigger")
            assert risk["details"]["reasons"] == ["stale market data"]
            sim.control.resume_streams()
        result = bot.stop()
        assert result.returncode == 0, result.stderr[-3000:]
        stop = alert(receiver, "stop")
        assert stop["details"]["exit_code"] == 0
        assert kinds(receiver).count("start") == 1 and kinds(receiver).count("stop") == 1
        for where in (bot.logs(), result.stdout, result.stderr):
            assert "SECRETPATH" not in where  # a chat webhook's path is its secret


def test_breaker_trip_alert_from_the_running_actor_system(tmp_path: Path) -> None:
    with running_receiver() as receiver:
        config = make_config(
            tmp_path / "bot.sqlite",
            risk={"max_consecutive_losses": 2, "cooldown_seconds": 0},
            ops={"webhook_url": receiver.url, "alert_min_interval_seconds": 0},
        )
        sim = SimServer(sim_config(config, step_mode=True)).start()
        key, secret = secrets.token_hex(16), secrets.token_hex(16)
        sim.create_account(key, secret, sim_balances(config))
        ops = OpsService.from_config(
            config, lambda: StatusInput("t1", "BTCUSDT", "spot", "sim", int(time.time() * 1000))
        ).start()
        run = BotRun(sim, config, key, secret, RunOptions(heartbeat_s=3600, risk_clock_s=0.2))
        exchange = make_exchange("spot", sim.rest_url, sim.ws_url, key, secret, symbol="BTCUSDT")
        try:
            run.system = TradingSystem(config, exchange, run.options, OpsObserver(ops, exchange))
            run.system.start()
            run.price("100000")
            for _ in (1, 2):
                run.price("99989.99")  # the buys at and above 99990 fill
                sell = max(Decimal(o["price"]) for o in run.own_open() if o["side"] == "SELL")
                run.price(str(sell + Decimal("0.01")))  # their take-profits fill: losses after fees
            run.wait_for(lambda st: st.halted, "breaker to trip")
            trip = alert(receiver, "breaker_trip")
        finally:
            run.stop()
            ops.stop()
            sim.stop()
    assert trip["bot"] == "t1" and "circuit breaker tripped" in trip["message"]
    assert trip["details"]["reason"] == "2 losing round trips in a row" and trip["details"]["losses"] >= 2
    assert kinds(receiver).count("breaker_trip") == 1  # once per trip, not on every risk update
