"""WebSocket API trading on the simulator (spot /ws-api/v3, USD-M /ws-fapi/v1), through raw frames: the same
answers, error codes and user-data events as REST; per-request signatures (HMAC, Ed25519) and
``session.logon`` (Ed25519 only)."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import websocket
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from test_connector_support import wait_for

from market_maker.exchange.keys import KeyPairSigner, as_signer, signer_from_pem
from market_maker.exchange.signing import ws_api_payload
from market_maker.sim.server import SimServer

HMAC_KEY, HMAC_SECRET = "wsapi-hmac-key", "wsapi-hmac-secret"
ED_KEY = "wsapi-ed25519-key"
PATHS = {"spot": "/ws-api/v3", "usdm": "/ws-fapi/v1"}
POST_ONLY = {"spot": {"type": "LIMIT_MAKER"}, "usdm": {"type": "LIMIT", "timeInForce": "GTX"}}
CROSSING_REJECT = {"spot": -2010, "usdm": -5022}


def ed25519_pem() -> str:
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


class Client:
    """One raw WebSocket API connection signing with ``signer`` (None: logged on, unsigned)."""

    def __init__(self, sim: SimServer, market: str, api_key: str, secret: str | KeyPairSigner) -> None:
        self.ws = websocket.create_connection(sim.ws_url + PATHS[market], timeout=10)
        self.api_key = api_key
        self.signer = as_signer(secret)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        self.signed = True

    def request(self, method: str, **params: Any) -> dict[str, Any]:
        rid = f"r{next(self.ids)}"
        if method not in ("ping", "time", "session.status", "session.logout"):
            params["timestamp"] = int(time.time() * 1000)
            if self.signed:
                params["apiKey"] = self.api_key
                params["signature"] = self.signer.sign(ws_api_payload(params))
        self.ws.send(json.dumps({"id": rid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == rid:
                return msg
            self.events.append(msg)  # user-data events between answers

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(params=["spot", "usdm"])
def market(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def accounts(sim: SimServer) -> Iterator[str]:
    pem = ed25519_pem()
    sim.create_account(HMAC_KEY, HMAC_SECRET, {"USDT": "100000", "BTC": "1"})
    sim.create_account(ED_KEY, signer_from_pem(pem).public_pem(), {"USDT": "100000", "BTC": "1"})
    yield pem


def below(sim: SimServer, pct: str) -> str:
    return str((Decimal(sim.control.price("BTCUSDT")) * (1 - Decimal(pct))).quantize(Decimal("0.01")))


def order(market: str, price: str, cid: str, side: str = "BUY") -> dict[str, Any]:
    return {"symbol": "BTCUSDT", "side": side, "quantity": "0.001", "price": price, "newClientOrderId": cid,
            "newOrderRespType": "RESULT",
            **POST_ONLY[market]}  # fmt: skip


def test_place_status_open_orders_and_cancel_answer_as_rest_does(
    sim: SimServer, accounts: str, market: str
) -> None:
    c = Client(sim, market, HMAC_KEY, HMAC_SECRET)
    try:
        placed = c.request("order.place", **order(market, below(sim, "0.02"), "ws-a1"))
        assert placed["status"] == 200, placed
        assert placed["result"]["clientOrderId"] == "ws-a1" and placed["result"]["status"] == "NEW"
        assert any(lim["rateLimitType"] == "REQUEST_WEIGHT" for lim in placed["rateLimits"])
        status = c.request("order.status", symbol="BTCUSDT", origClientOrderId="ws-a1")
        assert status["result"]["orderId"] == placed["result"]["orderId"]
        listed = c.request("openOrders.status", symbol="BTCUSDT")
        assert [o["clientOrderId"] for o in listed["result"]] == ["ws-a1"]
        assert [o["clientOrderId"] for o in sim.control.open_orders(HMAC_KEY)] == ["ws-a1"]
        cancelled = c.request("order.cancel", symbol="BTCUSDT", origClientOrderId="ws-a1")
        assert cancelled["result"]["status"] == "CANCELED"
        assert sim.control.open_orders(HMAC_KEY) == []
        again = c.request("order.cancel", symbol="BTCUSDT", origClientOrderId="ws-a1")
        assert (again["status"], again["error"]["code"]) == (400, -2011)
        missing = c.request("order.status", symbol="BTCUSDT", origClientOrderId="ws-none")
        assert missing["error"]["code"] == -2013
    finally:
        c.close()


def test_validation_and_post_only_rejects_carry_rests_codes(
    sim: SimServer, accounts: str, market: str
) -> None:
    c = Client(sim, market, HMAC_KEY, HMAC_SECRET)
    try:
        above = str((Decimal(sim.control.price("BTCUSDT")) * Decimal("1.02")).quantize(Decimal("0.01")))
        crossing = c.request("order.place", **order(market, above, "ws-x1"))  # a buy above the market
        assert (crossing["status"], crossing["error"]["code"]) == (400, CROSSING_REJECT[market])
        bad_side = c.request("order.place", **{**order(market, below(sim, "0.02"), "ws-x2"), "side": "UP"})
        assert (bad_side["status"], bad_side["error"]["code"]) == (400, -1117)
        wrong = c.request("order.place", **order(market, below(sim, "0.02"), "ws-x3"))
        c.signer = as_signer("not-the-secret")
        forged = c.request("order.place", **order(market, below(sim, "0.02"), "ws-x4"))
        assert wrong["status"] == 200 and forged["error"]["code"] == -1022
        assert [o["clientOrderId"] for o in sim.control.open_orders(HMAC_KEY)] == ["ws-x3"]
    finally:
        c.close()


def test_ed25519_signed_requests_and_session_logon(sim: SimServer, accounts: str, market: str) -> None:
    signer = signer_from_pem(accounts)
    c = Client(sim, market, ED_KEY, signer)
    try:
        signed = c.request("order.place", **order(market, below(sim, "0.02"), "ed-1"))
        assert signed["status"] == 200, signed
        logon = c.request("session.logon")
        assert logon["status"] == 200 and logon["result"]["apiKey"] == ED_KEY
        c.signed = False  # logged on: only the timestamp from now on
        unsigned = c.request("order.place", **order(market, below(sim, "0.03"), "ed-2"))
        assert unsigned["status"] == 200, unsigned
        assert sorted(o["clientOrderId"] for o in sim.control.open_orders(ED_KEY)) == ["ed-1", "ed-2"]
        c.request("session.logout")
        refused = c.request("order.place", **order(market, below(sim, "0.04"), "ed-3"))
        assert (refused["status"], refused["error"]["code"]) == (401, -2014)
    finally:
        c.close()


def test_session_logon_refuses_an_hmac_key(sim: SimServer, accounts: str) -> None:
    c = Client(sim, "spot", HMAC_KEY, HMAC_SECRET)
    try:
        refused = c.request("session.logon")
        assert (refused["status"], refused["error"]["code"]) == (400, -4056)
    finally:
        c.close()


def test_orders_placed_over_the_socket_raise_user_data_events(sim: SimServer, accounts: str) -> None:
    c = Client(sim, "spot", HMAC_KEY, HMAC_SECRET)
    try:
        assert c.request("userDataStream.subscribe.signature")["status"] == 200
        c.request("order.place", **order("spot", below(sim, "0.02"), "ev-1"))
        c.request("ping")
        reports = [m["event"] for m in c.events if m.get("event", {}).get("e") == "executionReport"]
        assert [(r["c"], r["x"]) for r in reports] == [("ev-1", "NEW")]
    finally:
        c.close()


def test_cancel_replace_cancels_then_places_and_reports_a_failed_half(sim: SimServer, accounts: str) -> None:
    c = Client(sim, "spot", HMAC_KEY, HMAC_SECRET)
    try:
        c.request("order.place", **order("spot", below(sim, "0.02"), "cr-1"))
        replaced = c.request(
            "order.cancelReplace",
            cancelReplaceMode="STOP_ON_FAILURE",
            cancelOrigClientOrderId="cr-1",
            **order("spot", below(sim, "0.03"), "cr-2"),
        )
        assert replaced["status"] == 200, replaced
        assert replaced["result"]["cancelResult"] == replaced["result"]["newOrderResult"] == "SUCCESS"
        assert [o["clientOrderId"] for o in sim.control.open_orders(HMAC_KEY)] == ["cr-2"]
        failed = c.request(
            "order.cancelReplace",
            cancelReplaceMode="STOP_ON_FAILURE",
            cancelOrigClientOrderId="cr-gone",
            **order("spot", below(sim, "0.03"), "cr-3"),
        )
        assert (failed["status"], failed["error"]["code"]) == (400, -2022)
        assert failed["error"]["data"]["newOrderResult"] == "NOT_ATTEMPTED"
        assert wait_for(lambda: [o["clientOrderId"] for o in sim.control.open_orders(HMAC_KEY)] == ["cr-2"])
    finally:
        c.close()


def test_amend_keep_priority_is_refused_as_exchange_info_announces(sim: SimServer, accounts: str) -> None:
    c = Client(sim, "spot", HMAC_KEY, HMAC_SECRET)
    try:
        c.request("order.place", **order("spot", below(sim, "0.02"), "am-1"))
        amend = c.request(
            "order.amend.keepPriority", symbol="BTCUSDT", origClientOrderId="am-1", newQty="0.0005"
        )
        assert (amend["status"], amend["error"]["code"]) == (400, -2038)
        assert [o["clientOrderId"] for o in sim.control.open_orders(HMAC_KEY)] == ["am-1"]
    finally:
        c.close()
