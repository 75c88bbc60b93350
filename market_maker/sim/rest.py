"""The REST request pipeline shared by spot (/api) and USD-M (/fapi): faults, weights, API key,
timestamp and signature, then the endpoint handler; errors become Binance's ``{"code","msg"}``."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote_plus

from aiohttp import web

from market_maker.core.rules import SymbolRules
from market_maker.sim import wire
from market_maker.sim.auth import check_signature, check_timestamp
from market_maker.sim.engine import SPOT, BinanceError
from market_maker.sim.symbol_status import check_open
from market_maker.sim.venue import Venue

NONE, KEY, SIGNED = 0, 1, 2  # security: public, API key only (USER_STREAM), signed
Params = dict[str, str]
Handler = Callable[[Venue, str, Params, int], Any]
_NUM_RE = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
JSON = "application/json"


class Raw(str):
    """A handler result that is already JSON text."""


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint: venue, security, request weight (fixed or from params), handler, order flag."""

    venue: str
    security: int
    weight: int | Callable[[Params], int]
    handler: Handler
    places_order: bool = False


def parse_params(raw: str) -> Params:
    """A urlencoded string as a dict (the last duplicate wins); decodes only parts that need it,
    which keeps the common all-ASCII request cheap."""
    out: Params = {}
    for part in raw.split("&"):
        if not part:
            continue
        k, _, val = part.partition("=")
        if "%" in part or "+" in part:
            k, val = unquote_plus(k), unquote_plus(val)
        out[k] = val
    return out


def err(code: int, msg: str) -> BinanceError:
    """A 400 Binance error."""
    return BinanceError(code, msg)


def mandatory(p: Params, name: str) -> str:
    """A required parameter, or -1102."""
    v = p.get(name)
    if not v:
        raise err(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
    return v


def symbol_rules(v: Venue, p: Params) -> SymbolRules:
    """The ``symbol`` parameter's rules; -1102 when missing, -1121 when unknown."""
    r = v.rules.get(mandatory(p, "symbol"))
    if r is None:
        raise err(-1121, "Invalid symbol.")
    return r


def decimal_param(p: Params, name: str, venue: str, max_decimals: int = 8) -> Decimal:
    """A decimal parameter: -1100 on bad characters, -1111 on more decimals than the asset allows."""
    raw = mandatory(p, name)
    if not _NUM_RE.match(raw):
        raise err(
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range is "
            "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
        )
    try:
        d = Decimal(raw)
    except InvalidOperation:
        raise err(-1100, f"Illegal characters found in parameter '{name}'.") from None
    exp = d.normalize().as_tuple().exponent
    if isinstance(exp, int) and -exp > max_decimals:
        if venue == SPOT:
            raise err(-1111, f"Parameter '{name}' has too much precision.")
        raise err(-1111, "Precision is over the maximum defined for this asset.")
    return d


def int_param(p: Params, name: str) -> int | None:
    """An optional integer parameter; -1100 when malformed."""
    raw = p.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise err(
            -1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'."
        ) from None


def order_ref(p: Params) -> tuple[int | None, str | None]:
    """``orderId`` and/or ``origClientOrderId``; -1102 when neither is sent."""
    oid = int_param(p, "orderId")
    cid = p.get("origClientOrderId") or None
    if oid is None and cid is None:
        raise err(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
    return oid, cid


def ping(v: Venue, key: str, p: Params, now: int) -> Any:
    """GET ping."""
    return {}


def server_time(v: Venue, key: str, p: Params, now: int) -> Any:
    """GET time."""
    return {"serverTime": now}


def account_key(request: web.BaseRequest, v: Venue) -> str:
    """The API key from ``X-MBX-APIKEY``, or 401 -2015 (-2014 when missing)."""
    key = request.headers.get("X-MBX-APIKEY")
    if not key:
        raise BinanceError(-2014, "API-key format invalid.", 401)
    if key not in v.engine.accounts:
        raise BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
    return key


def error_response(e: BinanceError, headers: dict[str, str]) -> web.Response:
    """``{"code","msg"}`` with the error's HTTP status."""
    return web.Response(
        status=e.status, text=wire.dumps({"code": e.code, "msg": e.msg}), content_type=JSON, headers=headers
    )


async def dispatch(request: web.BaseRequest, v: Venue, route: Route) -> web.Response:
    """Run one REST request through faults, limits, authentication and its handler."""
    f = v.faults
    if f.latency_ms:
        await asyncio.sleep(f.latency_ms / 1000)
    query = request.rel_url.raw_query_string  # as sent: the signature covers the encoded form
    body = ""
    if request.method != "GET" and request.can_read_body:
        body = await request.text()
    params: Params = parse_params(body) if body else {}
    if query:
        params.update(parse_params(query))  # the query string wins on duplicates
    limiter = v.spot_limiter if route.venue == SPOT else v.futures_limiter
    weight = route.weight if isinstance(route.weight, int) else route.weight(params)
    now_s = time.time()
    verdict = limiter.admit(request.remote or "?", weight, now_s)
    headers = {"X-MBX-USED-WEIGHT-1M": str(verdict.used)}
    if verdict.status:
        headers["Retry-After"] = str(verdict.retry_after)
        return error_response(BinanceError(-1003, verdict.msg, verdict.status), headers)
    if f.fail_next > 0 or (f.error_rate and v.fault_rng.random() < f.error_rate):
        f.fail_next = max(0, f.fail_next - 1)
        return error_response(
            BinanceError(-1000, "An unknown error occurred while processing the request.", f.fail_status),
            headers,
        )
    now = v.now_ms()
    try:
        key = ""
        if route.security:
            key = account_key(request, v)
            if route.security == SIGNED or "signature" in params:
                check_timestamp(params, now)
                check_signature(v.engine.accounts[key].api_secret, query, body)
        if route.places_order:
            counter = v.spot_orders if route.venue == SPOT else v.futures_orders
            n = counter.add(key, now_s)
            if n is None:
                limited = BinanceError(
                    -1015, f"Too many new orders; current limit is {counter.limit} orders per 10 SECOND.", 429
                )
                return error_response(limited, headers)
            headers["X-MBX-ORDER-COUNT-10S"] = str(n)
            if f.reject_next > 0:
                f.reject_next -= 1
                raise err(-2010, "Order was rejected by the matching engine (injected fault).")
            check_open(v.symbol_status, params.get("symbol", ""))
        result = route.handler(v, key, params, now)
    except BinanceError as e:
        return error_response(e, headers)
    if route.places_order and f.timeout_next > 0:
        f.timeout_next -= 1  # accepted, but the answer never comes in time
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(v.hub.closing.wait(), f.timeout_hold_s)
        timeout = BinanceError(
            -1007,
            "Timeout waiting for response from backend server. Send status unknown; "
            "execution status unknown.",
            503 if route.venue == SPOT else 408,
        )
        return error_response(timeout, headers)
    text = result if isinstance(result, Raw) else wire.dumps(result)
    return web.Response(text=text, content_type=JSON, headers=headers)
