"""The simulator's ``hold_user_events``: a print's fills are matched at once, their user-stream events
wait until released (lets a test show a client the price of a print before its fills)."""

from __future__ import annotations

import json
from typing import Any

import requests
import websocket
from test_sim_support import SIM_KEY, SignedApi

from market_maker.sim.server import SimServer

SYM = "BTCUSDT"


def _order(api: SignedApi, price: str, cid: str) -> None:
    api.call(
        "POST",
        "/fapi/v1/order",
        symbol=SYM,
        side="BUY",
        type="LIMIT",
        timeInForce="GTX",
        quantity="0.001",
        price=price,
        newClientOrderId=cid,
    )


def _next(ws: websocket.WebSocket) -> Any:
    return json.loads(ws.recv())


def test_held_fills_are_matched_at_once_and_pushed_in_order_when_released(
    sim: SimServer, sim_api: SignedApi
) -> None:
    key = requests.post(sim.rest_url + "/fapi/v1/listenKey", headers={"X-MBX-APIKEY": SIM_KEY}).json()[
        "listenKey"
    ]
    ws = websocket.create_connection(f"{sim.ws_url}/ws/{key}", timeout=10)
    try:
        _order(sim_api, "99000", "mm1_B1_0")
        assert _next(ws)["o"]["x"] == "NEW"
        assert sim.control.hold_user_events(True) == 0
        sim.control.set_price(SYM, "98990")  # trades through the buy: it fills now
        (trade,) = sim.control.trades(SIM_KEY, SYM)
        assert trade["clientOrderId"] == "mm1_B1_0" and trade["isBuyer"]  # the venue's record has it
        # an event that is not a print's goes out at once, ahead of the held fill
        _order(sim_api, "98000", "mm1_B2_0")
        nxt = _next(ws)
        assert (nxt["o"]["x"], nxt["o"]["c"]) == ("NEW", "mm1_B2_0")
        assert sim.control.hold_user_events(False) == 1  # one print's events released
        fill = _next(ws)
        assert (fill["o"]["x"], fill["o"]["X"], fill["o"]["c"]) == ("TRADE", "FILLED", "mm1_B1_0")
        assert _next(ws)["e"] == "ACCOUNT_UPDATE"
    finally:
        ws.close()
