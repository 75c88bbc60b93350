"""Market data no market could show, or too far from the trusted price, never reaches the strategy, and
a run of it makes the feed stale (actors/price_monitor.py, market_maker/core/quote_check.py)."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import pytest

from actors import wiring as w
from actors.latest import LatestBox
from actors.messages import MarketDataSeen, MarketDataStale, PriceTick
from actors.observer import Observer
from actors.price_monitor import PriceFeed
from actors.wiring import Wiring
from market_maker.core.quote_check import QuoteLimits
from market_maker.core.risk import RiskParams, on_clock, on_market_data, on_market_data_stale, start_risk
from market_maker.core.rules import SymbolRules
from market_maker.exchange.streams import MarketStream
from market_maker.exchange.ws import StreamSettings

RULES = SymbolRules(
    "BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), max_price=Decimal("1000000")
)


class Ref:
    """Records what an actor would have been told."""

    def __init__(self) -> None:
        self.told: list[object] = []

    def tell(self, message: object) -> None:
        self.told.append(message)


class Counting(Observer):
    def __init__(self) -> None:
        self.dropped = 0

    def market_data_dropped(self) -> None:
        self.dropped += 1


class Rig:
    def __init__(self) -> None:
        wiring = Wiring()
        self.strategy, self.risk = Ref(), Ref()
        wiring.set(w.STRATEGY, self.strategy)
        wiring.set(w.RISK, self.risk)
        self.box: LatestBox[tuple[int, int]] = LatestBox()
        self.observer = Counting()
        limits = QuoteLimits(max_jump_bps=500, confirm_quotes=20, stale_after=3)
        self.feed = PriceFeed(wiring, self.box, "1m", self.observer, limits)
        self.stream = MarketStream(["ws://unused"], RULES, self.feed.on_event, settings=StreamSettings())

    def send(self, frame: Any) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame)
        self.stream.connections[0]._handle_message(None, text.encode())  # type: ignore[arg-type]

    def book(self, bid: str, ask: str) -> None:
        self.send({"u": 1, "s": "BTCUSDT", "b": bid, "B": "1", "a": ask, "A": "1"})

    def stale_told(self) -> int:
        return sum(isinstance(m, MarketDataStale) for m in self.risk.told)


def test_a_crossed_book_never_becomes_a_price(caplog: pytest.LogCaptureFixture) -> None:
    rig = Rig()
    rig.book("99955.83", "99955.84")
    price = rig.box.take()
    assert price is not None and price[0] == 9995583  # the mid, in ticks
    rig.strategy.told.clear()
    with caplog.at_level(logging.WARNING, "market_maker.market"):
        rig.book("200000.00", "1.00")  # the frame an outside harness got the bot to buy on
    assert rig.box.take() is None and rig.strategy.told == []
    assert rig.observer.dropped == 1
    assert "market data dropped: crossed bookTicker" in caplog.text


def test_a_run_of_dropped_frames_makes_the_feed_stale_once_and_a_good_quote_clears_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rig = Rig()
    rig.book("100000.00", "100000.02")
    assert rig.box.take() is not None
    with caplog.at_level(logging.WARNING, "market_maker.market"):
        rig.book("1.00", "1.02")  # believable as a book, but 99.99 % below the trusted price
        rig.book("100000.02", "100000.00")  # crossed
        rig.send('{"u": 3, "s": "BTCUSDT", "b": "100000.001", "B": "1", "a": "100000.02", "A": "1"}')
        rig.book("1.00", "1.02")
    assert rig.stale_told() == 1 and rig.observer.dropped == 4
    assert rig.box.take() is None
    lines = [r for r in caplog.records if r.getMessage().startswith("market data dropped")]
    assert len(lines) == 1  # rate-limited: one line, the rest counted in the next
    rig.risk.told.clear()
    rig.book("100000.04", "100000.06")
    assert any(isinstance(m, MarketDataSeen) for m in rig.risk.told)  # at once, not a second later
    assert any(isinstance(m, PriceTick) for m in rig.strategy.told)


def test_the_stale_trigger_set_by_dropped_data_outlives_the_clock_until_data_is_believed() -> None:
    params = RiskParams(stale_price_ms=30_000)
    state = on_market_data(start_risk(params), 1_000)
    state = on_market_data_stale(state)
    assert state.stale and "stale market data" in state.reasons
    assert on_clock(state, 2_000, params).stale  # recent arrivals do not clear it
    assert not on_clock(on_market_data(state, 3_000), 3_500, params).stale


def test_a_frame_nested_beyond_any_parser_is_dropped_with_one_line(caplog: pytest.LogCaptureFixture) -> None:
    rig = Rig()
    with caplog.at_level(logging.WARNING):
        rig.send("[" * 100_000 + "]" * 100_000)
    assert "nested too deeply" in caplog.text and "Traceback" not in caplog.text
    assert all(r.exc_info is None for r in caplog.records)
