"""WebSocket endpoints: market streams (spot and futures shapes), the WebSocket API (served by
:mod:`ws_api`), and futures user data by listenKey (legacy ``/ws/<key>`` and ``/private``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from market_maker.sim import wire, ws_api
from market_maker.sim.hub import Conn
from market_maker.sim.stream_names import INVALID_STREAM, is_served
from market_maker.sim.venue import Venue

_MARKET_PREFIXES = {
    "/ws": False,
    "/stream": False,
    "/public/ws": True,
    "/public/stream": True,
    "/market/ws": True,
    "/market/stream": True,
    # USD-M's unrouted form (Binance's fstream.binance.com/ws and /stream): every USD-M stream, USD-M
    # shapes. The bare /ws and /stream are spot's (stream.binance.com), as this port serves both.
    "/fstream/ws": True,
    "/fstream/stream": True,
}


_ILLEGAL_STREAM = b'{"code":-1,"msg":"Illegal format ws or stream"}'


def is_ws_path(path: str) -> bool:
    """True for every path this module serves."""
    return path.startswith(("/ws", "/stream", "/public/", "/market/", "/private/", "/fstream/")) or path in (
        "/public",
        "/market",
        "/private",
    )


async def handle(request: web.BaseRequest, v: Venue) -> web.StreamResponse:
    """Route a WebSocket upgrade by path."""
    path = request.path.rstrip("/")
    api_kind = ws_api.PATHS.get(path)
    if api_kind is not None:  # the WebSocket API (spot /ws-api/v3, USD-M /ws-fapi/v1)
        return await _serve(request, v, Conn(_ws(v), request, api_kind), ws_api.on_text)
    if path.startswith("/private"):
        keys = request.query.getall("listenKey", []) or [path.rsplit("/", 1)[-1]]
        return await _futures_user(request, v, keys[0], combined=path.startswith("/private/stream"))
    if path.startswith("/ws/") and path[4:] in v.hub.listen_keys:
        return await _futures_user(request, v, path[4:], combined=False)
    for prefix, futures in _MARKET_PREFIXES.items():
        if path == prefix or path.startswith(prefix + "/"):
            conn = Conn(_ws(v), request, "market", futures=futures, combined=prefix.endswith("stream"))
            if prefix.endswith("stream"):
                names = [s for s in request.query.get("streams", "").split("/") if s]
            elif path != prefix:
                name = path[len(prefix) + 1 :]
                if len(name) == 64 and name.isalnum():  # looks like a listenKey that does not exist
                    raise web.HTTPBadRequest(text='{"code":-1125,"msg":"This listenKey does not exist."}')
                names = [name]
            else:
                names = []
            if not all(is_served(n, futures) for n in names):
                return await _refuse(request, v)
            _subscribe(v, conn, names)
            return await _serve(request, v, conn, _market_control)
    raise web.HTTPNotFound()


async def _refuse(request: web.BaseRequest, v: Venue) -> web.WebSocketResponse:
    """A connection URL naming a stream that does not exist: opened, then closed with a policy
    violation and Binance's message."""
    ws = _ws(v)
    await ws.prepare(request)
    await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=_ILLEGAL_STREAM)
    return ws


def _subscribe(v: Venue, conn: Conn, names: list[str]) -> None:
    """Add streams to a connection; a diff depth stream starts at the current book."""
    for name in names:
        conn.streams.add(name)
        symbol, _, kind = name.partition("@")
        rules = next((r for s, r in v.rules.items() if s.lower() == symbol), None)
        if rules is not None:
            v.hub.market.start_diff(rules.symbol, kind, conn.futures, v.engine.bid_ask(rules.symbol))


def _ws(v: Venue) -> web.WebSocketResponse:
    return web.WebSocketResponse(heartbeat=v.cfg.ws_ping_interval_s, autoping=True, timeout=2.0)


async def _serve(request: web.BaseRequest, v: Venue, conn: Conn, on_text: Any) -> web.WebSocketResponse:
    ws = conn.ws
    v.hub.add(conn)  # before the handshake answer: a client that sees it open is already registered
    try:
        await ws.prepare(request)
    except BaseException:
        v.hub.remove(conn)
        raise
    writer = conn.writer_task = asyncio.ensure_future(conn.writer())
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                reply = on_text(v, conn, msg.data)
                if reply is not None:
                    conn.send(wire.dumps(reply))
            elif msg.type == WSMsgType.ERROR:
                break
    finally:
        v.hub.remove(conn)
        await asyncio.gather(writer, return_exceptions=True)
    return ws


def _market_control(v: Venue, conn: Conn, text: str) -> Any:
    """SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY."""
    try:
        req = json.loads(text)
        method, rid = req["method"], req.get("id")
        params = req.get("params", [])
    except (ValueError, KeyError, TypeError):
        return {"code": 2, "msg": "Invalid request: could not parse the message"}
    if method in ("SUBSCRIBE", "UNSUBSCRIBE") and not isinstance(params, list):
        return {"error": {"code": 2, "msg": "Invalid request: params must be an array"}, "id": rid}
    if method == "SUBSCRIBE":
        names = [str(s) for s in params]
        if conn.kind == "market" and not all(is_served(n, conn.futures) for n in names):
            return {"error": {"code": 2, "msg": INVALID_STREAM}, "id": rid}
        _subscribe(v, conn, names)
        return {"result": None, "id": rid}
    if method == "UNSUBSCRIBE":
        conn.streams.difference_update(str(s) for s in params)
        return {"result": None, "id": rid}
    if method == "LIST_SUBSCRIPTIONS":
        return {"result": sorted(conn.streams), "id": rid}
    if method == "SET_PROPERTY" and len(params) == 2 and params[0] == "combined":
        conn.combined = bool(params[1])
        return {"result": None, "id": rid}
    if method == "GET_PROPERTY" and params == ["combined"]:
        return {"result": conn.combined, "id": rid}
    return {"code": 2, "msg": f"Invalid request: unknown method {method!r}", "id": rid}


async def _futures_user(request: web.BaseRequest, v: Venue, key: str, combined: bool) -> web.StreamResponse:
    lk = v.hub.listen_keys.get(key)
    if lk is None or lk.expires_ms <= v.now_ms():
        raise web.HTTPBadRequest(
            text='{"code":-1125,"msg":"This listenKey does not exist."}', content_type="application/json"
        )
    conn = Conn(_ws(v), request, "futures-user", combined=combined, account=lk.account, listen_key=key)
    return await _serve(request, v, conn, _market_control)
