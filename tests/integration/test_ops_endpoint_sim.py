"""The ops endpoint fed by a real connector on the simulator: /metrics parses with prometheus-client,
/healthz turns 503 while the simulator stalls the stream and 200 again once it resumes, /status validates.

The market stream and a reconcile (open orders over REST) drive an OpsService exactly as the bot's
actors do: stream messages -> health and price, reconcile result -> health and metrics.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from market_maker.config import config_from_mapping
from market_maker.exchange.factory import make_exchange
from market_maker.exchange.types import MarketEvent, Quote
from market_maker.ops.service import OpsService
from market_maker.ops.status_doc import StatusInput
from market_maker.sim.server import SimServer

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "status.schema.json").read_text())
KEY, SECRET, TOKEN = "opsSimKey0123456789abc", "opsSimSecret0123456789abcdef", "opsToken-5f4e3d2c1b"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(what: str, check: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def bot() -> Iterator[tuple[SimServer, OpsService, str]]:
    config = config_from_mapping(
        {"ops": {"port": free_port()}, "risk": {"stale_price_seconds": 2}},
        env={"MM_API_KEY": KEY, "MM_API_SECRET": SECRET, "MM_OPS_TOKEN": TOKEN},
    )
    with SimServer() as sim:
        sim.create_account(KEY, SECRET, {"USDT": "10000", "BTC": "0"})
        ex = make_exchange("spot", sim.rest_url, sim.ws_url, KEY, SECRET, symbol="BTCUSDT")
        ex.start()
        rules = ex.symbol_rules()
        last: list[Decimal | None] = [None]

        def status() -> StatusInput:
            return StatusInput("mm1", "BTCUSDT", "spot", "sim", int(time.time() * 1000), price=last[0])

        ops = OpsService.from_config(config, status, streams=("market",))

        def on_event(event: MarketEvent) -> None:
            ops.health.stream_message("market")
            ops.metrics.stream_message("market")
            if isinstance(event, Quote):
                last[0] = rules.ticks_to_price(event.mid2) / 2
                ops.metrics.set_price(last[0])

        stream = ex.market_stream(on_event, stale_after_s=120)
        ops.start()
        stream.start()
        try:
            assert stream.wait_connected(30)
            own = ex.open_orders()  # the reconcile the bot runs before trading
            ops.reconcile_done(True, drift=Decimal(0))
            ops.metrics.set_open_orders(len(own), 0)
            assert ops.server is not None
            yield sim, ops, ops.server.url
        finally:
            stream.stop()
            ops.stop()
            ex.close()


def get(url: str) -> requests.Response:
    return requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)


def test_metrics_healthz_status_follow_the_stream(bot: tuple[SimServer, OpsService, str]) -> None:
    sim, _, url = bot
    wait_until("healthy", lambda: get(url + "/healthz").status_code == 200)

    page = get(url + "/metrics").text
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(page)
        for s in family.samples
    }
    assert 90_000 < values[("mm_price", ())] < 110_000
    assert values[("mm_reconcile_ok", ())] == 1
    assert values[("mm_stream_staleness_seconds", (("stream", "market"),))] < 2
    doc = get(url + "/status").json()
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert doc["health"] == {"ok": True, "reason": ""} and doc["reconcile"]["ok"] is True

    sim.control.stall_streams(0)  # until resumed: the socket stays open, nothing arrives
    wait_until("503 on a stalled stream", lambda: get(url + "/healthz").status_code == 503)
    assert "market stream stale" in get(url + "/healthz").text
    stalled = get(url + "/status").json()
    assert stalled["health"]["ok"] is False and stalled["streams"]["market"]["staleness_s"] > 2

    sim.control.resume_streams()
    wait_until("200 after resume", lambda: get(url + "/healthz").status_code == 200)

    for body in (page, json.dumps(doc), json.dumps(stalled), get(url + "/healthz").text):
        for secret in (KEY, SECRET, TOKEN):
            assert secret not in body
    assert requests.get(url + "/metrics", timeout=10).status_code == 401  # no token, no metrics
