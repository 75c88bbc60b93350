"""OpsServer over real loopback HTTP: /metrics, /healthz, /status, bearer token, errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from market_maker.ops.health import Health, HealthTracker
from market_maker.ops.http import OpsServer
from market_maker.ops.metrics import BotMetrics

TOKEN = "s3cr3t-ops-token-XYZ"


@pytest.fixture
def parts() -> Iterator[tuple[BotMetrics, list[Health], dict[str, Any]]]:
    yield BotMetrics("b1", "BTCUSDT", "spot", "sim"), [Health(True)], {"bot_id": "b1"}


def serve(parts: tuple[BotMetrics, list[Health], dict[str, Any]], token: str | None = None) -> OpsServer:
    metrics, health, status = parts
    return OpsServer(metrics.render, lambda: health[0], lambda: status, port=0, token=token).start()


def test_endpoints_without_token(parts: tuple[BotMetrics, list[Health], dict[str, Any]]) -> None:
    metrics, health, _ = parts
    metrics.set_price(101)
    server = serve(parts)
    try:
        assert server.host == "127.0.0.1" and server.port > 0
        r = requests.get(server.url + "/metrics", timeout=5)
        assert r.status_code == 200
        fams = {f.name: f for f in text_string_to_metric_families(r.text)}
        assert fams["mm_price"].samples[0].value == 101
        assert requests.get(server.url + "/healthz", timeout=5).text == "ok\n"
        health[0] = Health(False, "market stream stale: no message for 31.0s (limit 30s)")
        r = requests.get(server.url + "/healthz", timeout=5)
        assert r.status_code == 503 and "market stream stale" in r.text
        r = requests.get(server.url + "/status", timeout=5)
        assert r.status_code == 200 and r.json() == {"bot_id": "b1"}
        assert requests.get(server.url + "/nope", timeout=5).status_code == 404
    finally:
        server.stop()


def test_token_required_on_every_path_and_never_logged(
    parts: tuple[BotMetrics, list[Health], dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = serve(parts, TOKEN)
    try:
        for path in ("/metrics", "/healthz", "/status", "/nope"):
            assert requests.get(server.url + path, timeout=5).status_code == 401
            bad = {"Authorization": "Bearer wrong"}
            assert requests.get(server.url + path, headers=bad, timeout=5).status_code == 401
        good = {"Authorization": f"Bearer {TOKEN}"}
        assert requests.get(server.url + "/status", headers=good, timeout=5).json() == {"bot_id": "b1"}
        assert requests.get(server.url + "/metrics", headers=good, timeout=5).status_code == 200
        assert TOKEN not in repr(server)
    finally:
        server.stop()
    assert TOKEN not in caplog.text


def test_failing_status_callable_answers_500_and_server_survives() -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("boom")

    server = OpsServer(lambda: b"", lambda: Health(True), broken).start()
    try:
        assert requests.get(server.url + "/status", timeout=5).status_code == 500
        assert requests.get(server.url + "/healthz", timeout=5).status_code == 200
    finally:
        server.stop()


def test_stop_releases_the_port() -> None:
    server = OpsServer(lambda: b"", lambda: Health(True), dict).start()
    port = server.port
    server.stop()
    again = OpsServer(lambda: b"", lambda: Health(True), dict, port=port).start()
    try:
        assert requests.get(again.url + "/healthz", timeout=5).status_code == 200
    finally:
        again.stop()


def test_health_tracker_stale_streams_and_reconcile() -> None:
    now = [0.0]
    t = HealthTracker(("market", "user"), stale_after_s=30, clock=lambda: now[0])
    assert not t.check().ok and "no reconcile yet" in t.check().reason
    t.reconcile_done(True)
    assert t.check() == Health(
        False,
        "market stream: no message yet (0.0s since start); user stream: no message yet (0.0s since start)",
    )
    t.stream_message("market")
    t.stream_message("user")
    assert t.check() == Health(True, "")
    now[0] = 20.0
    t.stream_message("user")
    now[0] = 31.0
    h = t.check()
    assert not h.ok and "market stream stale" in h.reason and "user" not in h.reason
    t.stream_message("market")
    assert t.check().ok
    t.reconcile_done(False, "exchange timed out")
    assert t.check() == Health(False, "last reconcile failed: exchange timed out")
    assert t.staleness() == {"market": 0.0, "user": 11.0}
