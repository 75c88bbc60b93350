"""One signed, rate-limited, clock-corrected REST session to a Binance market (reference §A.1-A.4).

Every parameter goes in the query string, which is built once, signed, and sent verbatim
(``url?qs&signature=...``), so the signature always covers the exact bytes the server reads. Requests
go through urllib3 (:mod:`transport`, requests' own transport, without requests' per-call work); nothing
of it escapes: transport failures become :class:`ConnectFailedError` (never sent) or
:class:`UnknownOutcomeError` (may have been executed), error answers become the typed errors of
:mod:`codes`. A 429 whose Retry-After is short (any 429 or 418 inside the limiter's ``patient``
block) is waited out and the request sent again (neither was executed); a -1021 re-measures the
server clock and is sent once more.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from market_maker.exchange.codes import error_from_answer
from market_maker.exchange.errors import (
    BannedError,
    ClockSkewError,
    ExchangeError,
    RateLimitedError,
    UnknownOutcomeError,
)
from market_maker.exchange.keys import Signer, as_signer
from market_maker.exchange.ratelimit import RateLimiter
from market_maker.exchange.signing import ParamValue, encode_params, ws_api_payload
from market_maker.exchange.timesync import ServerClock
from market_maker.exchange.transport import Transport

MAX_RECV_WINDOW_MS = 60000


class RestClient:
    """REST access to one market (spot ``/api/v3`` or USD-M ``/fapi``); owns one connection pool."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str | Signer,
        *,
        time_path: str,
        recv_window_ms: int = 5000,
        limiter: RateLimiter | None = None,
        server_clock: ServerClock | None = None,
        timeout_s: tuple[float, float] = (3.05, 10.0),
        time_refresh_s: float = 300.0,
        max_rate_limit_retries: int = 5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 < recv_window_ms <= MAX_RECV_WINDOW_MS:
            raise ValueError(f"recv_window_ms must be within 1..{MAX_RECV_WINDOW_MS}, got {recv_window_ms}")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._signer = as_signer(api_secret)  # HMAC secret, or an Ed25519/RSA private key
        self.recv_window_ms = recv_window_ms
        self.limiter = limiter or RateLimiter()
        self._time_path = time_path
        self.server_clock = server_clock or ServerClock(
            self.server_time, refresh_s=time_refresh_s, clock=clock
        )
        self._timeout = timeout_s
        self._max_retries = max_rate_limit_retries
        self._transport = Transport(self.base_url, api_key, timeout_s)
        self._time_lock = threading.Lock()
        self.sent = 0  # requests that actually went out (tests and metrics)

    def __repr__(self) -> str:  # never show the key or secret
        return f"RestClient({self.base_url!r})"

    @property
    def before_send(self) -> Callable[[str, str], None] | None:
        """Called with ``(method, path)`` on the writing thread right before a request's first bytes
        go to the socket (latency probes); must return at once."""
        return self._transport.hook.fn

    @before_send.setter
    def before_send(self, fn: Callable[[str, str], None] | None) -> None:
        self._transport.hook.fn = fn

    def fork(self) -> RestClient:
        """A client with its own connections (for another thread) sharing limiter and server clock."""
        twin = RestClient(
            self.base_url,
            self._api_key,
            self._signer,
            time_path=self._time_path,
            recv_window_ms=self.recv_window_ms,
            limiter=self.limiter,
            server_clock=self.server_clock,
            timeout_s=self._timeout,
            max_rate_limit_retries=self._max_retries,
        )
        return twin

    def close(self) -> None:
        """Close the client's connections (a later request opens a new one)."""
        self._transport.close()

    @property
    def api_key(self) -> str:
        """The API key (needed by the WebSocket API subscription); never logged."""
        return self._api_key

    @property
    def key_kind(self) -> str:
        """``hmac``, ``ed25519`` or ``rsa``: which kind of API key signs (never the key itself)."""
        return self._signer.kind

    def sign_ws_api(self, params: Mapping[str, ParamValue]) -> str:
        """Signature of a WebSocket API request's params with this client's key."""
        return self._signer.sign(ws_api_payload(params))

    # --- time ----------------------------------------------------------------------------------------

    def server_time(self) -> int:
        """The exchange's clock in ms (one unsigned request)."""
        body = self.request("GET", self._time_path, weight=1)
        try:
            return int(body["serverTime"])
        except (KeyError, TypeError, ValueError):
            raise UnknownOutcomeError("malformed server time answer", endpoint=self._time_path) from None

    def sync_time(self) -> int:
        """Measure the server-clock offset now; returns it in ms."""
        with self._time_lock:
            # through this client's own connections: a fork shares the clock, never the connections
            return self.server_clock.sync(self.server_time)

    # --- requests ------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, ParamValue | None] | None = None,
        *,
        signed: bool = False,
        key: bool = False,
        weight: int = 1,
        orders: int = 0,
        ok_codes: Collection[int] = (),
    ) -> Any:
        """Send one request and return the parsed JSON answer.

        ``signed`` adds timestamp, recvWindow and signature; ``key`` sends the API key header without
        signing (listenKey endpoints). An error answer whose code is in ``ok_codes`` ("already so")
        is returned as its body instead of raised.
        """
        # encoded once for every attempt; a signed attempt appends its own timestamp and signature
        query = encode_params({k: v for k, v in params.items() if v is not None}) if params else ""
        endpoint = f"{method} {path}"
        skew_retried = False
        attempts = 0
        while True:
            attempts += 1
            if signed and self.server_clock.due():
                self.sync_time()
            self.limiter.acquire(weight, orders)
            try:
                return self._send_once(method, path, query, signed, key or signed, endpoint, ok_codes)
            except RateLimitedError as exc:
                if attempts > self._max_retries or not self.limiter.may_wait(exc.retry_after_s):
                    raise
                # 429: the request was not executed; the limiter waits out Retry-After before the resend
            except BannedError:
                if attempts > self._max_retries or not self.limiter.is_patient():
                    raise
                # 418 during a patient start-up: the limiter waits out the ban, sending nothing meanwhile
            except ClockSkewError:
                if not signed or skew_retried:
                    raise
                skew_retried = True
                self.sync_time()

    def _send_once(
        self,
        method: str,
        path: str,
        query: str,
        signed: bool,
        with_key: bool,
        endpoint: str,
        ok_codes: Collection[int],
    ) -> Any:
        if signed:  # the same bytes encode_params gives for {..., recvWindow, timestamp}: all unreserved
            stamp = f"recvWindow={self.recv_window_ms}&timestamp={self.server_clock.now_ms()}"
            query = f"{query}&{stamp}" if query else stamp
            query = f"{query}&signature={self._signer.url_signature(query)}"
        target = f"{path}?{query}" if query else path
        self.sent += 1
        status, headers, body = self._transport.send(method, target, with_key, endpoint)
        self.limiter.observe(status, headers)
        if 200 <= status < 300:
            if not isinstance(body, dict | list):
                raise UnknownOutcomeError(
                    "unreadable answer to a successful request",
                    http_status=status,
                    endpoint=endpoint,
                )
            return body
        err: ExchangeError = error_from_answer(status, body, headers, endpoint)
        if err.code is not None and err.code in ok_codes:
            return body
        raise err
