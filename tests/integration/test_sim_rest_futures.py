"""The simulator's USD-M REST API (/fapi) through plain ``requests``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests
from test_sim_support import SignedApi

from market_maker.sim.server import SimServer

SYM = "BTCUSDT"


def order(api: SignedApi, **kw: Any) -> requests.Response:
    params = {
        "symbol": SYM,
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01",
        "price": "99000",
    }
    params.update(kw)
    return api.call("POST", "/fapi/v1/order", **{k: v for k, v in params.items() if v is not None})


def error(resp: requests.Response) -> tuple[int, int]:
    return resp.status_code, resp.json()["code"]


def test_market_data(sim_api: SignedApi) -> None:
    assert sim_api.public("/fapi/v1/ping").json() == {}
    assert "serverTime" in sim_api.public("/fapi/v1/time").json()
    info = sim_api.public("/fapi/v1/exchangeInfo").json()
    (btc,) = info["symbols"]
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["MIN_NOTIONAL"] == {"filterType": "MIN_NOTIONAL", "notional": "5"}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01" and "GTX" in btc["timeInForce"]
    assert btc["contractType"] == "PERPETUAL" and btc["marginAsset"] == "USDT"
    px = sim_api.public("/fapi/v1/ticker/price", symbol=SYM).json()
    assert px["price"] == "100000.00" and "time" in px
    assert sim_api.public("/fapi/v2/ticker/price", symbol=SYM).json()["price"] == "100000.00"
    klines = sim_api.public("/fapi/v1/klines", symbol=SYM, interval="5m", limit=3).json()
    assert len(klines) == 3 and len(klines[0]) == 12


def test_order_life_cycle(sim: SimServer, sim_api: SignedApi) -> None:
    placed = order(sim_api, newClientOrderId="mm1_B1_0").json()
    assert placed["status"] == "NEW" and placed["positionSide"] == "BOTH" and placed["reduceOnly"] is False
    got = sim_api.call("GET", "/fapi/v1/order", symbol=SYM, origClientOrderId="mm1_B1_0").json()
    assert got["orderId"] == placed["orderId"] and got["price"] == "99000.00"
    assert sim_api.call("GET", "/fapi/v1/openOrder", symbol=SYM, orderId=placed["orderId"]).status_code == 200
    assert [o["clientOrderId"] for o in sim_api.call("GET", "/fapi/v1/openOrders", symbol=SYM).json()] == [
        "mm1_B1_0"
    ]
    cancelled = sim_api.call("DELETE", "/fapi/v1/order", symbol=SYM, orderId=placed["orderId"]).json()
    assert cancelled["status"] == "CANCELED"
    assert error(sim_api.call("DELETE", "/fapi/v1/order", symbol=SYM, orderId=placed["orderId"])) == (
        400,
        -2011,
    )
    assert error(sim_api.call("GET", "/fapi/v1/order", symbol=SYM, orderId=424242)) == (400, -2013)
    order(sim_api, newClientOrderId="x1")
    order(sim_api, newClientOrderId="x2")
    done = sim_api.call("DELETE", "/fapi/v1/allOpenOrders", symbol=SYM)
    assert done.status_code == 200
    assert done.json() == {"code": 200, "msg": "The operation of cancel all open order is done."}
    assert sim_api.call("GET", "/fapi/v1/openOrders").json() == []


def test_fill_position_pnl_and_account(sim: SimServer, sim_api: SignedApi) -> None:
    sim_api.call("POST", "/fapi/v1/leverage", symbol=SYM, leverage=10)
    order(sim_api, newClientOrderId="b1")
    sim.control.set_price(SYM, "98000")
    (risk,) = sim_api.call("GET", "/fapi/v2/positionRisk", symbol=SYM).json()
    assert risk["positionAmt"] == "0.01" and risk["entryPrice"] == "99000" and risk["leverage"] == "10"
    assert Decimal(risk["unRealizedProfit"]) == Decimal("-10")
    assert sim_api.call("GET", "/fapi/v3/positionRisk", symbol=SYM).json()[0]["positionAmt"] == "0.01"
    order(sim_api, side="SELL", price="99500", reduceOnly="true", newClientOrderId="s1")
    sim.control.set_price(SYM, "99600")
    (trade_in, trade_out) = sim_api.call("GET", "/fapi/v1/userTrades", symbol=SYM).json()
    assert trade_in["realizedPnl"] == "0" and trade_in["maker"] is True
    assert Decimal(trade_out["realizedPnl"]) == Decimal("5") and trade_out["commissionAsset"] == "USDT"
    fees = Decimal(trade_in["commission"]) + Decimal(trade_out["commission"])
    assert fees == Decimal("0.0002") * (Decimal("990") + Decimal("995"))
    (usdt,) = sim_api.call("GET", "/fapi/v2/balance").json()[:1]
    assert Decimal(usdt["balance"]) == Decimal("100000") + 5 - fees
    acct = sim_api.call("GET", "/fapi/v2/account").json()
    assert Decimal(acct["totalWalletBalance"]) == Decimal(usdt["balance"]) + Decimal("1")  # + the BTC wallet
    assert sim_api.call("GET", "/fapi/v3/balance").status_code == 200
    assert sim_api.call("GET", "/fapi/v3/account").status_code == 200


def test_configuration_endpoints(sim_api: SignedApi) -> None:
    assert sim_api.call("POST", "/fapi/v1/leverage", symbol=SYM, leverage=5).json()["leverage"] == 5
    assert error(sim_api.call("POST", "/fapi/v1/leverage", symbol=SYM, leverage=200)) == (400, -4028)
    assert error(sim_api.call("POST", "/fapi/v1/marginType", symbol=SYM, marginType="CROSSED")) == (
        400,
        -4046,
    )
    ok = sim_api.call("POST", "/fapi/v1/marginType", symbol=SYM, marginType="ISOLATED").json()
    assert ok == {"code": 200, "msg": "success"}
    assert sim_api.call("GET", "/fapi/v1/positionSide/dual").json() == {"dualSidePosition": False}
    assert error(sim_api.call("POST", "/fapi/v1/positionSide/dual", dualSidePosition="false")) == (400, -4059)
    order(sim_api, newClientOrderId="o1")
    assert error(sim_api.call("POST", "/fapi/v1/marginType", symbol=SYM, marginType="CROSSED")) == (
        400,
        -4047,
    )


def test_listen_key_life_cycle(sim: SimServer, sim_api: SignedApi) -> None:
    headers = {"X-MBX-APIKEY": sim_api.key}
    key = requests.post(sim.rest_url + "/fapi/v1/listenKey", headers=headers).json()["listenKey"]
    assert len(key) == 64
    assert requests.post(sim.rest_url + "/fapi/v1/listenKey", headers=headers).json()["listenKey"] == key
    assert requests.put(sim.rest_url + "/fapi/v1/listenKey", headers=headers).json() == {"listenKey": key}
    assert requests.delete(sim.rest_url + "/fapi/v1/listenKey", headers=headers).json() == {}
    gone = requests.put(sim.rest_url + "/fapi/v1/listenKey", headers=headers)
    assert error(gone) == (400, -1125)
    assert requests.post(sim.rest_url + "/fapi/v1/listenKey").status_code == 401


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"price": "99000.001"}, -4014),
        ({"quantity": "0.000015"}, -4023),
        ({"quantity": "0.00001"}, -4164),
        ({"price": "100001", "timeInForce": "GTX"}, -5022),
        ({"quantity": "30"}, -2019),
        ({"side": "SELL", "price": "101000", "reduceOnly": "true"}, -2022),
        ({"newClientOrderId": "bad id!"}, -4015),
        ({"positionSide": "LONG"}, -4061),
        ({"timeInForce": "DAY"}, -1115),
        ({"quantity": None}, -1102),
    ],
)
def test_order_rejections(sim_api: SignedApi, kw: dict[str, Any], code: int) -> None:
    assert error(order(sim_api, **kw)) == (400, code)


def test_duplicate_client_id(sim_api: SignedApi) -> None:
    order(sim_api, newClientOrderId="dup")
    assert error(order(sim_api, newClientOrderId="dup")) == (400, -4116)
