"""Order entry over the WebSocket API: place and cancel as ``order.place`` / ``order.cancel`` frames.

One self-healing connection (:class:`ws.Connection`) to spot's ``/ws-api/v3`` or USD-M's ``/ws-fapi/v1``.
With an Ed25519 key the connection logs on once (``session.logon``) and requests then carry only their
timestamp; with HMAC or RSA every request is signed (params sorted by name, apiKey included).

The guarantees are REST's (the caller writes the intent before calling, as for REST):

* not connected: nothing is sent, :class:`SocketDown` tells the caller to use REST;
* sent, then the answer does not come in time or the socket closes first: :class:`UnknownOutcomeError`,
  which the bot resolves by client id: the request is never sent again blindly;
* an error answer: the same typed error REST gives for that status and code.

Rate-limit budgets are REST's limiter's (one account, one IP), the clock is its server clock, and the
REST client's ``before_send`` probe is called right before a request's frame goes to the socket.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import threading
from collections.abc import Mapping
from functools import partial
from json.encoder import encode_basestring_ascii as _quoted
from typing import Any

from market_maker.exchange.codes import error_from_answer
from market_maker.exchange.errors import ClockSkewError, ExchangeError, UnknownOutcomeError
from market_maker.exchange.keys import ED25519
from market_maker.exchange.rest import RestClient
from market_maker.exchange.signing import ParamValue, wire_value
from market_maker.exchange.types import StreamStatus
from market_maker.exchange.ws import Connection, StreamSettings

log = logging.getLogger(__name__)

SPOT_PATH, USDM_PATH = "/ws-api/v3", "/ws-fapi/v1"
_NEVER_STALE_S = 10.0**9  # answers are not data: an idle order socket is healthy (pings keep it open)


_UNITS = {"SECOND": "S", "MINUTE": "M", "HOUR": "H", "DAY": "D"}


def _limit_headers(answer: dict[str, Any], error: Any, now_ms: int) -> dict[str, str]:
    """The REST headers an answer's ``rateLimits`` and an error's ``retryAfter`` stand for, so the one
    limiter reads both transports alike (``X-MBX-USED-WEIGHT-1M``, ``X-MBX-ORDER-COUNT-10S``,
    ``Retry-After``)."""
    headers: dict[str, str] = {}
    for lim in answer.get("rateLimits") or ():
        if not isinstance(lim, dict) or lim.get("interval") not in _UNITS or "count" not in lim:
            continue
        kind = {"REQUEST_WEIGHT": "USED-WEIGHT", "ORDERS": "ORDER-COUNT"}.get(str(lim.get("rateLimitType")))
        if kind is not None:
            headers[f"X-MBX-{kind}-{lim.get('intervalNum', 1)}{_UNITS[lim['interval']]}"] = str(lim["count"])
    data = error.get("data") if isinstance(error, dict) else None
    if isinstance(data, dict) and isinstance(data.get("retryAfter"), int):
        headers["Retry-After"] = str(max(0, -(-(data["retryAfter"] - now_ms) // 1000)))
    return headers


def request_text(rid: str, method: str, params: Mapping[str, str]) -> str:
    """A request's JSON text, ``{"id":..,"method":..,"params":{..}}``, every value a string as the wire
    wants it: what ``json.dumps`` gives for the same dict with compact separators, without building an
    encoder per call (~25 us of the tick-to-order path when cold)."""
    fields = ",".join(f"{_quoted(k)}:{_quoted(v)}" for k, v in params.items())
    return f'{{"id":{_quoted(rid)},"method":{_quoted(method)},"params":{{{fields}}}}}'


class SocketDown(ExchangeError):
    """The order socket is not connected: nothing was sent (use REST)."""


class _Pending:
    """One request's answer, awaited: a bare lock held until the answer (or the socket's close) comes.
    A ``threading.Event`` builds a Condition per request: ~20 us more on the tick path's cold code."""

    __slots__ = ("_gate", "answer")

    def __init__(self) -> None:
        self._gate = threading.Lock()
        self._gate.acquire()
        self.answer: dict[str, Any] | None = None  # None when done: the socket closed first

    def done(self, answer: dict[str, Any] | None = None) -> None:
        """The answer came (None: the socket closed first); a second call changes nothing."""
        if answer is not None:
            self.answer = answer
        with contextlib.suppress(RuntimeError):  # already released: an answer and the socket's close
            self._gate.release()

    def wait(self, timeout_s: float) -> bool:
        """True once done; False when ``timeout_s`` passed first."""
        return self._gate.acquire(timeout=timeout_s)


class SentRequest:
    """A request whose frame is written; its answer is awaited with :meth:`OrderSocket.answer`."""

    __slots__ = ("endpoint", "rid", "slot")

    def __init__(self, rid: str, endpoint: str) -> None:
        self.rid = rid
        self.endpoint = endpoint
        self.slot = _Pending()


class OrderSocket:
    """Requests and their answers over one WebSocket API connection (thread-safe)."""

    def __init__(
        self,
        url: str,
        rest: RestClient,
        *,
        timeout_s: float,
        settings: StreamSettings | None = None,
        name: str = "orders-ws",
    ) -> None:
        self.url = url
        self._rest = rest
        self._timeout_s = timeout_s
        self._ids = itertools.count(1)
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self._logon_id: str | None = None
        self._logged_on = False
        self.logon = rest.key_kind == ED25519  # session.logon takes only Ed25519 keys
        self.last_error: str = ""
        self.sent = 0  # requests written to the socket
        base = settings or StreamSettings()
        self.conn = Connection(
            name,
            lambda: url,
            self._message,
            dataclasses.replace(base, stale_after_s=_NEVER_STALE_S),
            on_open=self._open if self.logon else None,
            on_status=self._status,
            ready_on_open=not self.logon,
        )

    def __repr__(self) -> str:
        return f"OrderSocket({self.url!r})"

    @staticmethod
    def url_for(base: str, usdm: bool) -> str:
        """``base`` with the market's WebSocket API path (unless it already ends with it)."""
        base = base.rstrip("/")
        path = USDM_PATH if usdm else SPOT_PATH
        return base if base.endswith(path) else base + path

    def start(self) -> None:
        """Connect in the background (requests fall back to REST until it is up)."""
        self.conn.start()

    def stop(self) -> None:
        """Close the connection; requests waiting for answers end as unknown outcomes."""
        self.conn.stop()
        self._fail_all()

    @property
    def connected(self) -> bool:
        """True while the socket is open and (with an Ed25519 key) logged on."""
        return self.conn.connected

    def wait_connected(self, timeout_s: float) -> bool:
        """Block until usable; False on timeout."""
        return self.conn.wait_connected(timeout_s)

    # --- requests -------------------------------------------------------------------------------------

    def call(
        self, method: str, params: Mapping[str, ParamValue | None], endpoint: str, *, weight: int, orders: int
    ) -> Any:
        """Send one signed request and return its ``result``; a -1021 re-measures the clock and is sent
        once more (a request refused for its timestamp was not executed)."""
        try:
            return self._call_once(method, params, endpoint, weight, orders)
        except ClockSkewError:
            self._rest.sync_time()
            return self._call_once(method, params, endpoint, weight, orders)

    def send_now(
        self, method: str, params: Mapping[str, ParamValue | None], endpoint: str, *, weight: int, orders: int
    ) -> SentRequest | None:
        """Write one request's frame now, on the calling thread, when that needs no wait: the socket is
        up, the clock needs no re-measuring and the rate limits let it go at once. None when any of these
        is not so, or the write failed: nothing was sent, and :meth:`call` does it all (waiting, or
        falling back to REST). The answer is read with :meth:`answer`, on any thread."""
        rest = self._rest
        if not self.connected or rest.server_clock.due() or not rest.limiter.try_acquire(weight, orders):
            return None
        try:
            return self._write(method, params, endpoint)
        except SocketDown:
            return None

    def _call_once(
        self,
        method: str,
        params: Mapping[str, ParamValue | None],
        endpoint: str,
        weight: int,
        orders: int,
    ) -> Any:
        if not self.connected:
            raise SocketDown("order socket not connected: nothing was sent", endpoint=endpoint)
        rest = self._rest
        if rest.server_clock.due():
            rest.sync_time()
        rest.limiter.acquire(weight, orders)
        return self.answer(self._write(method, params, endpoint))

    def _write(self, method: str, params: Mapping[str, ParamValue | None], endpoint: str) -> SentRequest:
        """Stamp (and, without a logon, sign) the request and write its frame; SocketDown when the frame
        could not be written (nothing was sent). The probe is called once the frame is encoded, right
        before its bytes go to the socket."""
        rest = self._rest
        signed = {k: wire_value(v) for k, v in params.items() if v is not None}
        signed["recvWindow"] = str(rest.recv_window_ms)
        signed["timestamp"] = str(rest.server_clock.now_ms())
        if not self._logged_on:
            signed["apiKey"] = rest.api_key
            signed["signature"] = rest.sign_ws_api(signed)
        request = SentRequest(f"o{next(self._ids)}", endpoint)
        text = request_text(request.rid, method, signed)
        with self._lock:
            self._pending[request.rid] = request.slot
        try:
            probe = rest.before_send
            before = None if probe is None else partial(probe, *endpoint.split(" ", 1))
            if not self.conn.send_text(text, before):
                raise SocketDown("order socket dropped before sending: nothing was sent", endpoint=endpoint)
        except BaseException:
            with self._lock:
                self._pending.pop(request.rid, None)
            raise
        self.sent += 1
        return request

    def answer(self, request: SentRequest) -> Any:
        """Wait for the answer to a written request and return its ``result``; the typed error of an
        error answer, :class:`UnknownOutcomeError` when none came in time or the socket closed first."""
        endpoint = request.endpoint
        try:
            if not request.slot.wait(self._timeout_s):
                raise UnknownOutcomeError(
                    "no answer in time on the order socket: outcome unknown", endpoint=endpoint
                )
        finally:
            with self._lock:
                self._pending.pop(request.rid, None)
        answer = request.slot.answer
        if answer is None:
            raise UnknownOutcomeError(
                "order socket closed before the answer: outcome unknown", endpoint=endpoint
            )
        rest = self._rest
        status = int(answer.get("status", 0))
        error = answer.get("error")
        headers = _limit_headers(answer, error, rest.server_clock.now_ms())
        rest.limiter.observe(status, headers)  # counters and Retry-After, as from REST's headers
        if status == 200 and "result" in answer:
            return answer["result"]
        raise error_from_answer(status, error if isinstance(error, dict) else None, headers, endpoint)

    # --- connection events ----------------------------------------------------------------------------

    def _open(self, conn: Connection) -> None:
        rest = self._rest
        if rest.server_clock.due():
            rest.sync_time()
        params: dict[str, ParamValue] = {
            "apiKey": rest.api_key,
            "recvWindow": rest.recv_window_ms,
            "timestamp": rest.server_clock.now_ms(),
        }
        params["signature"] = rest.sign_ws_api(params)
        self._logon_id = f"logon{next(self._ids)}"
        self._logged_on = False
        conn.send_json({"id": self._logon_id, "method": "session.logon", "params": params})

    def _message(self, conn: Connection, msg: Any) -> bool:
        if not isinstance(msg, dict) or "id" not in msg:
            return False  # no events are subscribed on this connection
        rid = msg.get("id")
        if rid is not None and rid == self._logon_id:
            if msg.get("status") == 200:
                self._logged_on = True
                self.last_error = ""
                conn.mark_ready()
            else:
                error = msg.get("error") or {}
                self.last_error = f"session.logon refused: {error.get('code')} {error.get('msg')}"
                log.warning("%s: %s", conn.name, self.last_error)
                conn.reconnect("session.logon refused", failure=True)
            return False
        with self._lock:
            slot = self._pending.get(str(rid))
        if slot is not None:
            slot.done(msg)
        return False

    def _status(self, status: StreamStatus) -> None:
        if not status.connected:
            self._logged_on = False
            self._fail_all()

    def _fail_all(self) -> None:
        with self._lock:
            waiting = list(self._pending.values())
        for slot in waiting:
            slot.done()  # answer None: closed before the answer
