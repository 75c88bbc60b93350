"""RestClient against a scripted HTTP server on loopback: signing on the wire, limits, errors."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from test_exchange_parse import SPOT_INFO

from market_maker.core.model import OrderStatus, Side
from market_maker.exchange import errors as e
from market_maker.exchange.ratelimit import RateLimiter
from market_maker.exchange.rest import RestClient
from market_maker.exchange.signing import sign
from market_maker.exchange.spot import SpotExchange

KEY, SECRET = "test-key-123", "test-secret-456"


class Script:
    """Answers queued per path; every request is recorded."""

    def __init__(self) -> None:
        self.answers: dict[str, list[tuple[int, Any, dict[str, str], float]]] = {}
        self.seen: list[tuple[str, str, str, dict[str, str]]] = []  # method, path, query, headers
        self.server_offset_ms = 0

    def add(
        self, path: str, status: int, body: Any, headers: dict[str, str] | None = None, delay: float = 0
    ) -> None:
        self.answers.setdefault(path, []).append((status, body, headers or {}, delay))


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self) -> None:
            parts = urlsplit(self.path)
            script.seen.append((self.command, parts.path, parts.query, dict(self.headers)))
            queue = script.answers.get(parts.path)
            status: int
            body: Any
            headers: dict[str, str]
            delay: float
            if parts.path == "/api/v3/time" and not queue:
                status, body, headers, delay = (
                    200,
                    {"serverTime": int(time.time() * 1000) + script.server_offset_ms},
                    {},
                    0.0,
                )
            elif queue:
                status, body, headers, delay = queue.pop(0) if len(queue) > 1 else queue[0]
            else:
                status, body, headers, delay = 404, {"code": -1, "msg": "no script"}, {}, 0.0
            if delay:
                time.sleep(delay)
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_DELETE = do_PUT = _answer

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    httpd.shutdown()
    httpd.server_close()


class FakeSleep:
    def __init__(self) -> None:
        self.slept: list[float] = []
        self.offset = 0.0

    def clock(self) -> float:
        return 999_980.0 + self.offset  # frozen mid-minute: the limiter's windows never roll by chance

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.offset += seconds


def client(url: str, sleeper: FakeSleep | None = None, **kw: Any) -> RestClient:
    limiter = RateLimiter(clock=sleeper.clock, sleep=sleeper) if sleeper else RateLimiter()
    return RestClient(url, KEY, SECRET, time_path="/api/v3/time", limiter=limiter, **kw)


def test_the_signature_covers_exactly_the_query_string_sent(server: tuple[str, Script]) -> None:
    url, script = server
    script.add("/api/v3/order", 200, {"orderId": 1})
    rc = client(url, recv_window_ms=7000)
    assert rc.request(
        "POST", "/api/v3/order", {"symbol": "BTCUSDT", "newClientOrderId": "mm1_B1_0"}, signed=True
    )
    method, _, query, headers = next(s for s in script.seen if s[1] == "/api/v3/order")
    assert method == "POST" and headers["X-MBX-APIKEY"] == KEY
    payload, _, signature = query.rpartition("&signature=")
    assert signature == sign(SECRET, payload)
    params = dict(parse_qsl(payload))
    assert params["recvWindow"] == "7000" and params["symbol"] == "BTCUSDT" and "timestamp" in params


def test_timestamp_carries_the_measured_server_offset(server: tuple[str, Script]) -> None:
    url, script = server
    script.server_offset_ms = -3000  # the server's clock is 3 s behind ours
    script.add("/api/v3/account", 200, {"balances": []})
    rc = client(url)
    rc.request("GET", "/api/v3/account", signed=True)
    assert -3300 < rc.server_clock.offset_ms < -2700
    _, _, query, _ = next(s for s in script.seen if s[1] == "/api/v3/account")
    sent = int(dict(parse_qsl(query))["timestamp"])
    assert abs(sent - (time.time() * 1000 - 3000)) < 1000


def test_429_is_waited_out_by_retry_after_and_sent_again(server: tuple[str, Script]) -> None:
    url, script = server
    script.add(
        "/api/v3/ticker/price",
        429,
        {"code": -1003, "msg": "Too much request weight used"},
        {"Retry-After": "2"},
    )
    script.add("/api/v3/ticker/price", 200, {"price": "1.00"})
    sleeper = FakeSleep()
    rc = client(url, sleeper)
    assert rc.request("GET", "/api/v3/ticker/price") == {"price": "1.00"}
    assert sleeper.slept and sleeper.slept[0] == pytest.approx(2, abs=0.1)
    assert len([s for s in script.seen if s[1] == "/api/v3/ticker/price"]) == 2


def test_418_raises_and_then_nothing_is_sent_during_the_ban(server: tuple[str, Script]) -> None:
    url, script = server
    script.add(
        "/api/v3/ticker/price",
        418,
        {"code": -1003, "msg": "Way too much request weight used; IP banned"},
        {"retry-after": "120"},
    )
    rc = client(url)
    with pytest.raises(e.BannedError) as info:
        rc.request("GET", "/api/v3/ticker/price")
    assert info.value.retry_after_s == 120
    hits = len(script.seen)
    with pytest.raises(e.BannedError):
        rc.request("GET", "/api/v3/ticker/price")
    assert len(script.seen) == hits


class SleeperStop(threading.Event):
    """A stop event whose waits pass on the FakeSleep clock."""

    def __init__(self, sleeper: FakeSleep) -> None:
        super().__init__()
        self.sleeper = sleeper

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.sleeper(timeout)
        return self.is_set()


@pytest.mark.parametrize(("status", "seconds"), [(418, 120), (429, 45)])
def test_a_patient_start_waits_out_a_ban_or_a_long_retry_after_and_sends_once_after_it(
    server: tuple[str, Script], status: int, seconds: int
) -> None:
    url, script = server
    refusal = {"code": -1003, "msg": "Too much request weight used"}
    script.add("/api/v3/ticker/price", status, refusal, {"Retry-After": str(seconds)})
    script.add("/api/v3/ticker/price", 200, {"price": "1.00"})
    sleeper = FakeSleep()
    rc = client(url, sleeper)
    told: list[float] = []
    with rc.limiter.patient(SleeperStop(sleeper), lambda s, why: told.append(s)):
        assert rc.request("GET", "/api/v3/ticker/price") == {"price": "1.00"}
    # the refused request and one more after the wait: nothing in between
    assert len([s for s in script.seen if s[1] == "/api/v3/ticker/price"]) == 2
    assert sleeper.offset >= seconds and told == [pytest.approx(seconds)]


def test_clock_skew_answer_resyncs_and_retries_once(server: tuple[str, Script]) -> None:
    url, script = server
    script.add(
        "/api/v3/order",
        400,
        {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."},
    )
    script.add("/api/v3/order", 200, {"orderId": 2})
    rc = client(url)
    assert rc.request("POST", "/api/v3/order", {"symbol": "X"}, signed=True) == {"orderId": 2}
    assert len([s for s in script.seen if s[1] == "/api/v3/time"]) == 2  # at start and after -1021


def test_server_error_is_an_unknown_outcome(server: tuple[str, Script]) -> None:
    url, script = server
    script.add("/api/v3/order", 503, {"code": -1000, "msg": "Unknown error, please check your request"})
    with pytest.raises(e.UnknownOutcomeError):
        client(url).request("POST", "/api/v3/order", {"symbol": "X"}, signed=True)


def test_no_answer_in_time_is_an_unknown_outcome(server: tuple[str, Script]) -> None:
    url, script = server
    script.add("/api/v3/order", 200, {"orderId": 3}, delay=1.0)
    with pytest.raises(e.UnknownOutcomeError, match="no answer in time"):
        client(url, timeout_s=(1.0, 0.2)).request("POST", "/api/v3/order", {"symbol": "X"}, signed=True)


def test_refused_connection_was_never_sent() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(e.ConnectFailedError) as info:
        client(f"http://127.0.0.1:{port}").request("GET", "/api/v3/ping")
    assert isinstance(info.value, e.RetryableError)


def test_already_so_codes_are_success_and_others_raise(server: tuple[str, Script]) -> None:
    url, script = server
    script.add("/fapi/v1/marginType", 400, {"code": -4046, "msg": "No need to change margin type."})
    rc = client(url)
    assert rc.request("POST", "/fapi/v1/marginType", signed=True, ok_codes=(-4046,))["code"] == -4046
    with pytest.raises(e.RejectedError):
        rc.request("POST", "/fapi/v1/marginType", signed=True)


def test_secrets_never_show_in_reprs_or_errors(server: tuple[str, Script]) -> None:
    url, script = server
    script.add(
        "/api/v3/account", 401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}
    )
    rc = client(url)
    with pytest.raises(e.AuthError) as info:
        rc.request("GET", "/api/v3/account", signed=True)
    for text in (repr(rc), str(info.value), repr(info.value)):
        assert KEY not in text and SECRET not in text


def test_used_weight_header_feeds_the_limiter(server: tuple[str, Script]) -> None:
    url, script = server
    script.add("/api/v3/ping", 200, {}, {"x-mbx-used-weight-1m": "1234"})
    rc = client(url, FakeSleep())
    rc.request("GET", "/api/v3/ping")
    assert rc.limiter.used("weight", 60) == 1234


def spot_on(url: str) -> SpotExchange:
    return SpotExchange(client(url), "BTCUSDT", "ws://127.0.0.1:1")


def test_an_ack_only_place_answer_becomes_a_snapshot_of_what_was_sent(server: tuple[str, Script]) -> None:
    url, script = server
    script.add("/api/v3/exchangeInfo", 200, SPOT_INFO)
    ack = {
        "symbol": "BTCUSDT",
        "orderId": 7,
        "orderListId": -1,
        "clientOrderId": "mm1_B1_0",
        "transactTime": 5,
    }
    script.add("/api/v3/order", 200, ack)
    order = spot_on(url).place(Side.BUY, 9_900_000, 100, "mm1_B1_0")
    assert (order.order_id, order.client_id, order.price, order.orig_qty) == (7, "mm1_B1_0", 9_900_000, 100)
    assert order.status is OrderStatus.NEW and order.executed_qty == 0


def test_an_unreadable_answer_to_an_accepted_order_is_an_unknown_outcome(server: tuple[str, Script]) -> None:
    url, script = server
    script.add("/api/v3/exchangeInfo", 200, SPOT_INFO)
    script.add("/api/v3/order", 200, {"unexpected": True})
    with pytest.raises(e.UnknownOutcomeError, match="accepted"):
        spot_on(url).place(Side.BUY, 9_900_000, 100, "mm1_B1_0")
