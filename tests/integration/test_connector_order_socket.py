"""``exchange.order_transport: websocket``: the connector places and cancels over the WebSocket API (spot
and USD-M, HMAC and Ed25519 keys) with REST's guarantees: an unanswered request is an unknown outcome
resolved by client id and never sent again; while the socket is down orders go over REST, said once."""

from __future__ import annotations

import logging
import threading

import pytest
from test_connector_support import FAST_STREAMS, KEY, fund, market, price_off_market, wait_for
from test_ws_api_trading import ed25519_pem

from market_maker.core.model import Side
from market_maker.exchange import make_exchange
from market_maker.exchange.binance import BinanceExchange
from market_maker.exchange.errors import UnknownOutcomeError
from market_maker.exchange.keys import signer_from_pem
from market_maker.exchange.usdm import UsdmExchange
from market_maker.sim.server import SimServer

ED_KEY = "socket-ed25519-key"
QTY = 100  # steps: 0.01 BTC, above the minimum notional
__all__ = ["market"]  # the fixture, parametrized over spot and usdm


def socket_exchange(sim: SimServer, market: str, key_type: str, **kw: object) -> BinanceExchange:
    fund(sim)
    if key_type == "ed25519":
        pem = ed25519_pem()
        sim.create_account(ED_KEY, signer_from_pem(pem).public_pem(), {"USDT": "100000", "BTC": "1"})
        key, secret = ED_KEY, pem
    else:
        key, secret = KEY, "connector-test-secret"
    ex = make_exchange(
        market, sim.rest_url, sim.ws_url, key, secret, symbol="BTCUSDT", order_transport="websocket",
        stream_settings=FAST_STREAMS, **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    assert isinstance(ex, BinanceExchange)
    ex.start()
    if isinstance(ex, UsdmExchange):
        ex.position_mode()  # asked once over REST before the first order; not an order request
    return ex


@pytest.mark.parametrize("key_type", ["hmac", "ed25519"])
def test_place_and_cancel_go_over_the_socket(sim: SimServer, market: str, key_type: str) -> None:
    ex = socket_exchange(sim, market, key_type)
    try:
        assert ex.order_socket is not None and ex.order_socket.connected
        assert ex.order_socket.logon is (key_type == "ed25519")
        rest_before = ex.rest.sent
        price = price_off_market(sim, ex, Side.BUY, "-0.02")
        placed = ex.place(Side.BUY, price, QTY, "mm1-ws-1")
        assert placed.client_id == "mm1-ws-1" and placed.price == price
        owner = ED_KEY if key_type == "ed25519" else KEY
        assert [o["clientOrderId"] for o in sim.control.open_orders(owner)] == ["mm1-ws-1"]
        cancelled = ex.cancel("mm1-ws-1")
        assert cancelled.status.value == "CANCELED"
        assert sim.control.open_orders(owner) == []
        assert ex.rest.sent == rest_before, "place and cancel went over REST"
        assert ex.rest_fallbacks == 0
    finally:
        ex.close()


def test_a_down_socket_sends_over_rest_and_says_so_once(
    sim: SimServer, market: str, caplog: pytest.LogCaptureFixture
) -> None:
    ex = socket_exchange(sim, market, "ed25519")
    try:
        assert ex.order_socket is not None
        ex.order_socket.stop()
        price = price_off_market(sim, ex, Side.BUY, "-0.02")
        with caplog.at_level(logging.INFO, logger="market_maker.exchange.binance"):
            ex.place(Side.BUY, price, QTY, "mm1-fb-1")
            ex.place(Side.BUY, price - 10, QTY, "mm1-fb-2")
            ex.cancel("mm1-fb-1")
        assert ex.rest_fallbacks == 3
        lines = [r.getMessage() for r in caplog.records if "order socket" in r.getMessage()]
        assert len(lines) == 1 and "orders go over REST" in lines[0]
        assert [o["clientOrderId"] for o in sim.control.open_orders(ED_KEY)] == ["mm1-fb-2"]
    finally:
        ex.close()


def test_an_unanswered_place_is_an_unknown_outcome_resolved_by_client_id(sim: SimServer, market: str) -> None:
    ex = socket_exchange(sim, market, "ed25519", timeout_s=(3.05, 0.5))
    try:
        sim.control.timeout_after_accept_next(1, hold_seconds=30)
        price = price_off_market(sim, ex, Side.BUY, "-0.02")
        with pytest.raises(UnknownOutcomeError):
            ex.place(Side.BUY, price, QTY, "mm1-lost-1")
        found = ex.get_order("mm1-lost-1")  # the order was accepted: the query finds it
        assert found is not None and found.client_id == "mm1-lost-1"
        assert [o["clientOrderId"] for o in sim.control.open_orders(ED_KEY)] == ["mm1-lost-1"]  # sent once
    finally:
        ex.close()


def test_a_socket_cut_while_waiting_is_an_unknown_outcome_then_reconnects(
    sim: SimServer, market: str
) -> None:
    ex = socket_exchange(sim, market, "ed25519", timeout_s=(3.05, 20.0))
    try:
        assert ex.order_socket is not None
        sim.control.timeout_after_accept_next(1, hold_seconds=30)
        price = price_off_market(sim, ex, Side.BUY, "-0.02")
        threading.Timer(0.3, sim.control.drop_streams).start()
        with pytest.raises(UnknownOutcomeError, match="closed before the answer"):
            ex.place(Side.BUY, price, QTY, "mm1-cut-1")
        assert wait_for(lambda: ex.order_socket is not None and ex.order_socket.connected, 10)
        rest_before = ex.rest.sent
        ex.place(Side.BUY, price - 10, QTY, "mm1-cut-2")
        assert ex.rest.sent == rest_before
        ids = sorted(o["clientOrderId"] for o in sim.control.open_orders(ED_KEY))
        assert ids == ["mm1-cut-1", "mm1-cut-2"]  # the lost one was placed once, never re-sent
    finally:
        ex.close()


def test_a_request_written_now_is_answered_later_like_place_and_cancel(sim: SimServer, market: str) -> None:
    ex = socket_exchange(sim, market, "ed25519")
    try:
        rest_before = ex.rest.sent
        price = price_off_market(sim, ex, Side.BUY, "-0.02")
        sent = ex.send_place(Side.BUY, price, QTY, "mm1-now-1", False)
        assert sent is not None
        placed = ex.finish(sent)
        assert placed.client_id == "mm1-now-1" and placed.price == price
        assert [o["clientOrderId"] for o in sim.control.open_orders(ED_KEY)] == ["mm1-now-1"]
        cancel = ex.send_cancel("mm1-now-1")
        assert cancel is not None
        assert ex.finish(cancel).status.value == "CANCELED"
        assert sim.control.open_orders(ED_KEY) == []
        assert ex.rest.sent == rest_before and ex.order_counts == {"placed": 1, "cancelled": 1}
    finally:
        ex.close()


def test_nothing_is_written_now_when_the_socket_is_down_or_orders_are_refused(
    sim: SimServer, market: str
) -> None:
    ex = socket_exchange(sim, market, "ed25519")
    try:
        assert ex.order_socket is not None
        price = price_off_market(sim, ex, Side.BUY, "-0.02")
        ex.rest.limiter.refuse_orders()  # the bot is stopping: no new order, cancels still go
        assert ex.send_place(Side.BUY, price, QTY, "mm1-no-1", False) is None
        cancel = ex.send_cancel("mm1-no-1")
        assert cancel is not None
        ex.order_socket.stop()
        assert ex.send_cancel("mm1-no-2") is None
        assert ex.order_socket.sent == 1 and sim.control.open_orders(ED_KEY) == []
    finally:
        ex.close()


def test_an_unanswered_request_written_now_is_an_unknown_outcome_placed_once(
    sim: SimServer, market: str
) -> None:
    ex = socket_exchange(sim, market, "ed25519", timeout_s=(3.05, 0.5))
    try:
        sim.control.timeout_after_accept_next(1, hold_seconds=30)
        price = price_off_market(sim, ex, Side.BUY, "-0.02")
        sent = ex.send_place(Side.BUY, price, QTY, "mm1-lostnow-1", False)
        assert sent is not None
        with pytest.raises(UnknownOutcomeError):
            ex.finish(sent)
        found = ex.get_order("mm1-lostnow-1")
        assert found is not None and found.client_id == "mm1-lostnow-1"
        assert [o["clientOrderId"] for o in sim.control.open_orders(ED_KEY)] == ["mm1-lostnow-1"]
    finally:
        ex.close()
