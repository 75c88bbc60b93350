"""Shared fixtures and helpers for the connector's integration tests (no tests here).

The simulator is conftest.py's ``sim`` fixture (one per test, so injected faults, bans and clock
skews never leak); the connector trades on its own funded account.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from market_maker.core.model import Side
from market_maker.exchange import make_exchange
from market_maker.exchange.binance import BinanceExchange
from market_maker.exchange.ws import StreamSettings
from market_maker.sim.server import SimServer

KEY = "connector-test-key"
SECRET = "connector-test-secret"
MARKETS = ["spot", "usdm"]
FAST_STREAMS = StreamSettings(stale_after_s=1.0, ping_interval_s=2.0, ping_timeout_s=1.0, backoff_min_s=0.05)


@pytest.fixture(params=MARKETS)
def market(request: pytest.FixtureRequest) -> str:
    return str(request.param)


_funded: weakref.WeakSet[SimServer] = weakref.WeakSet()


def fund(sim: SimServer) -> None:
    """Create the connector's account on ``sim`` once."""
    if sim not in _funded:
        sim.create_account(KEY, SECRET, {"USDT": "100000", "BTC": "1"})
        _funded.add(sim)


def connect(sim: SimServer, market: str, *, start: bool = True, **kw: Any) -> BinanceExchange:
    """A connector for BTCUSDT on the simulator (started unless told otherwise)."""
    fund(sim)
    kw.setdefault("stream_settings", FAST_STREAMS)
    ex = make_exchange(market, sim.rest_url, sim.ws_url, KEY, SECRET, symbol="BTCUSDT", **kw)
    assert isinstance(ex, BinanceExchange)
    if start:
        ex.start()
    return ex


@pytest.fixture
def ex(sim: SimServer, market: str) -> Iterator[BinanceExchange]:
    conn = connect(sim, market)
    yield conn
    conn.close()


def price_off_market(sim: SimServer, ex: BinanceExchange, side: Side, fraction: str) -> int:
    """Ticks at ``fraction`` away from the simulator's price (e.g. "-0.02": 2 % below)."""
    price = Decimal(sim.control.price("BTCUSDT")) * (1 + Decimal(fraction))
    return ex.symbol_rules().round_price(price, side)


def wait_for(predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    """Poll ``predicate`` until true or ``timeout_s`` passed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class Collector:
    """A thread-safe list for stream callbacks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[Any] = []

    def __call__(self, item: Any) -> None:
        with self._lock:
            self.items.append(item)

    def of(self, kind: type) -> list[Any]:
        with self._lock:
            return [i for i in self.items if isinstance(i, kind)]
