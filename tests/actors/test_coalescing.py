"""Price ticks coalesce: under a burst the strategy sees the newest price, never a backlog."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from actors import wiring as w
from actors.latest import LatestBox
from actors.messages import StatusQuery
from actors.price_monitor import PriceFeed
from actors.slot_manager import SlotManagerActor, SlotSettings
from actors.strategy import StrategyActor
from actors.wiring import Wiring
from market_maker.core.grid import GridParams
from market_maker.core.model import Market
from market_maker.core.params import TradingParams
from market_maker.core.risk import RiskParams, on_market_data, start_risk
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook
from market_maker.exchange.streams import MarketStream
from market_maker.exchange.ws import StreamSettings
from market_maker.store import open_store

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))


@given(st.lists(st.one_of(st.integers(1, 10**9), st.none()), max_size=200))
def test_box_take_returns_the_newest_put_and_notifies_once_per_empty_box(ops: list[int | None]) -> None:
    box: LatestBox[int] = LatestBox()
    newest: int | None = None
    notified = taken = 0
    for op in ops:
        if op is None:  # the reader takes
            got = box.take()
            assert got == newest
            taken += got is not None
            newest = None
        else:
            notified += box.put(op)
            newest = op
    assert box.notifications == notified <= taken + 1  # at most one notification waiting at any time


def test_a_burst_of_prices_reaches_the_strategy_as_a_few_ticks_ending_at_the_newest(tmp_path: Path) -> None:
    wiring = Wiring()
    box: LatestBox[tuple[int, int]] = LatestBox()
    params = TradingParams(RULES, GridParams(5, 5, 100, 10_000), RiskParams(), 1000)
    risk = on_market_data(start_risk(params.risk), 0)
    store = open_store(str(tmp_path / "db.sqlite"), "t1", "BTCUSDT")
    book = SlotBook("t1")
    slots = SlotManagerActor.start(wiring, store, params, SlotSettings(Market.SPOT, 3600), book, 1000)
    strategy = StrategyActor.start(wiring, box, params, book, risk, 1000)
    wiring.set(w.SLOTS, slots)
    wiring.set(w.STRATEGY, strategy)
    feed = PriceFeed(wiring, box, "1m")
    n = 20_000
    prices = [10_000_000 + i for i in range(1, n + 1)]
    try:
        burst = threading.Thread(target=lambda: [feed.on_price(p, 0) for p in prices])
        burst.start()
        burst.join()
        deadline = time.monotonic() + 30
        while (st := slots.ask(StatusQuery(), timeout=10)).price != prices[-1]:
            assert time.monotonic() < deadline, f"newest price never decided on: last {st.price}"
            time.sleep(0.01)
        decided = strategy.proxy().decisions.get(timeout=10)
        assert box.puts == n
        # one tell per value taken, at most one waiting: nothing queued behind (a taken price is
        # decided on at once, or when the slot manager has taken the decisions in flight)
        assert box.takes <= box.notifications <= box.takes + 1
        assert box.takes < n and decided < n  # coalesced: far fewer decisions than prices
    finally:
        strategy.stop()
        slots.stop()
        store.close()


def test_the_latency_clock_starts_when_the_frame_comes_off_the_socket() -> None:
    """The stream stamps a frame as websocket-client hands it over; the quote carries the stamp to the box."""
    wiring = Wiring()
    told: list[object] = []

    class Ref:
        def tell(self, message: object) -> None:
            told.append(message)

    wiring.set(w.STRATEGY, Ref())
    wiring.set(w.RISK, Ref())
    box: LatestBox[tuple[int, int]] = LatestBox()
    feed = PriceFeed(wiring, box, "1m")
    stream = MarketStream(["ws://unused"], RULES, feed.on_event, settings=StreamSettings())
    data = b'{"u":1,"s":"BTCUSDT","b":"100.00","B":"1","a":"100.02","A":"1"}'
    frame = b'{"stream":"btcusdt@bookTicker","data":' + data + b"}"
    before = time.perf_counter_ns()
    stream.connections[0]._handle_message(None, frame)  # type: ignore[arg-type]
    after = time.perf_counter_ns()
    got = box.take()
    assert got is not None
    price, received_ns = got
    assert price == 10001 and before <= received_ns <= after
    assert [type(m).__name__ for m in told] == ["PriceTick", "MarketDataSeen"]
    stream.connections[0]._handle_message(None, frame)  # type: ignore[arg-type]
    # MarketDataSeen goes out at most once a second
    assert [type(m).__name__ for m in told] == ["PriceTick", "MarketDataSeen", "PriceTick"]
