"""The reconnecting WebSocket against a tiny scripted server on loopback (aiohttp)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web

from market_maker.core.rules import SymbolRules
from market_maker.exchange.streams import MarketStream
from market_maker.exchange.types import Quote, StreamStatus
from market_maker.exchange.ws import Connection, StreamSettings

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))
QUICK = StreamSettings(stale_after_s=1.0, ping_interval_s=0, backoff_min_s=0.05, tick_s=0.02)
TICKER = {"u": 1, "s": "BTCUSDT", "b": "100.00", "B": "1", "a": "100.01", "A": "1"}


class Server:
    """Serves /ws: per connection, sends the scripted frames, then keeps the socket open."""

    def __init__(self) -> None:
        self.connections = 0
        self.script: list[list[Any]] = []  # frames for the 1st, 2nd, ... connection
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        n = self.connections
        self.connections += 1
        for frame in self.script[n] if n < len(self.script) else []:
            await ws.send_str(json.dumps(frame))
        async for _ in ws:
            pass
        return ws

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_get("/ws", self._ws)
        runner = web.AppRunner(app)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(runner.cleanup())

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(5)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    s.start()
    yield s
    s.stop()


def wait_for(predicate: Any, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.02)
    return bool(predicate())


def test_server_shutdown_event_makes_the_stream_reconnect_and_ask_for_resync(server: Server) -> None:
    server.script = [[TICKER, {"e": "serverShutdown", "E": 1}], [TICKER]]
    quotes: list[Any] = []
    statuses: list[StreamStatus] = []
    stream = MarketStream(
        [f"ws://127.0.0.1:{server.port}/ws"],
        RULES,
        quotes.append,
        on_status=statuses.append,
        settings=QUICK.with_stale(30),
    )
    stream.start()
    try:
        assert wait_for(lambda: any(s.reconnect for s in statuses))
        # the client may report the reconnect before the server's thread has counted the connection
        assert wait_for(lambda: server.connections == 2 and stream.reconnects == 1)
        assert wait_for(lambda: len(quotes) == 2)
        assert quotes[0] == Quote("BTCUSDT", 10000, 10001, 0)
    finally:
        stream.stop()


def test_replies_to_requests_do_not_count_as_data(server: Server) -> None:
    server.script = [[{"result": None, "id": 1}] * 3]
    stream = MarketStream([f"ws://127.0.0.1:{server.port}/ws"], RULES, lambda e: None, settings=QUICK)
    stream.start()
    try:
        assert wait_for(lambda: server.connections >= 2)  # silent apart from replies: stale, renewed
    finally:
        stream.stop()


def test_planned_reconnect_before_the_connection_gets_too_old(server: Server) -> None:
    server.script = [[TICKER] * 1] * 10
    statuses: list[StreamStatus] = []
    conn = Connection(
        "market",
        lambda: f"ws://127.0.0.1:{server.port}/ws",
        lambda c, m: True,
        StreamSettings(stale_after_s=60, max_age_s=0.5, ping_interval_s=0, backoff_min_s=0.05),
        on_status=statuses.append,
    )
    conn.start()
    try:
        assert wait_for(lambda: any("24-hour" in s.reason for s in statuses))
        assert wait_for(lambda: conn.reconnects >= 1 and conn.connected)
    finally:
        conn.stop()


def test_refused_connections_keep_retrying_and_stop_cleanly() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    attempts: list[float] = []

    def url() -> str:
        attempts.append(time.monotonic())
        return f"ws://127.0.0.1:{port}/ws"

    conn = Connection(
        "market",
        url,
        lambda c, m: True,
        StreamSettings(ping_interval_s=0, backoff_min_s=0.05, backoff_max_s=0.4),
    )
    conn.start()
    try:
        assert wait_for(lambda: len(attempts) >= 5)
        assert not conn.connected
    finally:
        conn.stop()
    assert not any(t.name.startswith("market-") for t in threading.enumerate())
