"""Market and user-data streams against the simulator: events, drops, stalls, listenKey expiry."""

# ruff: noqa: F811  -- pytest fixtures are imported from test_connector_support

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial

import pytest
from test_connector_support import (  # noqa: F401
    FAST_STREAMS,
    KEY,
    Collector,
    connect,
    ex,
    fund,
    market,
    price_off_market,
    wait_for,
)

from market_maker.core.model import OrderStatus, Side
from market_maker.exchange import make_exchange
from market_maker.exchange.base import Stream
from market_maker.exchange.binance import BinanceExchange
from market_maker.exchange.errors import AuthError
from market_maker.exchange.streams import FuturesUserStream, MarketStream
from market_maker.exchange.types import BalanceUpdate, CandleUpdate, OrderUpdate, Quote, StreamStatus
from market_maker.sim.server import SimConfig, SimServer


@pytest.fixture
def sim_config() -> SimConfig:
    """Clock-driven: market data flows by itself, so a silent stream means a stalled one."""
    return SimConfig()


class Streams:
    """Both streams of one connector, with everything they delivered."""

    def __init__(self, ex: BinanceExchange) -> None:
        self.market_events = Collector()
        self.user_events = Collector()
        self.statuses = Collector()
        self.market: Stream = ex.market_stream(self.market_events, on_status=self.statuses, stale_after_s=1.0)
        self.user: Stream = ex.user_stream(self.user_events, on_status=self.statuses, stale_after_s=1.0)

    def start(self) -> None:
        self.market.start()
        self.user.start()
        assert self.market.wait_connected(5) and self.user.wait_connected(5)

    def stop(self) -> None:
        self.user.stop()
        self.market.stop()

    def resynced(self, stream: str) -> bool:
        """True once ``stream`` reported a reconnect (the owner's cue to resync from REST)."""
        return any(s.stream == stream and s.connected and s.reconnect for s in self.statuses.of(StreamStatus))

    def order_updates(self, client_id: str) -> list[OrderUpdate]:
        return [u for u in self.user_events.of(OrderUpdate) if u.order.client_id == client_id]


def events_flow(streams: Streams, ex: BinanceExchange, sim: SimServer, tag: int) -> bool:
    """True once a new order's NEW event arrives. With a 1 s watchdog a quiet user stream renews
    itself every second, and an event sent during a renewal is lost (the resync covers that in the
    bot), so a few orders are tried."""
    for attempt in range(5):
        assert streams.user.wait_connected(5)
        cid = f"mm1_B{tag}_{attempt}"
        ex.place(Side.BUY, price_off_market(sim, ex, Side.BUY, "-0.02"), 100, cid)
        if wait_for(partial(_has_updates, streams, cid), timeout_s=2):
            return True
    return False


def _has_updates(streams: Streams, client_id: str) -> bool:
    return bool(streams.order_updates(client_id))


@pytest.fixture
def streams(ex: BinanceExchange) -> Iterator[Streams]:
    s = Streams(ex)
    s.start()
    yield s
    s.stop()


def test_market_stream_delivers_quotes_and_candles(streams: Streams) -> None:
    assert wait_for(lambda: bool(streams.market_events.of(Quote) and streams.market_events.of(CandleUpdate)))
    quote = streams.market_events.of(Quote)[-1]
    assert 0 < quote.bid <= quote.ask
    candle = streams.market_events.of(CandleUpdate)[-1]
    assert candle.interval == "1m" and candle.candle.low <= candle.candle.close <= candle.candle.high


def test_user_stream_reports_orders_fills_and_balances(
    streams: Streams, ex: BinanceExchange, sim: SimServer
) -> None:
    price = price_off_market(sim, ex, Side.BUY, "-0.02")
    ex.place(Side.BUY, price, 100, "mm1_B1_0")
    assert wait_for(lambda: any(u.execution == "NEW" for u in streams.order_updates("mm1_B1_0")))
    ex.cancel("mm1_B1_0")
    assert wait_for(lambda: any(u.execution == "CANCELED" for u in streams.order_updates("mm1_B1_0")))
    cancel = next(u for u in streams.order_updates("mm1_B1_0") if u.execution == "CANCELED")
    assert cancel.order.status is OrderStatus.CANCELED and cancel.order.price == price  # keyed by its own id

    ex.place(Side.BUY, price_off_market(sim, ex, Side.BUY, "0.02"), 100, "mm1_B2_0", post_only=False)
    assert wait_for(lambda: any(u.fill is not None for u in streams.order_updates("mm1_B2_0")))
    fills = [u.fill for u in streams.order_updates("mm1_B2_0") if u.fill is not None]
    assert sum(f.qty for f in fills) == 100 and fills[-1].cum_qty == 100
    assert fills[-1].client_id == "mm1_B2_0" and fills[-1].fee > 0
    assert wait_for(lambda: bool(streams.user_events.of(BalanceUpdate)))


def test_dropped_streams_reconnect_within_5s_and_call_for_resync(
    streams: Streams, ex: BinanceExchange, sim: SimServer
) -> None:
    assert sim.control.drop_streams() >= 2
    assert wait_for(lambda: streams.resynced("market") and streams.resynced("user"), timeout_s=5)
    assert streams.market.reconnects >= 1 and streams.user.reconnects >= 1
    assert events_flow(streams, ex, sim, 3)  # the new connection delivers


def test_stalled_streams_reconnect_within_5s_and_call_for_resync(
    streams: Streams, ex: BinanceExchange, sim: SimServer
) -> None:
    sim.control.stall_streams(0)  # sockets stay open and answer requests, but deliver nothing
    assert wait_for(lambda: streams.resynced("market") and streams.resynced("user"), timeout_s=5)
    sim.control.resume_streams()
    assert events_flow(streams, ex, sim, 4)


@pytest.mark.parametrize("market", ["usdm"])
def test_listen_key_expiry_is_recovered(streams: Streams, ex: BinanceExchange, sim: SimServer) -> None:
    user = streams.user
    assert isinstance(user, FuturesUserStream) and user.keys_created == 1
    assert sim.control.expire_listen_keys() == 1
    assert wait_for(lambda: user.keys_created == 2 and streams.resynced("user"), timeout_s=5)
    assert events_flow(streams, ex, sim, 5)


@pytest.mark.parametrize(("keepalive_s", "keys_expected"), [(0.3, 1), (1000.0, 2)])
def test_listen_key_keepalive_keeps_a_short_lived_key_alive(
    sim_ttl: SimServer, keepalive_s: float, keys_expected: int
) -> None:
    ex = connect(sim_ttl, "usdm")
    events = Collector()
    stream = FuturesUserStream(
        sim_ttl.ws_url,
        ex.rest.fork(),
        "/fapi/v1/listenKey",
        ex.symbol_rules(),
        events,
        settings=FAST_STREAMS.with_stale(60),
        keepalive_s=keepalive_s,
    )
    stream.start()
    try:
        assert stream.wait_connected(5)
        time.sleep(3.5)  # the simulator's keys live 2 s unless kept alive
        # without keepalive the key expired and was recreated
        assert wait_for(lambda: stream.keys_created == keys_expected)
        assert events_flow_on(stream, events, ex, sim_ttl)
    finally:
        stream.stop()


@pytest.fixture
def sim_ttl() -> Iterator[SimServer]:
    with SimServer(SimConfig(listen_key_ttl_s=2)) as server:
        yield server


def events_flow_on(stream: FuturesUserStream, events: Collector, ex: BinanceExchange, sim: SimServer) -> bool:
    assert stream.wait_connected(5)
    ex.place(Side.BUY, price_off_market(sim, ex, Side.BUY, "-0.02"), 100, "mm1_B7_0")
    return wait_for(lambda: any(u.order.client_id == "mm1_B7_0" for u in events.of(OrderUpdate)))


@pytest.mark.parametrize("market", ["usdm"])
def test_key_that_expired_while_disconnected_is_replaced(
    streams: Streams, ex: BinanceExchange, sim: SimServer
) -> None:
    user = streams.user
    assert isinstance(user, FuturesUserStream)
    sim.control.drop_streams()
    sim.control.expire_listen_keys()  # nobody is connected to hear listenKeyExpired
    assert wait_for(lambda: user.keys_created == 2 and user.connected, timeout_s=5)
    assert events_flow(streams, ex, sim, 8)


def test_a_refused_user_subscription_is_reported_with_its_reason(sim: SimServer, market: str) -> None:
    fund(sim)
    wrong = make_exchange(
        market,
        sim.rest_url,
        sim.ws_url,
        KEY,
        "not-the-secret",
        symbol="BTCUSDT",
        stream_settings=FAST_STREAMS,
    )
    wrong.start()  # public calls work with any secret
    with pytest.raises(AuthError):
        wrong.open_orders()
    statuses = Collector()
    user = wrong.user_stream(lambda e: None, on_status=statuses)
    user.start()
    try:
        if market == "spot":  # the WS API refuses the signature
            assert wait_for(
                lambda: any("subscription refused" in s.reason for s in statuses.of(StreamStatus))
            )
            assert not user.connected
        else:  # listenKey endpoints take the key alone: the stream works
            assert user.wait_connected(5)
    finally:
        user.stop()


def test_futures_routed_urls_carry_quotes_candles_and_user_data(sim: SimServer) -> None:
    routed = connect(sim, "usdm", routed_ws=True)  # live Binance's /public, /market and /private (2026)
    s = Streams(routed)
    s.start()
    try:
        assert isinstance(s.market, MarketStream) and len(s.market.connections) == 2  # ticker, klines
        assert wait_for(lambda: bool(s.market_events.of(Quote) and s.market_events.of(CandleUpdate)))
        assert events_flow(s, routed, sim, 9)
    finally:
        s.stop()
