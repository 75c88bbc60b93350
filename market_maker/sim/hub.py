"""WebSocket connections and fan-out: market streams, spot WS-API subscriptions, futures listenKeys.

Each connection has its own queue and writer task, so a slow client never blocks the market loop and
every client sees its messages in order. While streams are stalled, messages are dropped (the socket
stays open and silent, as a stalled Binance stream does).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from market_maker.core.rules import SymbolRules
from market_maker.sim import wire
from market_maker.sim.candles import CandleBook
from market_maker.sim.engine import SPOT, BalanceEvent, Event, OrderEvent
from market_maker.sim.market_data import MarketData
from market_maker.sim.paths import PathPoint

MAX_BACKLOG = 10_000  # queued messages before a slow WebSocket client is disconnected


@dataclass(eq=False)
class Conn:
    """One WebSocket client."""

    ws: web.WebSocketResponse
    request: web.BaseRequest
    kind: str  # "market" | "ws-api" | "futures-user"
    futures: bool = False  # market data in futures shapes
    combined: bool = False  # {"stream":..., "data":...} wrapping
    streams: set[str] = field(default_factory=set)
    account: str | None = None  # ws-api subscription or listenKey owner
    sub_id: int | None = None
    listen_key: str | None = None
    next_sub_id: int = 0
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    close_after: bool = False  # close the socket once the queue is drained
    opened_s: float = field(default_factory=time.monotonic)
    writer_task: asyncio.Future[None] | None = None

    def send(self, text: str) -> None:
        """Queue a text frame; a client that stopped reading is cut off, as Binance does."""
        if self.queue.qsize() >= MAX_BACKLOG:
            transport = self.request.transport
            if transport is not None:
                transport.abort()
            return
        self.queue.put_nowait(text)

    async def writer(self) -> None:
        """Drain the queue into the socket until a None arrives or the socket closes."""
        while True:
            msg = await self.queue.get()
            if msg is None or self.ws.closed:
                if self.close_after and not self.ws.closed:
                    await self.ws.close()
                return
            try:
                await self.ws.send_str(msg)
            except (ConnectionError, RuntimeError):
                return


@dataclass
class ListenKey:
    """A futures listenKey: whose, and until when (server ms)."""

    key: str
    account: str
    expires_ms: int


class Hub:
    """Every open WebSocket and what it listens to."""

    def __init__(
        self, rules: dict[str, SymbolRules], candles: dict[str, CandleBook], kline_push_ms: int = 0
    ) -> None:
        self.rules = rules
        self.market = MarketData(rules, candles, kline_push_ms)
        self.conns: set[Conn] = set()
        self.stalled = False
        self.listen_keys: dict[str, ListenKey] = {}
        self.closing = asyncio.Event()  # set at shutdown: held answers (timeout faults) end at once

    # --- registry ----------------------------------------------------------------------------------

    def add(self, conn: Conn) -> None:
        """Start tracking a connection."""
        self.conns.add(conn)

    def remove(self, conn: Conn) -> None:
        """Forget a connection and stop its writer."""
        self.conns.discard(conn)
        conn.queue.put_nowait(None)

    def listen_key_for(self, account: str, now_ms: int, ttl_ms: int) -> str:
        """The account's active key (extended), or a fresh one."""
        for lk in self.listen_keys.values():
            if lk.account == account and lk.expires_ms > now_ms:
                lk.expires_ms = now_ms + ttl_ms
                return lk.key
        key = secrets.token_hex(32)
        self.listen_keys[key] = ListenKey(key, account, now_ms + ttl_ms)
        return key

    def expire_keys(self, now_ms: int, every: bool = False) -> int:
        """Expire keys past their time (or all): push ``listenKeyExpired`` and close their streams."""
        gone = [k for k, lk in self.listen_keys.items() if every or lk.expires_ms <= now_ms]
        for key in gone:
            del self.listen_keys[key]
            msg = wire.dumps({"e": "listenKeyExpired", "E": now_ms, "listenKey": key})
            for c in list(self.conns):
                if c.listen_key == key:
                    c.send(wrap(c, key, msg))
                    c.close_after = True
                    c.queue.put_nowait(None)
        return len(gone)

    # --- market data -------------------------------------------------------------------------------

    @property
    def update_id(self) -> int:
        """The book's update id (one per market print): REST depth's ``lastUpdateId``."""
        return self.market.update_id

    def market_point(
        self, symbol: str, p: PathPoint, trade_id: int, bid: int, ask: int, event_ms: int
    ) -> None:
        """Record one path point and push it to every market-stream subscriber of ``symbol``."""
        pr = self.market.record(symbol, p, trade_id, bid)  # also while stalled: REST stays current
        if self.stalled:
            return
        low = symbol.lower()
        cache: dict[tuple[bool, str], str] = {}
        for c in self.conns:
            if c.kind != "market" or not c.streams:
                continue
            for stream in c.streams:
                if not stream.startswith(low + "@"):
                    continue
                key = (c.futures, stream)
                text = cache.get(key)
                if text is None:
                    payload = self.market.payload(
                        symbol, stream[len(low) + 1 :], c.futures, p, pr, bid, ask, event_ms
                    )
                    text = cache[key] = "" if payload is None else wire.dumps(payload)
                if text:
                    c.send(wrap(c, stream, text))

    # --- user data ---------------------------------------------------------------------------------

    def user_events(self, events: list[Event], event_ms: int) -> None:
        """Push engine events to the owners' spot subscriptions and futures listenKey streams."""
        if self.stalled or not events:
            return
        for ev in events:
            targets = [
                c
                for c in self.conns
                if c.account == ev.account
                and c.kind == ("ws-api" if ev.venue == SPOT else "futures-user")
                and (c.kind != "ws-api" or c.sub_id is not None)
            ]
            if not targets:
                continue
            sym = ev.order.symbol if isinstance(ev, OrderEvent) else None
            payload: Any
            if ev.venue == SPOT:
                if isinstance(ev, OrderEvent):
                    payload = wire.execution_report(ev, self.rules[ev.order.symbol], event_ms)
                else:
                    payload = wire.account_position(ev, event_ms)
            else:
                if isinstance(ev, OrderEvent):
                    payload = wire.order_trade_update(ev, self.rules[ev.order.symbol], event_ms)
                else:
                    assert isinstance(ev, BalanceEvent)
                    sym = ev.positions[0].symbol if ev.positions else next(iter(self.rules))
                    payload = wire.account_update(ev, self.rules[sym], event_ms)
            for c in targets:
                if c.kind == "ws-api":
                    c.send(wire.dumps({"subscriptionId": c.sub_id, "event": payload}))
                else:
                    c.send(wrap(c, c.listen_key or "", wire.dumps(payload)))

    # --- faults ------------------------------------------------------------------------------------

    def drop_all(self) -> int:
        """Cut every WebSocket without a close frame, as a network failure would."""
        n = 0
        for c in list(self.conns):
            transport = c.request.transport
            if transport is not None:
                transport.abort()
            self.remove(c)
            n += 1
        return n

    async def close_all(self, now_ms: int) -> None:
        """Close every WebSocket cleanly (server shutdown): spot streams and the WebSocket API are told
        first with a ``serverShutdown`` event, as Binance does; queued messages go out before the close."""
        conns = list(self.conns)
        for c in conns:
            notice = shutdown_notice(c, now_ms)
            if notice is not None:
                c.send(notice)
            self.finish(c)
        writers = [c.writer_task for c in conns if c.writer_task is not None]
        if writers:
            await asyncio.wait(writers, timeout=2.0)
        await asyncio.gather(*(c.ws.close() for c in conns), return_exceptions=True)

    def finish(self, c: Conn) -> None:
        """Close a connection once its queued messages are out."""
        c.close_after = True
        self.remove(c)

    def cut_old(self, max_age_s: float) -> int:
        """Close every connection older than ``max_age_s`` (Binance's 24-hour cut)."""
        now = time.monotonic()
        old = [c for c in self.conns if now - c.opened_s >= max_age_s]
        for c in old:
            self.finish(c)
        return len(old)


def shutdown_notice(c: Conn, now_ms: int) -> str | None:
    """The ``serverShutdown`` event in the connection's framing: spot market streams (raw, or combined
    as stream ``!serverShutdown``) and the WebSocket API (``{"event": ...}``); None for USD-M, whose
    documentation has no such event."""
    event = f'{{"e":"serverShutdown","E":{now_ms}}}'
    if c.kind == "ws-api":
        return f'{{"event":{event}}}'
    if c.kind == "market" and not c.futures:
        return wrap(c, "!serverShutdown", event)
    return None


def wrap(c: Conn, stream: str, text: str) -> str:
    """Combined-stream connections get ``{"stream":..., "data":...}``."""
    return f'{{"stream":"{stream}","data":{text}}}' if c.combined else text
