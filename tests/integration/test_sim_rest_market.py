"""The simulator's market statistics, order history and order-count limits over REST, spot and USD-M:
what Binance documents for each (shapes, selection, validation, weights, headers)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import requests
from test_sim_support import SIM_BALANCES, SIM_KEY, SIM_SECRET, SignedApi

from market_maker.sim.server import SimConfig, SimServer

SYM = "BTCUSDT"


def limit_buy(api: SignedApi, market: str = "spot", price: str = "99000") -> requests.Response:
    """A resting limit buy on spot (0.001) or USD-M (0.01)."""
    path, qty = ("/api/v3/order", "0.001") if market == "spot" else ("/fapi/v1/order", "0.01")
    return api.call(
        "POST", path, symbol=SYM, side="BUY", type="LIMIT", timeInForce="GTC", quantity=qty, price=price
    )


def test_24hr_tickers_cover_the_prints_of_the_day(sim: SimServer, sim_api: SignedApi) -> None:
    sim.control.step(5)
    spot = sim_api.public("/api/v3/ticker/24hr", symbol=SYM)
    assert spot.headers["X-MBX-USED-WEIGHT-1M"] == "2"
    day = spot.json()
    trades = sim_api.public("/api/v3/aggTrades", symbol=SYM, limit=5).json()
    assert day["lastPrice"] == trades[-1]["p"] and day["lastId"] == trades[-1]["l"]
    assert Decimal(day["lowPrice"]) <= Decimal(day["weightedAvgPrice"]) <= Decimal(day["highPrice"])
    assert day["closeTime"] - day["openTime"] == 86_400_000
    every = sim_api.public("/api/v3/ticker/24hr")
    assert every.headers["X-MBX-USED-WEIGHT-1M"] == "86" and [r["symbol"] for r in every.json()] == [SYM]
    mini = sim_api.public("/api/v3/ticker/24hr", symbol=SYM, type="MINI").json()
    assert "priceChange" not in mini and mini["lastPrice"] == day["lastPrice"]
    assert sim_api.public("/api/v3/ticker/24hr", symbol=SYM, type="TINY").json()["code"] == -1100
    assert sim_api.public("/api/v3/ticker/24hr", symbol="NOPE").json()["code"] == -1121

    fut = sim_api.public("/fapi/v1/ticker/24hr", symbol=SYM).json()
    assert fut["lastPrice"] == f"{Decimal(day['lastPrice']):.2f}"  # at the tick's precision
    assert "bidPrice" not in fut and fut["count"] == day["count"]


def test_avg_price_and_agg_trades_select_as_binance_does(sim: SimServer, sim_api: SignedApi) -> None:
    sim.control.step(20)
    avg = sim_api.public("/api/v3/avgPrice", symbol=SYM).json()
    assert avg["mins"] == 5 and Decimal(avg["price"]) > 0
    latest = sim_api.public("/api/v3/aggTrades", symbol=SYM, limit=4).json()
    assert [t["a"] for t in latest] == list(range(17, 21)) and all(t["M"] is True for t in latest)
    assert [t["a"] for t in sim_api.public("/api/v3/aggTrades", symbol=SYM, fromId=3, limit=2).json()] == [
        3,
        4,
    ]
    since = sim_api.public("/api/v3/aggTrades", symbol=SYM, startTime=latest[1]["T"]).json()
    assert [t["a"] for t in since] == [18, 19, 20]
    start = latest[0]["T"]
    too_long = sim_api.public("/api/v3/aggTrades", symbol=SYM, startTime=start, endTime=start + 3_600_001)
    assert too_long.json()["code"] == -1127
    assert sim_api.public("/api/v3/aggTrades", symbol=SYM, limit=1001).json()["code"] == -1130
    fut = sim_api.public("/fapi/v1/aggTrades", symbol=SYM, limit=1)
    assert fut.headers["X-MBX-USED-WEIGHT-1M"] == "20" and "M" not in fut.json()[0]


def test_all_orders_lists_every_order_of_the_account(sim: SimServer, sim_api: SignedApi) -> None:
    ids = []
    for i in range(3):
        placed = limit_buy(sim_api, price=str(99000 - i)).json()
        ids.append(placed["orderId"])
    cancel = sim_api.call("DELETE", "/api/v3/order", symbol=SYM, orderId=ids[0])
    listed = sim_api.call("GET", "/api/v3/allOrders", symbol=SYM)
    weight = int(listed.headers["X-MBX-USED-WEIGHT-1M"]) - int(cancel.headers["X-MBX-USED-WEIGHT-1M"])
    assert weight == 20
    assert [(o["orderId"], o["status"]) for o in listed.json()] == [
        (ids[0], "CANCELED"),
        (ids[1], "NEW"),
        (ids[2], "NEW"),
    ]
    assert [
        o["orderId"] for o in sim_api.call("GET", "/api/v3/allOrders", symbol=SYM, limit=1).json()
    ] == ids[2:]
    from_second = sim_api.call("GET", "/api/v3/allOrders", symbol=SYM, orderId=ids[1], limit=1).json()
    assert [o["orderId"] for o in from_second] == [ids[1]]
    assert sim_api.call("GET", "/api/v3/allOrders").json()["code"] == -1102
    assert sim_api.call("GET", "/fapi/v1/allOrders").json() == []  # USD-M: symbol optional, none there


def test_order_count_headers_and_limits(sim: SimServer, sim_api: SignedApi) -> None:
    info = sim_api.public("/api/v3/exchangeInfo").json()
    assert {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200_000} in info[
        "rateLimits"
    ]
    fut_info = sim_api.public("/fapi/v1/exchangeInfo").json()
    assert {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200} in fut_info[
        "rateLimits"
    ]
    spot = limit_buy(sim_api)
    assert spot.headers["X-MBX-ORDER-COUNT-10S"] == "1" and spot.headers["X-MBX-ORDER-COUNT-1D"] == "1"
    fut = limit_buy(sim_api, "usdm")
    assert fut.headers["X-MBX-ORDER-COUNT-10S"] == "1" and fut.headers["X-MBX-ORDER-COUNT-1M"] == "1"


def test_the_long_order_limits_refuse_with_1015() -> None:
    with SimServer(SimConfig(step_mode=True, spot_order_limit_1d=2, futures_order_limit_1m=1)) as sim:
        sim.create_account(SIM_KEY, SIM_SECRET, dict(SIM_BALANCES))
        _refuses_past_the_long_limits(SignedApi(sim.rest_url))


def _refuses_past_the_long_limits(sim_api: SignedApi) -> None:
    def spot() -> tuple[int, dict]:
        r = limit_buy(sim_api)
        return r.status_code, r.json()

    assert spot()[0] == 200 and spot()[0] == 200
    status, body = spot()
    assert status == 429 and body == {
        "code": -1015,
        "msg": "Too many new orders; current limit is 2 orders per 1 DAY.",
    }
    fut = [limit_buy(sim_api, "usdm") for _ in range(2)]
    assert fut[0].status_code == 200 and fut[1].json()["code"] == -1015


def test_leverage_brackets_and_sapi_calls(sim: SimServer, sim_api: SignedApi) -> None:
    every = sim_api.call("GET", "/fapi/v1/leverageBracket").json()
    assert [b["symbol"] for b in every] == [SYM]
    tiers = every[0]["brackets"]
    assert [t["initialLeverage"] for t in tiers][:3] == [125, 100, 75]
    assert all(a["notionalCap"] == b["notionalFloor"] for a, b in itertools.pairwise(tiers))
    assert tiers[1]["cum"] == 50.0  # 50 000 x (0.005 - 0.004)
    coins = {c["coin"]: c for c in sim_api.call("GET", "/sapi/v1/capital/config/getall").json()}
    assert coins["BTC"]["free"] == "1.00000000" and coins["USDT"]["networkList"][0]["withdrawEnable"] is False
    assert sim_api.call("GET", "/sapi/v1/margin/isolated/allPairs").json() == []
    assert sim_api.public("/sapi/v1/margin/allPairs").json()["code"] == -2014  # needs the API key
    assert sim_api.public("/dapi/v1/exchangeInfo").json()["symbols"] == []
