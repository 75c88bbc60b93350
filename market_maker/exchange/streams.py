"""The market-data and user-data streams built on :class:`ws.Connection` (reference §A.6, §B.6, §C).

* :class:`MarketStream`: combined ``bookTicker`` + ``kline`` streams; reconnects on ``serverShutdown``.
* :class:`SpotUserStream`: the WebSocket API subscription ``userDataStream.subscribe.signature``
  (spot's listenKey is retired); the stream counts as connected once the subscription is acknowledged.
* :class:`FuturesUserStream`: a listenKey, kept alive every 30 minutes and recreated on -1125 or on
  ``listenKeyExpired``; the URL is rebuilt with the current key on every reconnect.

A user-data event that cannot be read is dropped with one log line, and the stream asks for a resync
from REST (a ``StreamStatus`` with ``resync``), at most once per ``RESYNC_EVERY_S`` with one more at
the end of that time when more arrived: a lost fill is found by the reconcile, a burst of garbage does
not become a burst of REST snapshots.

Callbacks run on the connection's thread and get already-normalized events (:mod:`events`).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from market_maker.core.rules import SymbolRules
from market_maker.exchange.base import MarketCallback, StatusCallback, UserCallback
from market_maker.exchange.codes import error_from_answer
from market_maker.exchange.errors import ExchangeError, ListenKeyError
from market_maker.exchange.events import MarketParser, book_ticker_texts, event_type, parse_user_event, unwrap
from market_maker.exchange.rest import RestClient
from market_maker.exchange.types import MarketDataDropped, MarketEvent, StreamStatus, UserEvent
from market_maker.exchange.ws import Connection, StreamSettings

log = logging.getLogger(__name__)

RESYNC_EVERY_S = 2.0


class _Resync:
    """Asks for a resync from REST after a dropped user event; throttled, the last request never lost."""

    def __init__(self, name: str, on_status: StatusCallback | None, every_s: float = RESYNC_EVERY_S) -> None:
        self._name = name
        self._on_status = on_status
        self._every_s = every_s
        self._lock = threading.Lock()
        self._last = -every_s
        self._timer: threading.Timer | None = None
        self._reasons: list[str] = []
        self.requested = 0  # resyncs asked for (tests, metrics)

    def request(self, reason: str) -> None:
        """Ask for a resync now, or at the end of the current quiet time if one was asked just now."""
        with self._lock:
            self._reasons.append(reason)
            wait = self._last + self._every_s - time.monotonic()
            if self._timer is not None:
                return  # one is already due: it covers this event too
            if wait > 0:
                self._timer = threading.Timer(wait, self._fire)
                self._timer.daemon = True
                self._timer.start()
                return
        self._fire()

    def _fire(self) -> None:
        with self._lock:
            self._timer = None
            self._last = time.monotonic()
            dropped, self._reasons = len(self._reasons), []
            self.requested += 1
        if self._on_status is None:
            return
        try:
            self._on_status(
                StreamStatus(self._name, True, reason=f"{dropped} unreadable event(s) dropped", resync=True)
            )
        except Exception:  # the stream must outlive a failing callback
            log.exception("%s: resync request failed", self._name)

    def stop(self) -> None:
        """Cancel a pending request (the stream is closing)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None


def _user_events(name: str, payload: Any, rules: SymbolRules, resync: _Resync) -> list[UserEvent]:
    """The payload's events; [] and a resync request when it cannot be read (one log line, no traceback)."""
    try:
        return parse_user_event(payload, rules)
    except ExchangeError as exc:
        log.warning("%s: event dropped, reconciling from REST: %s", name, exc)
        resync.request(str(exc))
        return []


class _StreamGroup:
    """One or more connections that start, stop and report as one stream."""

    name = "stream"

    def __init__(self) -> None:
        self.connections: list[Connection] = []

    def start(self) -> None:
        """Connect in the background."""
        for c in self.connections:
            c.start()

    def stop(self) -> None:
        """Close and join."""
        for c in self.connections:
            c.stop()

    def wait_connected(self, timeout_s: float) -> bool:
        """Block until every connection is ready; False on timeout."""
        deadline = time.monotonic() + timeout_s
        return all(c.wait_connected(max(0.0, deadline - time.monotonic())) for c in self.connections)

    @property
    def connected(self) -> bool:
        """True while every connection is ready."""
        return all(c.connected for c in self.connections)

    @property
    def reconnects(self) -> int:
        """Reconnects of all connections since start."""
        return sum(c.reconnects for c in self.connections)


def _constant(url: str) -> Callable[[], str]:
    return lambda: url


def _is_reply(msg: Any) -> bool:
    """An answer to a stream control request (``{"result": ..., "id": ...}`` or an error), not data."""
    return isinstance(msg, dict) and "id" in msg and ("result" in msg or "code" in msg)


class MarketStream(_StreamGroup):
    """Best bid/ask and candles of one symbol, on one connection per URL."""

    name = "market"

    def __init__(
        self,
        urls: list[str],
        rules: SymbolRules,
        on_event: MarketCallback,
        *,
        on_status: StatusCallback | None = None,
        settings: StreamSettings,
    ) -> None:
        super().__init__()
        self._parser = MarketParser(rules)
        self._on_event = on_event
        for url in urls:
            self.connections.append(
                Connection(
                    self.name,  # statuses say "market" whichever route's connection it is
                    _constant(url),
                    self._message,
                    settings,
                    on_status=on_status,
                    on_raw=self._raw,
                )
            )

    def _raw(self, conn: Connection, raw: str | bytes) -> bool | None:
        """A spot bookTicker frame read from its text (as :meth:`_message` would from its JSON); None for
        every other frame."""
        quote = self._parser.quick_quote(raw, conn.received_ns)
        if quote is not None:  # Binance's everyday frame, read by one match
            self._on_event(quote)
            return True
        texts = book_ticker_texts(raw)
        if texts is None:
            return None
        try:
            event: MarketEvent | None = self._parser.book_ticker(*texts, received_ns=conn.received_ns)
        except ExchangeError as exc:  # the receiver logs (rate-limited) and counts it
            event = MarketDataDropped(self._parser.rules.symbol, str(exc))
        if event is not None:
            self._on_event(event)
        return True

    def _message(self, conn: Connection, msg: Any) -> bool:
        if _is_reply(msg):
            return False
        payload = unwrap(msg)
        try:
            event = self._parser.parse(payload, conn.received_ns)
        except ExchangeError as exc:  # the receiver logs (rate-limited) and counts it
            event = MarketDataDropped(self._parser.rules.symbol, str(exc))
        if event is not None:
            self._on_event(event)
        elif event_type(payload) == "serverShutdown":
            conn.reconnect("serverShutdown")
        return True


class SpotUserStream(_StreamGroup):
    """Spot user data over the WebSocket API (``userDataStream.subscribe.signature``)."""

    name = "user"

    def __init__(
        self,
        ws_api_url: str,
        rest: RestClient,
        rules: SymbolRules,
        on_event: UserCallback,
        *,
        on_status: StatusCallback | None = None,
        settings: StreamSettings,
    ) -> None:
        super().__init__()
        self._rest = rest  # a fork: its own session, shared clock
        self._rules = rules
        self._on_event = on_event
        self._ids = itertools.count(1)
        self._pending: str | None = None
        self.last_error: ExchangeError | None = None
        self.resync = _Resync(self.name, on_status)
        url = ws_api_url.rstrip("/")
        if not url.endswith("/ws-api/v3"):
            url += "/ws-api/v3"
        self.connections.append(
            Connection(
                self.name,
                _constant(url),
                self._message,
                settings,
                on_open=self._subscribe,
                on_status=on_status,
                ready_on_open=False,
            )
        )

    def stop(self) -> None:
        """Close the stream and its HTTP session."""
        super().stop()
        self.resync.stop()
        self._rest.close()

    def _subscribe(self, conn: Connection) -> None:
        if self._rest.server_clock.due():
            self._rest.sync_time()
        params: dict[str, Any] = {
            "apiKey": self._rest.api_key,
            "recvWindow": self._rest.recv_window_ms,
            "timestamp": self._rest.server_clock.now_ms(),
        }
        params["signature"] = self._rest.sign_ws_api(params)
        self._pending = f"uds-{next(self._ids)}"
        conn.send_json(
            {"id": self._pending, "method": "userDataStream.subscribe.signature", "params": params}
        )

    def _message(self, conn: Connection, msg: Any) -> bool:
        if isinstance(msg, dict) and "id" in msg and "status" in msg:
            self._answer(conn, msg)
            return False
        payload = unwrap(msg)
        kind = event_type(payload)
        if kind in ("eventStreamTerminated", "serverShutdown"):
            conn.reconnect(kind)
            return True
        for event in _user_events(self.name, payload, self._rules, self.resync):
            self._on_event(event)
        return True

    def _answer(self, conn: Connection, msg: dict[str, Any]) -> None:
        if msg.get("id") != self._pending:
            return
        if msg.get("status") == 200:
            self.last_error = None
            conn.mark_ready()
            return
        err = error_from_answer(int(msg.get("status", 500)), msg.get("error"), {}, "userDataStream.subscribe")
        self.last_error = err
        log.warning("%s: subscription refused: %s", conn.name, err)
        conn.report(f"subscription refused: {err}")
        if err.code == -1021:
            self._rest.sync_time()
        conn.reconnect("subscription refused", failure=True)


class FuturesUserStream(_StreamGroup):
    """USD-M user data over a listenKey stream."""

    name = "user"

    def __init__(
        self,
        ws_url: str,
        rest: RestClient,
        listen_key_path: str,
        rules: SymbolRules,
        on_event: UserCallback,
        *,
        routed: bool = False,
        on_status: StatusCallback | None = None,
        settings: StreamSettings,
        keepalive_s: float = 30 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._ws_url = ws_url.rstrip("/")
        self._rest = rest  # a fork: its own session, shared clock and limiter
        self._path = listen_key_path
        self._rules = rules
        self._on_event = on_event
        self._routed = routed
        self._keepalive_s = keepalive_s
        self._clock = clock
        self._rest_lock = threading.Lock()  # the run and watchdog threads share the fork's session
        self._key: str | None = None
        self._kept_alive_at = 0.0
        self.keys_created = 0
        self.resync = _Resync(self.name, on_status)
        self.connections.append(
            Connection(
                self.name,
                self._url,
                self._message,
                settings,
                on_status=on_status,
                on_tick=self._keepalive,
            )
        )

    @property
    def listen_key_active(self) -> bool:
        """True while a listenKey is held."""
        return self._key is not None

    def stop(self) -> None:
        """Close the stream and give the listenKey back (best effort)."""
        super().stop()
        self.resync.stop()
        with self._rest_lock:
            if self._key is not None:
                try:
                    self._rest.request("DELETE", self._path, key=True)
                except ExchangeError as exc:
                    log.info("user: listenKey close failed: %s", exc)
                self._key = None
            self._rest.close()

    def _url(self) -> str:
        with self._rest_lock:
            if self._key is not None and self.connections and self.connections[0].failed_attempts:
                self._check_key()  # the last connect failed: a dead key is refused at the handshake
            if self._key is None:
                body = self._rest.request("POST", self._path, key=True)
                key = body.get("listenKey") if isinstance(body, dict) else None
                if not isinstance(key, str) or not key:
                    raise ExchangeError("malformed listenKey answer", endpoint=f"POST {self._path}")
                self._key = key
                self.keys_created += 1
                self._kept_alive_at = self._clock()
            key = self._key
        if self._routed:
            return f"{self._ws_url}/private/ws?listenKey={quote(key, safe='')}"
        return f"{self._ws_url}/ws/{key}"

    def _check_key(self) -> None:
        try:
            self._rest.request("PUT", self._path, key=True)
        except ListenKeyError:
            self._key = None

    def _keepalive(self, conn: Connection) -> None:
        if self._key is None or self._clock() - self._kept_alive_at < self._keepalive_s:
            return
        with self._rest_lock:
            self._kept_alive_at = self._clock()
            try:
                self._rest.request("PUT", self._path, key=True)
            except ListenKeyError:
                self._key = None  # -1125: the next connect creates a new key
                conn.reconnect("listenKey expired (-1125)")
            except ExchangeError as exc:
                log.warning("user: listenKey keepalive failed: %s", exc)

    def _message(self, conn: Connection, msg: Any) -> bool:
        if _is_reply(msg):
            return False
        payload = unwrap(msg)
        kind = event_type(payload)
        if kind == "listenKeyExpired":
            with self._rest_lock:
                self._key = None
            conn.reconnect("listenKeyExpired")
            return True
        if kind == "serverShutdown":
            conn.reconnect(kind)
            return True
        for event in _user_events(self.name, payload, self._rules, self.resync):
            self._on_event(event)
        return True
