"""What the venue tells its clients about itself: ``serverShutdown`` before a graceful stop, the
24-hour connection cut, ``eR`` (expiryReason) on expired orders, and symbol status (CANCEL_ONLY and
friends: new orders refused, cancels accepted)."""

from __future__ import annotations

from typing import Any

import pytest
import websocket
from test_sim_streams import recv_json, subscribe_spot_user
from test_sim_support import SIM_BALANCES, SIM_KEY, SIM_SECRET, SignedApi

from market_maker.sim.config import SimConfigError, SymbolSpec
from market_maker.sim.server import SimConfig, SimServer

SYM = "BTCUSDT"


def limit_buy(api: SignedApi, market: str = "spot", **kw: Any) -> Any:
    path, qty = ("/api/v3/order", "0.001") if market == "spot" else ("/fapi/v1/order", "0.01")
    params = {"symbol": SYM, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": qty}
    return api.call("POST", path, **{**params, "price": "99000", **kw})


def test_a_graceful_stop_sends_server_shutdown_first() -> None:
    with SimServer(SimConfig(step_mode=True)) as sim:
        sim.create_account(SIM_KEY, SIM_SECRET, dict(SIM_BALANCES))
        raw = websocket.create_connection(sim.ws_url + "/ws/btcusdt@trade", timeout=10)
        combined = websocket.create_connection(sim.ws_url + "/stream?streams=btcusdt@trade", timeout=10)
        api = subscribe_spot_user(sim)
        futures = websocket.create_connection(sim.ws_url + "/market/ws/btcusdt@kline_1m", timeout=10)
        sim.stop()
    assert recv_json(raw)["e"] == "serverShutdown"
    shutdown = recv_json(combined)
    assert shutdown["stream"] == "!serverShutdown" and shutdown["data"]["e"] == "serverShutdown"
    assert recv_json(api)["event"]["e"] == "serverShutdown"
    for ws in (raw, combined, api, futures):  # then a clean close (USD-M documents no such event)
        assert ws.recv_data(control_frame=True)[0] == websocket.ABNF.OPCODE_CLOSE


def test_connections_are_cut_at_their_maximum_age() -> None:
    with SimServer(SimConfig(step_mode=True, ws_max_connection_s=1)) as sim:
        ws = websocket.create_connection(sim.ws_url + "/ws/btcusdt@trade", timeout=30)
        assert ws.recv_data(control_frame=True)[0] == websocket.ABNF.OPCODE_CLOSE


def test_an_expired_order_says_why(sim: SimServer, sim_api: SignedApi) -> None:
    ws = subscribe_spot_user(sim)
    placed = limit_buy(sim_api, timeInForce="IOC").json()
    assert placed["status"] == "EXPIRED"
    reports = [e["event"] for e in (recv_json(ws) for _ in range(3)) if e["event"]["e"] == "executionReport"]
    ws.close()
    assert [(r["x"], r.get("eR")) for r in reports] == [
        ("NEW", None),
        ("EXPIRED", "UNFILLED_IOC_QUANTITY_EXPIRED"),
    ]


def test_cancel_only_refuses_new_orders_and_accepts_cancels(sim: SimServer, sim_api: SignedApi) -> None:
    spot = limit_buy(sim_api).json()
    fut = limit_buy(sim_api, "usdm").json()
    sim.control.set_symbol_status(SYM, "CANCEL_ONLY")
    for info in ("/api/v3/exchangeInfo", "/fapi/v1/exchangeInfo"):
        assert sim_api.public(info).json()["symbols"][0]["status"] == "CANCEL_ONLY"
    refused = limit_buy(sim_api)
    assert refused.status_code == 400 and refused.json() == {"code": -2010, "msg": "Market is closed."}
    assert limit_buy(sim_api, "usdm").json() == {"code": -1122, "msg": "Invalid symbol status."}
    sim.control.set_price(SYM, "98000")  # through both resting buys: no fill while not trading
    assert {o["orderId"] for o in sim.control.open_orders(SIM_KEY)} == {spot["orderId"], fut["orderId"]}
    cancelled = sim_api.call("DELETE", "/api/v3/order", symbol=SYM, orderId=spot["orderId"])
    assert cancelled.json()["status"] == "CANCELED"
    assert (
        sim_api.call("DELETE", "/fapi/v1/order", symbol=SYM, orderId=fut["orderId"]).json()["status"]
        == "CANCELED"
    )
    sim.control.set_symbol_status(SYM, "TRADING")
    assert limit_buy(sim_api, price="97000").json()["status"] == "NEW"


def test_symbol_status_is_configurable_and_checked() -> None:
    with SimServer(SimConfig(step_mode=True, symbols=(SymbolSpec(status="BREAK"),))) as sim:
        assert (
            SignedApi(sim.rest_url).public("/api/v3/exchangeInfo").json()["symbols"][0]["status"] == "BREAK"
        )
    with pytest.raises(SimConfigError, match="status 'OPEN' is not one of"):
        SimConfig(symbols=(SymbolSpec(status="OPEN"),))
