"""The WebSocket API: spot at ``/ws-api/v3``, USD-M at ``/ws-fapi/v1`` (reference §A.6).

Requests are ``{"id", "method", "params"}`` text frames; answers ``{"id", "status", "result" | "error",
"rateLimits"}``. Trading methods run the REST endpoints' own handlers (the same validation, matching,
error codes and user-data events as REST): only the framing, the signature payload (params sorted by
name) and ``session.logon`` differ. Faults injected for REST (errors, rejects, held answers) apply here too.
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from market_maker.sim import wire
from market_maker.sim.auth import check_timestamp, is_ed25519, verify, ws_api_payload
from market_maker.sim.engine import SPOT, BinanceError
from market_maker.sim.hub import Conn
from market_maker.sim.rest import NONE, Params, Raw, Route
from market_maker.sim.rest_futures import ROUTES as FUTURES_ROUTES
from market_maker.sim.rest_spot import ROUTES as SPOT_ROUTES
from market_maker.sim.venue import Venue

PATHS = {"/ws-api/v3": "ws-api", "/ws-fapi/v1": "ws-fapi"}  # path -> Conn.kind

# method -> the REST route whose handler answers it
_SPOT_METHODS = {
    "ping": ("GET", "/api/v3/ping"),
    "time": ("GET", "/api/v3/time"),
    "exchangeInfo": ("GET", "/api/v3/exchangeInfo"),
    "order.place": ("POST", "/api/v3/order"),
    "order.test": ("POST", "/api/v3/order/test"),
    "order.status": ("GET", "/api/v3/order"),
    "order.cancel": ("DELETE", "/api/v3/order"),
    "openOrders.status": ("GET", "/api/v3/openOrders"),
    "openOrders.cancelAll": ("DELETE", "/api/v3/openOrders"),
    "account.status": ("GET", "/api/v3/account"),
    "myTrades": ("GET", "/api/v3/myTrades"),
}
_FUTURES_METHODS = {
    "ping": ("GET", "/fapi/v1/ping"),
    "time": ("GET", "/fapi/v1/time"),
    "order.place": ("POST", "/fapi/v1/order"),
    "order.status": ("GET", "/fapi/v1/order"),
    "order.cancel": ("DELETE", "/fapi/v1/order"),
    "openOrders.status": ("GET", "/fapi/v1/openOrders"),
    "account.balance": ("GET", "/fapi/v2/balance"),
    "account.position": ("GET", "/fapi/v2/positionRisk"),
}
_METHODS = {
    "ws-api": {m: SPOT_ROUTES[r] for m, r in _SPOT_METHODS.items()},
    "ws-fapi": {m: FUTURES_ROUTES[r] for m, r in _FUTURES_METHODS.items()},
}
_CANCEL_REPLACE_MODES = ("STOP_ON_FAILURE", "ALLOW_FAILURE")


@dataclass
class Session:
    """A connection's ``session.logon`` state."""

    api_key: str | None = None
    authorized_since: int | None = None
    connected_since: int = 0


_SESSIONS: weakref.WeakKeyDictionary[Conn, Session] = weakref.WeakKeyDictionary()


def _session(conn: Conn, now: int) -> Session:
    s = _SESSIONS.get(conn)
    if s is None:
        s = _SESSIONS[conn] = Session(connected_since=now)
    return s


def wire_params(params: dict[str, Any]) -> Params:
    """JSON params as the text REST would have carried (booleans lower-case)."""
    return {k: ("true" if x else "false") if isinstance(x, bool) else str(x) for k, x in params.items()}


def on_text(v: Venue, conn: Conn, text: str) -> None:
    """Answer one request frame on ``conn`` (a held answer comes later, as a timed-out REST one does)."""
    now = v.now_ms()
    _session(conn, now)
    try:
        req = json.loads(text)
        rid, method = req.get("id"), req["method"]
        params = req.get("params") or {}
        if not isinstance(params, dict) or not isinstance(method, str):
            raise TypeError
    except (ValueError, KeyError, TypeError, AttributeError):
        conn.send(wire.dumps(_error(None, BinanceError(-1102, "Invalid JSON request."))))
        return
    try:
        result, hold = _call(v, conn, method, params, now)
    except BinanceError as e:
        conn.send(wire.dumps({**_error(rid, e), "rateLimits": _rate_limits(v, conn)}))
        return
    limits = wire.dumps(_rate_limits(v, conn))
    body = result if isinstance(result, Raw) else wire.dumps(result)
    answer = f'{{"id":{json.dumps(rid)},"status":200,"result":{body},"rateLimits":{limits}}}'
    if hold:  # accepted, but the answer never comes in time: -1007 after the hold (as REST)
        late = _error(rid, _timeout(conn))
        asyncio.get_running_loop().call_later(v.faults.timeout_hold_s, conn.send, wire.dumps(late))
        return
    conn.send(answer)


def _call(v: Venue, conn: Conn, method: str, raw: dict[str, Any], now: int) -> tuple[Any, bool]:
    """The method's result, and whether its answer is held back (an injected timeout)."""
    user = _user_data(v, conn, method, raw, now)
    if user is not None:
        return user, False
    if method in ("session.logon", "session.status", "session.logout"):
        return _session_call(v, conn, method, raw, now), False
    if method == "order.cancelReplace" and conn.kind == "ws-api":
        return _cancel_replace(v, conn, raw, now), False
    if method == "order.amend.keepPriority" and conn.kind == "ws-api":
        # the simulator's symbols announce amendAllowed false (exchangeInfo), and Binance answers an
        # amend on such a symbol with this matching-engine reject; the request is still authenticated
        _authenticate(v, conn, _METHODS["ws-api"]["order.status"], wire_params(raw), now)
        raise BinanceError(-2038, "Order amend is not supported for this symbol.")
    route = _METHODS[conn.kind].get(method)
    if route is None:
        raise BinanceError(-1020, "This operation is not supported.")
    p = wire_params(raw)
    key = _authenticate(v, conn, route, p, now)
    _admit(v, conn, route, key, p.get("symbol", ""))
    result = route.handler(v, key, p, now)
    hold = route.places_order and v.faults.timeout_next > 0
    if hold:
        v.faults.timeout_next -= 1
    return result, hold


def _authenticate(v: Venue, conn: Conn, route: Route, p: Params, now: int) -> str:
    """The account a request acts for: its own apiKey and signature, or the session's logon."""
    if route.security == NONE:
        return ""
    session = _session(conn, now)
    key = p.pop("apiKey", None)
    sig = p.pop("signature", None)
    if key is None and sig is None and session.api_key is not None:
        key = session.api_key  # logged on: only the timestamp is still required
        if key not in v.engine.accounts:
            session.api_key = None
            raise BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        check_timestamp(p, now)
        return key
    if not key:
        raise BinanceError(-2014, "API-key format invalid.", 401)
    acct = v.engine.accounts.get(key)
    if acct is None:
        raise BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
    check_timestamp(p, now)
    if not sig:
        raise BinanceError(
            -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
        )
    if not verify(acct.api_secret, ws_api_payload({**p, "apiKey": key}), sig):
        raise BinanceError(-1022, "Signature for this request is not valid.")
    return key


def _admit(v: Venue, conn: Conn, route: Route, key: str, symbol: str = "") -> None:
    """Weights, order counts and injected failures, as the REST pipeline applies them."""
    spot = route.venue == SPOT
    limiter = v.spot_limiter if spot else v.futures_limiter
    weight = route.weight if isinstance(route.weight, int) else 1
    now_s = time.time()
    verdict = limiter.admit(conn.request.remote or "?", weight, now_s)
    if verdict.status:  # Retry-After travels in the error's data, as an epoch time in ms
        server_ms = v.now_ms()
        retry = {"serverTime": server_ms, "retryAfter": server_ms + verdict.retry_after * 1000}
        raise _DataError(-1003, verdict.msg, verdict.status, retry)
    f = v.faults
    if f.fail_next > 0 or (f.error_rate and v.fault_rng.random() < f.error_rate):
        f.fail_next = max(0, f.fail_next - 1)
        raise BinanceError(-1000, "An unknown error occurred while processing the request.", f.fail_status)
    if route.places_order:
        counter = v.spot_orders if spot else v.futures_orders
        if counter.add(key, now_s) is None:
            raise BinanceError(
                -1015, f"Too many new orders; current limit is {counter.limit} orders per 10 SECOND.", 429
            )
        if f.reject_next > 0:
            f.reject_next -= 1
            raise BinanceError(-2010, "Order was rejected by the matching engine (injected fault).")


def _timeout(conn: Conn) -> BinanceError:
    return BinanceError(
        -1007,
        "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
        503 if conn.kind == "ws-api" else 408,
    )


# --- sessions and user data -------------------------------------------------------------------------------


def _signed_key(v: Venue, raw: dict[str, Any], now: int) -> str:
    """The apiKey of a request signed with its own apiKey and signature (logon, user-data subscribe)."""
    key = str(raw.get("apiKey", ""))
    acct = v.engine.accounts.get(key)
    if acct is None:
        raise BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
    p = wire_params(raw)
    check_timestamp(p, now)
    sig = p.get("signature", "")
    if not sig or not verify(acct.api_secret, ws_api_payload(p), sig):
        raise BinanceError(-1022, "Signature for this request is not valid.")
    return key


def _session_call(v: Venue, conn: Conn, method: str, raw: dict[str, Any], now: int) -> Any:
    session = _session(conn, now)
    if method == "session.logon":
        key = _signed_key(v, raw, now)
        if not is_ed25519(v.engine.accounts[key].api_secret):
            # the spot docs name no code for this refusal; -4056 is USD-M's (unverified for spot)
            raise BinanceError(-4056, "HMAC_SHA256 API key is not supported.")
        session.api_key, session.authorized_since = key, now
    elif method == "session.logout":
        session.api_key = session.authorized_since = None
    return {
        "apiKey": session.api_key,
        "authorizedSince": session.authorized_since,
        "connectedSince": session.connected_since,
        "returnRateLimits": True,
        "serverTime": now,
        "userDataStream": conn.sub_id is not None,
    }


def _user_data(v: Venue, conn: Conn, method: str, raw: dict[str, Any], now: int) -> Any:
    """The spot user-data subscription methods (None: not one of them)."""
    if conn.kind != "ws-api":
        return None
    if method in ("userDataStream.subscribe.signature", "userDataStream.subscribe"):
        if method == "userDataStream.subscribe":
            key = _session(conn, now).api_key
            if key is None:
                raise BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        else:
            key = _signed_key(v, raw, now)
        if conn.sub_id is not None:
            raise BinanceError(-2035, "User Data Stream subscription already active.")
        conn.account, conn.sub_id = key, conn.next_sub_id
        conn.next_sub_id += 1
        return {"subscriptionId": conn.sub_id}
    if method == "userDataStream.unsubscribe":
        if conn.sub_id is None:
            raise BinanceError(-2036, "User Data Stream subscription not active.")
        conn.send(
            wire.dumps({"subscriptionId": conn.sub_id, "event": {"e": "eventStreamTerminated", "E": now}})
        )
        conn.sub_id = None
        return {}
    if method == "session.subscriptions":
        return [] if conn.sub_id is None else [{"subscriptionId": conn.sub_id}]
    return None


# --- cancel-replace ---------------------------------------------------------------------------------------


def _cancel_replace(v: Venue, conn: Conn, raw: dict[str, Any], now: int) -> Any:
    """Spot ``order.cancelReplace``: cancel one order, then place a new one (the REST handlers of both).

    STOP_ON_FAILURE places nothing when the cancel fails (-2022); a failed placement after a successful
    cancel is -2021 with status 409, both errors carrying the parts' results in ``data``."""
    p = wire_params(raw)
    place_route = _METHODS["ws-api"]["order.place"]
    cancel_route = _METHODS["ws-api"]["order.cancel"]
    key = _authenticate(v, conn, place_route, p, now)
    mode = p.pop("cancelReplaceMode", "")
    if mode not in _CANCEL_REPLACE_MODES:
        raise BinanceError(
            -1102, "Mandatory parameter 'cancelReplaceMode' was not sent, was empty/null, or malformed."
        )
    cancel_p: Params = {"symbol": p.get("symbol", "")}
    for src, dst in (
        ("cancelOrderId", "orderId"),
        ("cancelOrigClientOrderId", "origClientOrderId"),
        ("cancelNewClientOrderId", "newClientOrderId"),
    ):
        if src in p:
            cancel_p[dst] = p.pop(src)
    _admit(v, conn, place_route, key, p.get("symbol", ""))  # counted as a new order up front, as Binance does
    cancel = _part(lambda: cancel_route.handler(v, key, cancel_p, now))
    if cancel[0] == "FAILURE" and mode == "STOP_ON_FAILURE":
        _cr_error(-2022, "Order cancel-replace failed.", 400, cancel, ("NOT_ATTEMPTED", None))
    placed = _part(lambda: place_route.handler(v, key, p, now))
    if cancel[0] == "SUCCESS" and placed[0] == "SUCCESS":
        return {
            "cancelResult": "SUCCESS",
            "newOrderResult": "SUCCESS",
            "cancelResponse": cancel[1],
            "newOrderResponse": placed[1],
        }
    if cancel[0] == "FAILURE" and placed[0] == "FAILURE":
        _cr_error(-2022, "Order cancel-replace failed.", 400, cancel, placed)
    _cr_error(-2021, "Order cancel-replace partially failed.", 409, cancel, placed)


def _part(run: Callable[[], Any]) -> tuple[str, Any]:
    try:
        out = run()
    except BinanceError as e:
        return "FAILURE", {"code": e.code, "msg": e.msg}
    return "SUCCESS", json.loads(out) if isinstance(out, Raw) else out


class _DataError(BinanceError):
    def __init__(self, code: int, msg: str, status: int, data: dict[str, Any]) -> None:
        super().__init__(code, msg, status)
        self.data = data


def _cr_error(code: int, msg: str, status: int, cancel: tuple[str, Any], placed: tuple[str, Any]) -> NoReturn:
    raise _DataError(
        code,
        msg,
        status,
        {
            "cancelResult": cancel[0],
            "newOrderResult": placed[0],
            "cancelResponse": cancel[1],
            "newOrderResponse": placed[1],
        },
    )


# --- framing ----------------------------------------------------------------------------------------------


def _error(rid: Any, e: BinanceError) -> dict[str, Any]:
    err: dict[str, Any] = {"code": e.code, "msg": e.msg}
    if isinstance(e, _DataError):
        err["data"] = e.data
    return {"id": rid, "status": e.status, "error": err}


def _rate_limits(v: Venue, conn: Conn) -> list[dict[str, Any]]:
    spot = conn.kind == "ws-api"
    limiter = v.spot_limiter if spot else v.futures_limiter
    used = limiter.used(conn.request.remote or "?", time.time())
    return [
        {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": "MINUTE",
            "intervalNum": 1,
            "limit": v.cfg.spot_weight_limit if spot else v.cfg.futures_weight_limit,
            "count": used,
        }
    ]
