"""The ops endpoint of a running bot (`python -m market_maker run`) trading on the simulator: /metrics
parsed with prometheus-client carries the issue's metrics with sane values; /healthz turns 503 while
the simulator stalls the market stream and 200 once it resumes; `status` prints the box and its
`--json` validates against docs/status.schema.json."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
from test_ops_bot_support import KEY, ROOT, SECRET, OpsBot, wait_until

from market_maker.sim.server import SimConfig, SimServer

SCHEMA = json.loads((ROOT / "docs" / "status.schema.json").read_text())
SYMBOL = "BTCUSDT"


@pytest.fixture
def sim() -> Iterator[SimServer]:
    with SimServer(SimConfig(step_mode=True)) as s:
        s.create_account(KEY, SECRET, {"USDT": "10000", "BTC": "0"})
        yield s


def own_open(sim: SimServer, side: str) -> list[Decimal]:
    return sorted(
        Decimal(o["price"])
        for o in sim.control.open_orders(KEY, SYMBOL)
        if o["side"] == side and o["clientOrderId"].startswith("ops1_")
    )


def total(metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str) -> float:
    """Sum of a metric over all its label sets."""
    return sum(v for (n, _), v in metrics.items() if n == name)


def labelled(metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str) -> dict[str, float]:
    """{label value: sample} of a metric with one label."""
    return {labels[0][1]: v for (n, labels), v in metrics.items() if n == name and len(labels) == 1}


def test_metrics_health_and_status_of_a_running_bot(sim: SimServer, tmp_path: Path) -> None:
    with OpsBot(sim, tmp_path) as bot:
        wait_until("three buys on the venue", lambda: len(own_open(sim, "BUY")) >= 3)
        # Up four levels with the next order refused: the buys left behind are cancelled (trailing),
        # new ones go out and one of them is rejected.
        sim.control.reject_next_orders(1)
        sim.control.set_price(SYMBOL, str(Decimal(sim.control.price(SYMBOL)) + 40))
        wait_until("a reject and a cancel", lambda: total(bot.metrics(), "mm_orders_rejected_total") >= 1)
        wait_until("three buys again", lambda: len(own_open(sim, "BUY")) >= 3)
        sim.control.set_price(SYMBOL, str(own_open(sim, "BUY")[-1] - Decimal("0.01")))  # the top buy fills
        wait_until("a buy fill", lambda: labelled(bot.metrics(), "mm_fills_total").get("BUY", 0) >= 1)
        wait_until("a sell for the position", lambda: own_open(sim, "SELL") != [])
        wait_until("a fresh reconcile", lambda: bot.metrics()[("mm_reconcile_drift", ())] == 0)
        # the slot gauges follow the slot manager's periodic view (every timer tick, here 1 s)
        wait_until("the grid gauges", lambda: bot.metrics()[("mm_position", ())] > 0)
        m = bot.metrics()

        assert 90_000 < m[("mm_price", ())] < 110_000
        # the center follows the price (the gauge may lag it by one timer tick while the market moves)
        assert abs(m[("mm_center", ())] - m[("mm_price", ())]) <= 100 and m[("mm_interval", ())] == 10
        atr = m[("mm_atr", ())]
        assert math.isnan(atr) or atr > 0  # NaN while it warms up, never a made-up 0
        slots = labelled(m, "mm_slots")
        assert set(slots) == {"FREE", "PENDING", "LOCKED", "FILLED"} and slots["LOCKED"] >= 3
        assert m[("mm_position", ())] > 0  # the filled buy is held (its sell is working)
        assert m[("mm_fees", ())] > 0 and not math.isnan(m[("mm_realized_pnl", ())])
        assert not math.isnan(m[("mm_unrealized_pnl", ())])
        placed = m[("mm_orders_placed_total", ())]
        cancelled = labelled(m, "mm_orders_cancelled_total")
        assert placed >= 7 and cancelled.get("trailing", 0) >= 1
        rejected = labelled(m, "mm_orders_rejected_total")
        assert sum(rejected.values()) >= 1 and all(reason for reason in rejected)
        # the ratio of the two counters (an order in flight while the page renders may move one of them)
        ratio = sum(cancelled.values()) / placed
        assert m[("mm_cancel_place_ratio", ())] == pytest.approx(ratio, abs=2 / placed)
        assert m[("mm_reconcile_ok", ())] == 1 and m[("mm_reconcile_drift", ())] == 0
        assert 0 <= labelled(m, "mm_stream_staleness_seconds")["market"] < 3
        assert 0 < m[("mm_rate_limit_headroom_ratio", ())] <= 1 and m[("mm_rate_limit_used_weight", ())] > 0
        assert m[("mm_risk_triggered", ())] == 0 and m[("mm_breaker_tripped", ())] == 0
        count = m[("mm_tick_to_order_latency_seconds_count", ())]
        assert count >= 1 and m[("mm_tick_to_order_latency_seconds_sum", ())] > 0
        assert m[("mm_tick_to_order_latency_seconds_bucket", (("le", "+Inf"),))] == count
        assert labelled(m, "mm_open_orders")["own"] >= 1

        box = bot.status_cli()
        assert box.returncode == 0, box.stderr
        assert "ops1 | BTCUSDT spot | binance" in box.stdout and ">>> price" in box.stdout
        for part in ("Slots  FREE", "Breaker ok", "Health ok", "Position 0.00"):
            assert part in box.stdout, box.stdout
        as_json = bot.status_cli("--json")
        assert as_json.returncode == 0, as_json.stderr
        doc = json.loads(as_json.stdout)
        jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
        assert doc["bot"]["id"] == "ops1" and doc["health"]["ok"] is True, doc["health"]
        assert Decimal(doc["position"]) > 0 and doc["slots"]["LOCKED"] >= 3 and doc["ladder"]
        assert doc["orders"]["placed"] >= 7 and doc["orders"]["rejected"] >= 1 and doc["orders"]["fills"] >= 1
        assert doc["rate_limit"]["limit"] > 0 and doc["reconcile"]["ok"] is True

        sim.control.stall_streams(0)  # sockets stay open, nothing arrives until resumed
        wait_until("503 on a stalled stream", lambda: bot.get("/healthz").status_code == 503)
        assert "market stream stale" in bot.get("/healthz").text
        stalled = bot.metrics()
        assert labelled(stalled, "mm_stream_staleness_seconds")["market"] > 3
        sim.control.resume_streams()
        wait_until("200 after resume", lambda: bot.get("/healthz").status_code == 200)
        assert bot.get("/metrics", token=None).status_code == 401  # no token, no metrics
    assert bot.result is not None and bot.result.returncode == 0, bot.result.stderr[-3000:]
