"""Market streams a third-party client relies on: diff depth that keeps a local book equal to the
simulator's, USD-M mark price and funding, stream names refused as Binance refuses them, USD-M shapes
on the unrouted USD-M path, and kline trade ids."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
import websocket
from test_sim_support import SignedApi

from market_maker.sim.config import SymbolSpec
from market_maker.sim.server import SimConfig, SimServer

SYM = "BTCUSDT"


def recv_json(ws: websocket.WebSocket) -> Any:
    return json.loads(ws.recv())


class LocalBook:
    """Binance's recipe for a local order book: a REST snapshot, then diff events with ``u`` past its
    ``lastUpdateId``, each continuing the last (spot: ``U == u + 1`` of the previous; USD-M: ``pu``)."""

    def __init__(self, snapshot: dict[str, Any], futures: bool) -> None:
        self.futures = futures
        self.last_id: int = snapshot["lastUpdateId"]
        self.sides = [dict(map(tuple, snapshot["bids"])), dict(map(tuple, snapshot["asks"]))]
        self.applied = 0

    def apply(self, ev: dict[str, Any]) -> None:
        assert ev["e"] == "depthUpdate" and ev["s"] == SYM
        if ev["u"] <= self.last_id:
            return  # older than the snapshot
        if self.applied == 0:
            assert ev["U"] <= self.last_id + 1 <= ev["u"]
        elif self.futures:
            assert ev["pu"] == self.last_id
        else:
            assert ev["U"] == self.last_id + 1
        for side, changes in zip(self.sides, (ev["b"], ev["a"]), strict=True):
            for price, qty in changes:
                if Decimal(qty) == 0:
                    side.pop(price, None)
                else:
                    side[price] = qty
        self.last_id = ev["u"]
        self.applied += 1

    def levels(self) -> tuple[list[list[str]], list[list[str]]]:
        bids = sorted(self.sides[0].items(), key=lambda kv: -Decimal(kv[0]))
        asks = sorted(self.sides[1].items(), key=lambda kv: Decimal(kv[0]))
        return [list(x) for x in bids], [list(x) for x in asks]


@pytest.mark.parametrize(
    ("path", "depth_path"),
    [("/ws/btcusdt@depth@100ms", "/api/v3/depth"), ("/public/ws/btcusdt@depth@100ms", "/fapi/v1/depth")],
    ids=["spot", "usdm"],
)
def test_a_local_book_from_snapshot_and_diffs_equals_the_simulators_after_1000_updates(
    path: str, depth_path: str
) -> None:
    # a coarse tick keeps each event to a few levels (a 0.01 tick moves hundreds per 100 ms step)
    coarse = SimConfig(step_mode=True, symbols=(SymbolSpec(tick_size="0.5", min_price="0.5"),))
    with SimServer(coarse) as sim:
        _keeps_a_local_book(sim, SignedApi(sim.rest_url), path, depth_path)


def _keeps_a_local_book(sim: SimServer, sim_api: SignedApi, path: str, depth_path: str) -> None:
    futures = depth_path.startswith("/fapi")
    limit = 1000 if futures else 5000
    ws = websocket.create_connection(sim.ws_url + path, timeout=10)
    sim.control.step(3)  # events the snapshot already covers: the client drops them
    book = LocalBook(sim_api.public(depth_path, symbol=SYM, limit=limit).json(), futures)
    while book.applied < 1000:
        sim.control.step(100)
        # a jump of 500 ticks, then one more step 100 ms of market time later: that step's event surely
        # goes out (the touch differs from the last one sent) and ends at the book's update id
        price = Decimal(sim.control.price(SYM))
        sim.control.set_price(SYM, str(price + (Decimal("250") if book.applied % 2 else Decimal("-250"))))
        sim.control.step(1)
        target = sim_api.public(depth_path, symbol=SYM, limit=5).json()["lastUpdateId"]
        while book.last_id < target:
            book.apply(recv_json(ws))
    ws.close()
    final = sim_api.public(depth_path, symbol=SYM, limit=limit).json()
    assert final["lastUpdateId"] == book.last_id
    bids, asks = book.levels()
    if futures:  # the client's window was the top 1000 of 5000 levels: compare that much
        bids, asks = bids[:limit], asks[:limit]
    assert bids == final["bids"] and asks == final["asks"]


def test_usdm_mark_price_stream_carries_mark_and_funding(sim: SimServer, sim_api: SignedApi) -> None:
    ws = websocket.create_connection(sim.ws_url + "/market/ws/btcusdt@markPrice@1s", timeout=10)
    sim.control.step(10)  # one second of market time
    ev = recv_json(ws)
    ws.close()
    index = sim_api.public("/fapi/v1/premiumIndex", symbol=SYM).json()
    assert ev["e"] == "markPriceUpdate" and ev["s"] == SYM
    assert Decimal(ev["p"]) > 0 and ev["r"] == index["lastFundingRate"] == "0.00010000"
    assert ev["T"] == index["nextFundingTime"] and ev["T"] % (8 * 3_600_000) == 0


def test_stream_names_are_refused_as_binance_refuses_them(sim: SimServer) -> None:
    bad = websocket.create_connection(sim.ws_url + "/ws/btcusdt@nonsense", timeout=10)
    opcode, frame = bad.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert int.from_bytes(frame[:2], "big") == 1008 and b"Illegal format ws or stream" in frame[2:]
    spot_only = websocket.create_connection(sim.ws_url + "/ws/btcusdt@markPrice", timeout=10)
    assert spot_only.recv_data(control_frame=True)[0] == websocket.ABNF.OPCODE_CLOSE  # a USD-M stream

    live = websocket.create_connection(sim.ws_url + "/ws", timeout=10)
    live.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@depth7"], "id": 1}))
    assert recv_json(live) == {"error": {"code": 2, "msg": "Invalid request: invalid stream"}, "id": 1}
    live.send(json.dumps({"method": "SUBSCRIBE", "params": ["xrpxrp@trade"], "id": 2}))
    assert recv_json(live) == {"result": None, "id": 2}  # well-formed, unlisted symbol: silent, as Binance
    live.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 3}))
    assert recv_json(live) == {"result": ["xrpxrp@trade"], "id": 3}
    live.close()


def test_usdm_shapes_on_the_unrouted_usdm_path(sim: SimServer) -> None:
    ws = websocket.create_connection(
        sim.ws_url + "/fstream/stream?streams=btcusdt@bookTicker/btcusdt@aggTrade", timeout=10
    )
    sim.control.set_price(SYM, "100000.5")
    got = {m["stream"]: m["data"] for m in (recv_json(ws), recv_json(ws))}
    ws.close()
    ticker = got["btcusdt@bookTicker"]
    assert ticker["e"] == "bookTicker" and {"E", "T"} <= set(ticker)
    assert ticker["b"] == "100000.50" and ticker["a"] == "100000.51"  # the tick's precision
    assert got["btcusdt@aggTrade"]["p"] == "100000.50" and "M" not in got["btcusdt@aggTrade"]


def test_kline_events_carry_the_trade_ids_of_their_candle(sim: SimServer, sim_api: SignedApi) -> None:
    ws = websocket.create_connection(sim.ws_url + "/ws/btcusdt@kline_1m", timeout=10)
    sim.control.step(3)
    kline = [recv_json(ws)["k"] for _ in range(3)][-1]
    ws.close()
    trades = sim_api.public("/api/v3/aggTrades", symbol=SYM, limit=1000).json()
    in_candle = [t["f"] for t in trades if kline["t"] <= t["T"] <= kline["T"]]
    assert kline["f"] == in_candle[0] and kline["L"] == in_candle[-1] and kline["f"] > 0
