"""WebSocket connections and fan-out: market streams, spot WS-API subscriptions, futures listenKeys.

Each connection has its own queue and writer task, so a slow client never blocks the market loop and
every client sees its messages in order. While streams are stalled, messages are dropped (the socket
stays open and silent, as a stalled Binance stream does).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from market_maker.core.rules import SymbolRules
from market_maker.sim import wire
from market_maker.sim.candles import INTERVALS_MS, CandleBook, Row
from market_maker.sim.engine import SPOT, BalanceEvent, Event, OrderEvent
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
        self.kline_push_ms = kline_push_ms  # see SimConfig.kline_push_ms
        self.candles = candles
        self.conns: set[Conn] = set()
        self.stalled = False
        self.listen_keys: dict[str, ListenKey] = {}
        self._agg_id = 0
        self.update_id = 0
        self._last_kline: dict[tuple[str, str], Row] = {}
        self._kline_pushed: dict[tuple[str, str, bool], int] = {}  # market time of the last open update
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

    def market_point(
        self, symbol: str, p: PathPoint, trade_id: int, bid: int, ask: int, event_ms: int
    ) -> None:
        """Push one path point to every market-stream subscriber of ``symbol``."""
        if self.stalled:
            return
        self.update_id += 1
        self._agg_id += 1
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
                    payload = self._payload(
                        symbol, stream[len(low) + 1 :], c.futures, p, trade_id, bid, ask, event_ms
                    )
                    text = cache[key] = "" if payload is None else wire.dumps(payload)
                if text:
                    c.send(wrap(c, stream, text))

    def _payload(
        self, symbol: str, kind: str, fut: bool, p: PathPoint, tid: int, bid: int, ask: int, now: int
    ) -> Any:
        r = self.rules[symbol]
        if kind == "trade":
            return {
                "e": "trade",
                "E": now,
                "s": symbol,
                "t": tid,
                "p": wire.f8(r.tick_size * p.price),
                "q": wire.f8(r.step_size * p.volume),
                "T": p.time_ms,
                "m": p.price <= bid,
                "M": True,
            }
        if kind == "aggTrade":
            out = {
                "e": "aggTrade",
                "E": now,
                "s": symbol,
                "a": self._agg_id,
                "p": wire.f8(r.tick_size * p.price),
                "q": wire.f8(r.step_size * p.volume),
                "f": tid,
                "l": tid,
                "T": p.time_ms,
                "m": p.price <= bid,
                "M": True,
            }
            if fut:
                out["nq"] = out["q"]
            return out
        if kind == "bookTicker":
            out = {
                "u": self.update_id,
                "s": symbol,
                "b": wire.f8(r.tick_size * bid),
                "B": "1.00000000",
                "a": wire.f8(r.tick_size * ask),
                "A": "1.00000000",
            }
            return {"e": "bookTicker", **out, "E": now, "T": p.time_ms} if fut else out
        if kind.startswith("depth"):
            n = kind[5:].split("@")[0]
            if n not in ("5", "10", "20"):
                return None
            bids, asks = depth(r, bid, ask, int(n))
            if fut:
                return {
                    "e": "depthUpdate",
                    "E": now,
                    "T": p.time_ms,
                    "s": symbol,
                    "U": self.update_id,
                    "u": self.update_id,
                    "pu": self.update_id - 1,
                    "b": bids,
                    "a": asks,
                }
            return {"lastUpdateId": self.update_id, "bids": bids, "asks": asks}
        if kind.startswith("kline_"):
            return self._kline(symbol, kind[6:], r, now, fut)
        return None

    def _kline(self, symbol: str, interval: str, r: SymbolRules, now: int, fut: bool = False) -> Any:
        if interval not in INTERVALS_MS:
            return None
        row = self.candles[symbol].current(interval)
        if row is None:
            return None
        iv = INTERVALS_MS[interval]
        prev = self._last_kline.get((symbol, interval))
        self._last_kline[(symbol, interval)] = row
        closed = prev is not None and prev[0] != row[0]
        if closed and prev is not None:  # the previous candle closed: send it final (x=true) first
            row = prev
        elif self.kline_push_ms:  # an open candle's update, at most one per kline_push_ms of market time
            pushed = self._kline_pushed.get((symbol, interval, fut))
            if pushed is not None and 0 < now - pushed < self.kline_push_ms:
                return None
            self._kline_pushed[(symbol, interval, fut)] = now
        k = wire.kline_row(row, iv, r)
        return {
            "e": "kline",
            "E": now,
            "s": symbol,
            "k": {
                "t": k[0],
                "T": k[6],
                "s": symbol,
                "i": interval,
                "f": -1,
                "L": -1,
                "o": k[1],
                "c": k[4],
                "h": k[2],
                "l": k[3],
                "v": k[5],
                "n": k[8],
                "x": closed,
                "q": k[7],
                "V": k[9],
                "Q": k[10],
                "B": "0",
            },
        }

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

    async def close_all(self) -> None:
        """Close every WebSocket cleanly (server shutdown)."""
        conns = list(self.conns)
        for c in conns:
            self.remove(c)
        await asyncio.gather(*(c.ws.close() for c in conns), return_exceptions=True)


def wrap(c: Conn, stream: str, text: str) -> str:
    """Combined-stream connections get ``{"stream":..., "data":...}``."""
    return f'{{"stream":"{stream}","data":{text}}}' if c.combined else text


def depth(r: SymbolRules, bid: int, ask: int, levels: int) -> tuple[list[list[str]], list[list[str]]]:
    """A synthetic order book: one-tick levels, size growing with distance from the touch."""
    bids = [[wire.f8(r.tick_size * (bid - i)), wire.f8(r.step_size * 1000 * (i + 1))] for i in range(levels)]
    asks = [[wire.f8(r.tick_size * (ask + i)), wire.f8(r.step_size * 1000 * (i + 1))] for i in range(levels)]
    return bids, asks
