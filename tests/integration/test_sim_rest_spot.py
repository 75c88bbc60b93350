"""The simulator's spot REST API through plain ``requests``: endpoints, shapes, error codes, signing."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
import requests
from test_sim_support import SIM_KEY, SignedApi

from market_maker.sim.server import SimServer

SYM = "BTCUSDT"


def order(api: SignedApi, **kw: Any) -> requests.Response:
    params = {
        "symbol": SYM,
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.001",
        "price": "99000",
    }
    params.update(kw)
    return api.call("POST", "/api/v3/order", **{k: v for k, v in params.items() if v is not None})


def error(resp: requests.Response) -> tuple[int, int, str]:
    body = resp.json()
    return resp.status_code, body["code"], body["msg"]


def test_public_endpoints(sim: SimServer, sim_api: SignedApi) -> None:
    assert sim_api.public("/api/v3/ping").json() == {}
    server_time = sim_api.public("/api/v3/time").json()["serverTime"]
    assert abs(server_time - time.time() * 1000) < 5000
    info = sim_api.public("/api/v3/exchangeInfo").json()
    (btc,) = info["symbols"]
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000" and filters["LOT_SIZE"]["minQty"] == "0.00001000"
    assert filters["NOTIONAL"]["minNotional"] == "5.00000000"
    assert "LIMIT_MAKER" in btc["orderTypes"] and info["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
    assert sim_api.public("/api/v3/exchangeInfo", symbol=SYM).json()["symbols"][0]["symbol"] == SYM
    assert error(sim_api.public("/api/v3/exchangeInfo", symbol="NOPE")) == (400, -1121, "Invalid symbol.")
    assert sim_api.public("/api/v3/ticker/price", symbol=SYM).json() == {
        "symbol": SYM,
        "price": "100000.00000000",
    }
    book = sim_api.public("/api/v3/ticker/bookTicker", symbol=SYM).json()
    assert Decimal(book["bidPrice"]) < Decimal(book["askPrice"])
    depth = sim_api.public("/api/v3/depth", symbol=SYM, limit=5).json()
    assert len(depth["bids"]) == 5 and len(depth["asks"]) == 5 and isinstance(depth["bids"][0][0], str)
    klines = sim_api.public("/api/v3/klines", symbol=SYM, interval="1m", limit=10).json()
    assert len(klines) == 10 and all(len(k) == 12 for k in klines)
    k = klines[-2]
    assert k[6] == k[0] + 59_999 and Decimal(k[3]) <= min(Decimal(k[1]), Decimal(k[4]))
    assert error(sim_api.public("/api/v3/klines", symbol=SYM, interval="7m"))[1] == -1120


def test_every_response_carries_the_used_weight(sim_api: SignedApi) -> None:
    first = int(sim_api.public("/api/v3/ping").headers["x-mbx-used-weight-1m"])
    after_info = int(sim_api.public("/api/v3/exchangeInfo").headers["X-MBX-USED-WEIGHT-1M"])
    assert after_info - first == 20
    assert "X-MBX-USED-WEIGHT-1M" in sim_api.call("GET", "/api/v3/account").headers
    assert "X-MBX-USED-WEIGHT-1M" in sim_api.public("/api/v3/exchangeInfo", symbol="NOPE").headers


def test_order_life_cycle_and_response_types(sim: SimServer, sim_api: SignedApi) -> None:
    full = order(sim_api, newClientOrderId="mm1_B1_0").json()
    assert full["status"] == "NEW" and full["fills"] == [] and full["cummulativeQuoteQty"] == "0.00000000"
    assert full["clientOrderId"] == "mm1_B1_0" and full["price"] == "99000.00000000"
    ack = order(sim_api, type="LIMIT_MAKER", timeInForce=None, newClientOrderId="mm1_B2_0").json()
    assert set(ack) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    result = order(sim_api, newClientOrderId="mm1_B3_0", newOrderRespType="RESULT").json()
    assert "fills" not in result and result["status"] == "NEW"

    got = sim_api.call("GET", "/api/v3/order", symbol=SYM, origClientOrderId="mm1_B1_0").json()
    assert got["orderId"] == full["orderId"] and got["origQty"] == "0.00100000"
    open_ids = [o["clientOrderId"] for o in sim_api.call("GET", "/api/v3/openOrders", symbol=SYM).json()]
    assert open_ids == ["mm1_B1_0", "mm1_B2_0", "mm1_B3_0"]
    acct = sim_api.call("GET", "/api/v3/account").json()
    usdt = next(b for b in acct["balances"] if b["asset"] == "USDT")
    assert usdt["locked"] == "297.00000000" and usdt["free"] == "99703.00000000"

    cancel = sim_api.call(
        "DELETE", "/api/v3/order", symbol=SYM, origClientOrderId="mm1_B1_0", newClientOrderId="cxl1"
    ).json()
    assert cancel["status"] == "CANCELED" and cancel["origClientOrderId"] == "mm1_B1_0"
    assert cancel["clientOrderId"] == "cxl1"
    again = sim_api.call("DELETE", "/api/v3/order", symbol=SYM, orderId=full["orderId"])
    assert error(again) == (400, -2011, "Unknown order sent.")
    assert (
        sim_api.call("GET", "/api/v3/order", symbol=SYM, orderId=full["orderId"]).json()["status"]
        == "CANCELED"
    )
    assert error(sim_api.call("GET", "/api/v3/order", symbol=SYM, orderId=999999)) == (
        400,
        -2013,
        "Order does not exist.",
    )

    all_cancelled = sim_api.call("DELETE", "/api/v3/openOrders", symbol=SYM).json()
    assert sorted(o["origClientOrderId"] for o in all_cancelled) == ["mm1_B2_0", "mm1_B3_0"]
    assert error(sim_api.call("DELETE", "/api/v3/openOrders", symbol=SYM)) == (
        400,
        -2011,
        "Unknown order sent.",
    )


def test_fill_shows_in_trades_and_balances(sim: SimServer, sim_api: SignedApi) -> None:
    placed = order(sim_api, newClientOrderId="f1").json()
    sim.control.set_price(SYM, "98999.99")
    got = sim_api.call("GET", "/api/v3/order", symbol=SYM, orderId=placed["orderId"]).json()
    assert got["status"] == "FILLED" and got["executedQty"] == "0.00100000"
    (trade,) = sim_api.call("GET", "/api/v3/myTrades", symbol=SYM).json()
    assert trade["price"] == "99000.00000000" and trade["isMaker"] and trade["isBuyer"]
    assert trade["commission"] == "0.00000100" and trade["commissionAsset"] == "BTC"
    balances = {b["asset"]: b for b in sim_api.call("GET", "/api/v3/account").json()["balances"]}
    assert balances["BTC"]["free"] == "1.00099900" and balances["USDT"]["free"] == "99901.00000000"
    assert sim.control.trades(SIM_KEY)[0]["id"] == trade["id"]


def test_taker_market_order_fills_at_once(sim_api: SignedApi) -> None:
    body = sim_api.call(
        "POST", "/api/v3/order", symbol=SYM, side="SELL", type="MARKET", quantity="0.01"
    ).json()
    assert body["status"] == "FILLED" and len(body["fills"]) == 1
    assert body["fills"][0]["commissionAsset"] == "USDT" and body["fills"][0]["price"] == "100000.00000000"


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"price": "99000.001"}, (400, -1013, "Filter failure: PRICE_FILTER")),
        ({"quantity": "0.000015"}, (400, -1013, "Filter failure: LOT_SIZE")),
        ({"quantity": "0.00001"}, (400, -1013, "Filter failure: NOTIONAL")),
        ({"price": "99000.000000001"}, (400, -1111, "Parameter 'price' has too much precision.")),
        ({"type": "LIMIT_MAKER"}, (400, -1106, "Parameter 'timeInForce' sent when not required.")),
        (
            {"type": "LIMIT_MAKER", "timeInForce": None, "price": "100001"},
            (400, -2010, "Order would immediately match and take."),
        ),
        ({"quantity": "5"}, (400, -2010, "Account has insufficient balance for requested action.")),
        (
            {"price": None},
            (400, -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed."),
        ),
        ({"symbol": "NOPE"}, (400, -1121, "Invalid symbol.")),
        ({"newClientOrderId": "bad id!"}, (400, -1100, None)),
        ({"side": "HOLD"}, (400, -1117, "Invalid side.")),
    ],
)
def test_order_rejections(
    sim_api: SignedApi, kw: dict[str, Any], expected: tuple[int, int, str | None]
) -> None:
    status, code, msg = error(order(sim_api, **kw))
    assert (status, code) == expected[:2]
    if expected[2] is not None:
        assert msg == expected[2]


def test_duplicate_client_id_while_open(sim_api: SignedApi) -> None:
    assert order(sim_api, newClientOrderId="dup").status_code == 200
    assert error(order(sim_api, newClientOrderId="dup")) == (400, -2010, "Duplicate order sent.")


def test_signature_key_and_timestamp_failures(sim: SimServer, sim_api: SignedApi) -> None:
    bad = SignedApi(sim.rest_url, secret="wrong")
    assert error(bad.call("GET", "/api/v3/account")) == (
        400,
        -1022,
        "Signature for this request is not valid.",
    )
    unknown = SignedApi(sim.rest_url, key="nobody")
    assert error(unknown.call("GET", "/api/v3/account")) == (
        401,
        -2015,
        "Invalid API-key, IP, or permissions for action.",
    )
    no_key = requests.get(sim.rest_url + "/api/v3/account?timestamp=1&signature=00")
    assert no_key.status_code == 401 and no_key.json()["code"] == -2014
    now = int(time.time() * 1000)
    assert error(sim_api.call("GET", "/api/v3/account", timestamp=now + 2000)) == (
        400,
        -1021,
        "Timestamp for this request was 1000ms ahead of the server's time.",
    )
    assert error(sim_api.call("GET", "/api/v3/account", timestamp=now - 6000)) == (
        400,
        -1021,
        "Timestamp for this request is outside of the recvWindow.",
    )
    assert sim_api.call("GET", "/api/v3/account", timestamp=now - 6000, recvWindow=10000).status_code == 200
    unsigned = requests.get(
        sim.rest_url + f"/api/v3/account?timestamp={now}", headers={"X-MBX-APIKEY": SIM_KEY}
    )
    assert error(unsigned)[1] == -1102


def test_signature_over_query_then_body(sim: SimServer, sim_api: SignedApi) -> None:
    """Binance signs query string + body: parameters may sit in either, the signature in either."""
    ts = int(time.time() * 1000)
    query = f"symbol={SYM}&side=BUY&type=LIMIT"
    body = f"timeInForce=GTC&quantity=0.001&price=98000&timestamp={ts}"
    sig = sim_api.sign(query + body)
    split = requests.post(
        f"{sim.rest_url}/api/v3/order?{query}",
        data=f"{body}&signature={sig}",
        headers={"X-MBX-APIKEY": SIM_KEY, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert split.status_code == 200, split.text
    tampered = requests.post(
        f"{sim.rest_url}/api/v3/order?{query}",
        data=body.replace("98000", "98001") + f"&signature={sig}",
        headers={"X-MBX-APIKEY": SIM_KEY, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert error(tampered)[1] == -1022


def test_binance_doc_signature_vector() -> None:
    api = SignedApi(
        "http://unused", secret="NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    )
    payload = (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000"
        "&timestamp=1499827319559"
    )
    from market_maker.sim.auth import sign

    expected = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    assert sign(api.secret, payload) == expected == api.sign(payload)


def test_partial_fills_follow_market_volume_and_cancel_keeps_them(sim: SimServer, sim_api: SignedApi) -> None:
    placed = order(sim_api, quantity="0.003", newClientOrderId="big").json()
    sim.control.set_price(SYM, "98990", volume="0.001")  # the market traded only 0.001 through the order
    got = sim_api.call("GET", "/api/v3/order", symbol=SYM, orderId=placed["orderId"]).json()
    assert (got["status"], got["executedQty"]) == ("PARTIALLY_FILLED", "0.00100000")
    sim.control.set_price(SYM, "98980", volume="0.0015")
    got = sim_api.call("GET", "/api/v3/order", symbol=SYM, orderId=placed["orderId"]).json()
    assert (got["status"], got["executedQty"], got["cummulativeQuoteQty"]) == (
        "PARTIALLY_FILLED",
        "0.00250000",
        "247.50000000",
    )
    cancelled = sim_api.call("DELETE", "/api/v3/order", symbol=SYM, orderId=placed["orderId"]).json()
    assert (cancelled["status"], cancelled["executedQty"]) == ("CANCELED", "0.00250000")
    usdt = sim.control.balances(SIM_KEY)["spot"]["USDT"]
    assert usdt == {"free": str(Decimal(100000) - Decimal("247.5")), "locked": "0"}
    assert len(sim.control.trades(SIM_KEY, SYM)) == 2
