"""Market streams, spot user data (WebSocket API) and futures user data (listenKey), through
``websocket-client`` and ``requests``."""

from __future__ import annotations

import json
import time
from itertools import pairwise
from typing import Any

import pytest
import requests
import websocket
from test_sim_support import SIM_KEY, SignedApi

from market_maker.sim.auth import sign
from market_maker.sim.server import SimServer

SYM = "BTCUSDT"


def recv_json(ws: websocket.WebSocket) -> Any:
    return json.loads(ws.recv())


def recv_until(ws: websocket.WebSocket, pred: Any, limit: int = 200) -> Any:
    for _ in range(limit):
        msg = recv_json(ws)
        if pred(msg):
            return msg
    raise AssertionError("expected message never came")


def subscribe_spot_user(
    sim: SimServer, key: str = SIM_KEY, secret: str = "sim-test-secret"
) -> websocket.WebSocket:
    ws = websocket.create_connection(sim.ws_url + "/ws-api/v3", timeout=5)
    params = {"apiKey": key, "timestamp": int(time.time() * 1000)}
    payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
    params["signature"] = sign(secret, payload)  # type: ignore[assignment]
    ws.send(json.dumps({"id": "sub1", "method": "userDataStream.subscribe.signature", "params": params}))
    reply = recv_json(ws)
    assert reply["id"] == "sub1" and reply["status"] == 200, reply
    assert (
        reply["result"] == {"subscriptionId": 0}
        and reply["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
    )
    return ws


def test_spot_user_data_two_part_fill_comes_in_binance_order(sim: SimServer, sim_api: SignedApi) -> None:
    ws = subscribe_spot_user(sim)
    sim.control.force_partial_fills(True)
    placed = sim_api.call(
        "POST",
        "/api/v3/order",
        symbol=SYM,
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.002",
        price="99000",
        newClientOrderId="mm1_B1_0",
    )
    assert placed.status_code == 200
    sim.control.set_price(SYM, "98990")
    sim.control.set_price(SYM, "98980")
    events = [recv_json(ws) for _ in range(6)]
    assert all(e["subscriptionId"] == 0 for e in events)
    seq = [(e["event"]["e"], e["event"].get("x"), e["event"].get("X")) for e in events]
    assert seq == [
        ("executionReport", "NEW", "NEW"),
        ("outboundAccountPosition", None, None),
        ("executionReport", "TRADE", "PARTIALLY_FILLED"),
        ("outboundAccountPosition", None, None),
        ("executionReport", "TRADE", "FILLED"),
        ("outboundAccountPosition", None, None),
    ]
    first, second = events[2]["event"], events[4]["event"]
    assert first["l"] == "0.00100000" and first["z"] == "0.00100000" and first["L"] == "99000.00000000"
    assert first["m"] is True and first["N"] == "BTC" and first["n"] == "0.00000100" and first["t"] > 0
    assert second["z"] == "0.00200000" and second["c"] == "mm1_B1_0" and second["C"] == ""
    balances = {b["a"]: b for b in events[5]["event"]["B"]}
    assert balances["USDT"]["l"] == "0.00000000" and balances["BTC"]["f"] == "1.00199800"
    new_balances = {b["a"]: b for b in events[1]["event"]["B"]}
    assert new_balances["USDT"]["l"] == "198.00000000"
    ws.close()


def test_spot_cancel_event_carries_both_ids(sim: SimServer, sim_api: SignedApi) -> None:
    ws = subscribe_spot_user(sim)
    sim_api.call(
        "POST",
        "/api/v3/order",
        symbol=SYM,
        side="SELL",
        type="LIMIT_MAKER",
        quantity="0.001",
        price="101000",
        newClientOrderId="mm1_S1_0",
    )
    sim_api.call("DELETE", "/api/v3/order", symbol=SYM, origClientOrderId="mm1_S1_0", newClientOrderId="cx")
    cancel = recv_until(ws, lambda m: m["event"].get("x") == "CANCELED")["event"]
    assert cancel["c"] == "cx" and cancel["C"] == "mm1_S1_0" and cancel["X"] == "CANCELED"
    ws.close()


def test_ws_api_subscription_errors(sim: SimServer) -> None:
    ws = subscribe_spot_user(sim)
    params = {"apiKey": SIM_KEY, "timestamp": int(time.time() * 1000)}
    params["signature"] = sign("sim-test-secret", f"apiKey={SIM_KEY}&timestamp={params['timestamp']}")  # type: ignore
    ws.send(json.dumps({"id": 2, "method": "userDataStream.subscribe.signature", "params": params}))
    assert recv_json(ws)["error"]["code"] == -2035
    ws.send(json.dumps({"id": 3, "method": "userDataStream.unsubscribe"}))
    assert recv_json(ws)["event"]["e"] == "eventStreamTerminated"
    assert recv_json(ws)["status"] == 200
    params["signature"] = "00" * 32  # type: ignore[assignment]
    ws.send(json.dumps({"id": 4, "method": "userDataStream.subscribe.signature", "params": params}))
    assert recv_json(ws)["error"]["code"] == -1022
    ws.close()


@pytest.mark.parametrize("route", ["legacy", "private"])
def test_futures_user_data_by_listen_key(sim: SimServer, sim_api: SignedApi, route: str) -> None:
    key = requests.post(sim.rest_url + "/fapi/v1/listenKey", headers={"X-MBX-APIKEY": SIM_KEY}).json()[
        "listenKey"
    ]
    path = f"/ws/{key}" if route == "legacy" else f"/private/ws?listenKey={key}&events=ORDER_TRADE_UPDATE"
    ws = websocket.create_connection(sim.ws_url + path, timeout=5)
    sim.control.force_partial_fills(True)
    sim_api.call(
        "POST",
        "/fapi/v1/order",
        symbol=SYM,
        side="BUY",
        type="LIMIT",
        timeInForce="GTX",
        quantity="0.002",
        price="99000",
        newClientOrderId="mm1_B1_0",
    )
    sim.control.set_price(SYM, "98990")
    sim.control.set_price(SYM, "98980")
    events = [recv_json(ws) for _ in range(5)]
    seq = [(e["e"], e.get("o", {}).get("x"), e.get("o", {}).get("X")) for e in events]
    assert seq == [
        ("ORDER_TRADE_UPDATE", "NEW", "NEW"),
        ("ORDER_TRADE_UPDATE", "TRADE", "PARTIALLY_FILLED"),
        ("ACCOUNT_UPDATE", None, None),
        ("ORDER_TRADE_UPDATE", "TRADE", "FILLED"),
        ("ACCOUNT_UPDATE", None, None),
    ]
    fill = events[1]["o"]
    assert fill["c"] == "mm1_B1_0" and fill["l"] == "0.00100" and fill["N"] == "USDT" and fill["m"] is True
    update = events[4]["a"]
    assert update["m"] == "ORDER" and update["P"][0]["pa"] == "0.00200" and update["P"][0]["ep"] == "99000"
    sim.control.expire_listen_keys()
    assert recv_json(ws) == {
        "e": "listenKeyExpired",
        "E": pytest.approx(time.time() * 1000, abs=5000),
        "listenKey": key,
    }
    ws.close()


def test_unknown_listen_key_is_refused(sim: SimServer) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(sim.ws_url + "/private/ws?listenKey=" + "a" * 64, timeout=5)


def test_market_streams_raw_combined_and_subscribe(sim: SimServer) -> None:
    raw = websocket.create_connection(sim.ws_url + "/ws/btcusdt@trade", timeout=5)
    combined = websocket.create_connection(
        sim.ws_url
        + "/stream?streams=btcusdt@bookTicker/btcusdt@depth5@100ms/btcusdt@kline_1m/btcusdt@aggTrade",
        timeout=5,
    )
    futures = websocket.create_connection(sim.ws_url + "/public/ws/btcusdt@bookTicker", timeout=5)
    live = websocket.create_connection(sim.ws_url + "/ws", timeout=5)
    live.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 7}))
    assert recv_json(live) == {"result": None, "id": 7}
    live.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 8}))
    assert recv_json(live) == {"result": ["btcusdt@trade"], "id": 8}
    time.sleep(0.1)  # let the server register every socket before the market moves
    sim.control.step()
    trade = recv_json(raw)
    assert trade["e"] == "trade" and trade["s"] == SYM and isinstance(trade["p"], str) and trade["t"] > 0
    assert recv_json(live)["e"] == "trade"
    got = {m["stream"]: m["data"] for m in (recv_json(combined) for _ in range(4))}
    assert set(got) == {"btcusdt@bookTicker", "btcusdt@depth5@100ms", "btcusdt@kline_1m", "btcusdt@aggTrade"}
    assert "e" not in got["btcusdt@bookTicker"] and got["btcusdt@bookTicker"]["s"] == SYM
    assert len(got["btcusdt@depth5@100ms"]["bids"]) == 5
    assert got["btcusdt@kline_1m"]["k"]["i"] == "1m" and got["btcusdt@aggTrade"]["e"] == "aggTrade"
    assert recv_json(futures)["e"] == "bookTicker"  # futures bookTicker carries e/E/T
    for ws in (raw, combined, futures, live):
        ws.close()


class TestServerPings:
    @pytest.fixture
    def sim_config(self) -> Any:
        from market_maker.sim.config import SimConfig

        return SimConfig(step_mode=True, ws_ping_interval_s=0.3)

    def test_server_pings(self, sim: SimServer) -> None:
        ws = websocket.create_connection(sim.ws_url + "/ws/btcusdt@trade", timeout=5)
        opcode, _frame = ws.recv_data_frame(control_frame=True)  # websocket-client answers with a pong
        assert opcode == websocket.ABNF.OPCODE_PING
        ws.close()


def test_open_kline_updates_come_at_binances_pace_and_every_close_goes_out() -> None:
    from market_maker.sim.config import SimConfig

    def drive(server: SimServer, ws: websocket.WebSocket, steps: int, pause_s: float) -> list[Any]:
        for _ in range(steps):
            server.control.step()
            time.sleep(pause_s)
        klines, quotes = [], 0
        while quotes < steps:
            m = recv_json(ws)
            if m["stream"] == "btcusdt@bookTicker":
                quotes += 1
            else:
                klines.append(m["data"])
        return klines

    with SimServer(SimConfig(step_mode=True, step_ms=100, kline_push_ms=1000)) as server:
        ws = websocket.create_connection(
            server.ws_url + "/stream?streams=btcusdt@bookTicker/btcusdt@kline_1m", timeout=5
        )
        time.sleep(0.1)  # let the server register the socket before the market moves
        paced = drive(server, ws, 30, 0.1)  # 3 s of wall time, 30 quotes
        fast = drive(server, ws, 1300, 0.0)  # 130 s of market time at once: two minutes close
        ws.close()
    open_times = [k["E"] for k in paced if not k["k"]["x"]]
    assert 2 <= len(open_times) <= 4  # one a second (the update speed set here), not one per quote
    assert all(b - a >= 1000 for a, b in pairwise(open_times))
    closes = [k for k in fast if k["k"]["x"]]
    assert len(closes) >= 2 and len({k["k"]["t"] for k in closes}) == len(closes)  # each minute closes once
