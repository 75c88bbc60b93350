"""Every fault the simulator injects, the rate limits and bans, and the control views (Python and HTTP)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
import websocket
from test_sim_support import SIM_KEY, SignedApi

from market_maker.sim.config import SimConfig
from market_maker.sim.server import SimServer

SYM = "BTCUSDT"


def place(api: SignedApi, cid: str, price: str = "99000", timeout: float = 10) -> requests.Response:
    return api.call(
        "POST",
        "/api/v3/order",
        symbol=SYM,
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.001",
        price=price,
        newClientOrderId=cid,
        timeout=timeout,
    )


def test_fail_next_answers_5xx_without_executing(sim: SimServer, sim_api: SignedApi) -> None:
    sim.control.fail_next(2, status=503)
    first = place(sim_api, "a")
    assert first.status_code == 503 and first.json()["code"] == -1000
    assert sim_api.public("/api/v3/time").status_code == 503
    assert place(sim_api, "b").status_code == 200
    assert [o["clientOrderId"] for o in sim.control.open_orders(SIM_KEY)] == ["b"]


def test_timeout_after_accept_leaves_the_order_on_the_book(sim: SimServer, sim_api: SignedApi) -> None:
    sim.control.timeout_after_accept_next(1, hold_seconds=3)
    with pytest.raises(requests.Timeout):
        place(sim_api, "lost-answer", timeout=0.5)
    got = sim_api.call("GET", "/api/v3/order", symbol=SYM, origClientOrderId="lost-answer").json()
    assert got["status"] == "NEW"
    sim.control.timeout_after_accept_next(1, hold_seconds=0.1)
    late = place(sim_api, "late", price="98000")
    assert late.status_code == 503 and late.json()["code"] == -1007
    assert {o["clientOrderId"] for o in sim.control.open_orders(SIM_KEY)} == {"lost-answer", "late"}


def test_reject_next_orders(sim: SimServer, sim_api: SignedApi) -> None:
    sim.control.reject_next_orders(1)
    rejected = place(sim_api, "r1")
    assert rejected.status_code == 400 and rejected.json()["code"] == -2010
    assert place(sim_api, "r2").status_code == 200


def test_latency_delays_answers(sim: SimServer, sim_api: SignedApi) -> None:
    sim.control.set_latency(300)
    t0 = time.monotonic()
    assert sim_api.public("/api/v3/ping").status_code == 200
    assert time.monotonic() - t0 >= 0.29
    sim.control.set_latency(0)


def test_clock_skew_moves_server_time_and_the_recv_window(sim: SimServer, sim_api: SignedApi) -> None:
    sim.control.skew_clock(-20_000)
    server = sim_api.public("/api/v3/time").json()["serverTime"]
    assert server < time.time() * 1000 - 15_000
    skewed = sim_api.call("GET", "/api/v3/account")
    assert skewed.json()["code"] == -1021
    assert sim_api.call("GET", "/api/v3/account", timestamp=server).status_code == 200


def test_set_price_and_views(sim: SimServer, sim_api: SignedApi) -> None:
    place(sim_api, "v1")
    assert sim.control.balances(SIM_KEY)["spot"]["USDT"] == {"free": "99901", "locked": "99"}
    sim.control.set_price(SYM, "98000")
    assert sim.control.price(SYM) == "98000.00"
    assert sim_api.public("/api/v3/ticker/price", symbol=SYM).json()["price"] == "98000.00000000"
    assert sim.control.open_orders(SIM_KEY) == []
    (trade,) = sim.control.trades(SIM_KEY, SYM)
    assert trade["price"] == "99000.00000000" and trade["market"] == "spot"
    with pytest.raises(ValueError):
        sim.control.set_price("NOPE", "1")


def test_http_control_api(sim: SimServer, sim_api: SignedApi) -> None:
    base = sim.rest_url + "/_sim/"
    assert requests.post(base + "reject_next_orders", json={"n": 1}).status_code == 200
    assert place(sim_api, "h1").json()["code"] == -2010
    place(sim_api, "h2")
    views = requests.get(base + "open_orders", params={"api_key": SIM_KEY}).json()["result"]
    assert [o["clientOrderId"] for o in views] == ["h2"]
    assert requests.post(base + "set_price", json={"symbol": SYM, "price": "98500"}).status_code == 200
    assert requests.get(base + "trades", params={"api_key": SIM_KEY}).json()["result"][0]["price"] == (
        "99000.00000000"
    )
    assert requests.post(base + "step", json={"n": 2}).status_code == 200
    assert requests.post(base + "nonsense").status_code == 404
    assert requests.post(base + "set_price", json={"symbol": SYM}).status_code == 400


def test_drop_streams_cuts_every_socket(sim: SimServer) -> None:
    market = websocket.create_connection(sim.ws_url + "/ws/btcusdt@trade", timeout=5)
    time.sleep(0.1)
    assert sim.control.drop_streams() >= 1
    with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError, OSError)):
        market.recv()
        market.recv()


def test_stall_keeps_sockets_open_but_silent(sim: SimServer) -> None:
    ws = websocket.create_connection(sim.ws_url + "/ws/btcusdt@trade", timeout=0.5)
    time.sleep(0.1)
    sim.control.stall_streams(0)
    sim.control.step(3)
    with pytest.raises(websocket.WebSocketTimeoutException):
        ws.recv()
    assert ws.connected
    sim.control.resume_streams()
    sim.control.step()
    assert json.loads(ws.recv())["e"] == "trade"
    sim.control.stall_streams(0.2)  # a timed stall ends by itself
    time.sleep(0.4)
    sim.control.step()
    assert json.loads(ws.recv())["e"] == "trade"
    ws.close()


def test_ban_and_weight_state(sim: SimServer, sim_api: SignedApi) -> None:
    sim.control.ban(60)
    banned = sim_api.public("/api/v3/time")
    assert banned.status_code == 418 and int(banned.headers["Retry-After"]) > 0
    assert banned.json()["code"] == -1003
    sim.control.ban(0)
    assert sim_api.public("/api/v3/time").status_code == 200
    state: dict[str, Any] = sim.control.weights()
    assert state["spot"]["limit"] == 6000


class TestWeightLimits:
    @pytest.fixture
    def sim_config(self) -> SimConfig:
        return SimConfig(step_mode=True, spot_weight_limit=50, spot_order_limit_10s=3)

    def test_429_then_418_for_a_client_that_ignores_retry_after(
        self, sim: SimServer, sim_api: SignedApi
    ) -> None:
        assert sim_api.public("/api/v3/exchangeInfo").headers["X-MBX-USED-WEIGHT-1M"] == "20"
        assert sim_api.public("/api/v3/exchangeInfo").status_code == 200
        limited = sim_api.public("/api/v3/exchangeInfo")
        assert limited.status_code == 429 and limited.json()["code"] == -1003
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.headers["X-MBX-USED-WEIGHT-1M"] == "60"
        banned = sim_api.public("/api/v3/ping")
        assert banned.status_code == 418 and int(banned.headers["Retry-After"]) >= 100
        assert "IP banned until" in banned.json()["msg"]
        assert sim.control.weights()["spot"]["ips"]["127.0.0.1"]["bans"] == 1
        assert sim_api.public("/fapi/v1/ping").status_code == 200  # futures limits are separate

    def test_order_rate_limit(self, sim: SimServer, sim_api: SignedApi) -> None:
        counts = [
            place(sim_api, f"o{i}", price=str(99000 - i)).headers.get("X-MBX-ORDER-COUNT-10S")
            for i in range(3)
        ]
        assert counts == ["1", "2", "3"]
        limited = place(sim_api, "o4")
        assert limited.status_code == 429 and limited.json()["code"] == -1015


class TestFaultsFromConfig:
    @pytest.fixture
    def sim_config(self) -> SimConfig:
        return SimConfig(step_mode=True, error_rate=0.5, clock_skew_ms=-30_000, latency_ms=50)

    def test_config_faults_apply_from_the_start(self, sim: SimServer, sim_api: SignedApi) -> None:
        statuses = [sim_api.public("/api/v3/time") for _ in range(40)]
        codes = {r.status_code for r in statuses}
        assert codes == {200, 503}  # about half the requests fail, seeded
        server_time = next(r for r in statuses if r.status_code == 200).json()["serverTime"]
        assert server_time < time.time() * 1000 - 25_000
