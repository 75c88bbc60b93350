"""One WebSocket connection that keeps itself alive until stopped (reference §C.1, field notes).

It reconnects, after a jittered exponential back-off, whenever the socket closes or errors, when the
owner asks (``serverShutdown``, a dead listenKey), when the watchdog has seen no *data* for
``stale_after_s``, and before Binance's 24-hour cut. Only data counts (the owner's handler says which
messages are data): a stalled subscription can keep answering pings and requests while it delivers
nothing, which is exactly the failure the watchdog is for. websocket-client answers the server's pings and
sends its own (a missing pong also ends the connection). After every connect the owner is told, with
``reconnect=True`` from the second one on, so it can resync state from REST.

Two threads per connection: one runs the socket, a supervisor runs the watchdog and the owner's
periodic ``on_tick`` (listenKey keepalive). No exception from websocket-client reaches the owner.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import websocket

from market_maker.exchange.errors import ExchangeError
from market_maker.exchange.types import StreamStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """Timings of a stream connection (seconds)."""

    stale_after_s: float = 30.0  # watchdog: no data for this long -> reconnect
    ping_interval_s: float = 20.0  # client pings
    ping_timeout_s: float = 10.0  # a ping unanswered this long ends the connection
    max_age_s: float = 23.5 * 3600  # reconnect before Binance's 24-hour cut
    backoff_min_s: float = 0.2
    backoff_max_s: float = 30.0
    connect_timeout_s: float = 10.0
    healthy_after_s: float = 30.0  # a connection that lived this long resets the back-off
    tick_s: float = 0.1  # supervisor period

    def with_stale(self, stale_after_s: float) -> StreamSettings:
        """A copy with another watchdog limit."""
        return dataclasses.replace(self, stale_after_s=stale_after_s)


class Connection:
    """A self-healing WebSocket: give it a URL provider and a message handler, then ``start()``.

    ``on_message`` gets each parsed JSON message and returns True when it was data (an event), False
    for answers to our own requests; only data feeds the watchdog. ``on_raw``, if given, sees each
    frame's text first and answers the same, or None to have it decoded and given to ``on_message``.
    """

    def __init__(
        self,
        name: str,
        url: Callable[[], str],
        on_message: Callable[[Connection, Any], bool],
        settings: StreamSettings,
        *,
        on_open: Callable[[Connection], None] | None = None,
        on_status: Callable[[StreamStatus], None] | None = None,
        on_tick: Callable[[Connection], None] | None = None,
        on_raw: Callable[[Connection, str | bytes], bool | None] | None = None,
        ready_on_open: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._url = url
        self._on_message = on_message
        self._on_open = on_open
        self._on_status = on_status
        self._on_tick = on_tick
        self._on_raw = on_raw  # tried first with the frame's text: None when it left the frame to JSON
        self.settings = settings
        self._ready_on_open = ready_on_open
        self._now = monotonic
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._app: websocket.WebSocketApp | None = None
        self._threads: list[threading.Thread] = []
        self._last_traffic = 0.0
        self._opened_at = 0.0
        self._connects = 0
        self._failures = 0
        self._close_reason = ""
        self._planned = False  # the current close was asked for and is not a failure
        self.reconnects = 0
        # perf_counter_ns when the frame being handled came off the socket (the owner's handler reads it)
        self.received_ns = 0

    # --- owner API -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start connecting in the background."""
        if self._threads:
            return
        self._stop.clear()
        for target, suffix in ((self._run, "ws"), (self._supervise, "watchdog")):
            t = threading.Thread(target=target, name=f"{self.name}-{suffix}", daemon=True)
            self._threads.append(t)
            t.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Close for good and join the threads."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            if t is threading.current_thread():
                continue
            # closing again until the thread ends covers a socket opened just as stop() was called
            while t.is_alive() and time.monotonic() < deadline:
                self._close_app("stopped")
                t.join(0.1)
        self._threads = []

    @property
    def failed_attempts(self) -> int:
        """Connection attempts that failed since the last good connection."""
        return self._failures

    @property
    def connected(self) -> bool:
        """True while open and ready (subscribed, where a subscription is needed)."""
        return self._ready.is_set()

    def wait_connected(self, timeout_s: float) -> bool:
        """Block until ready; False on timeout."""
        return self._ready.wait(timeout_s)

    def mark_ready(self) -> None:
        """The owner's subscription succeeded: the connection is now usable."""
        if self._ready.is_set():
            return
        self._connects += 1
        if self._connects > 1:
            self.reconnects += 1
        self._ready.set()
        self._status(True, reconnect=self._connects > 1)

    def report(self, reason: str) -> None:
        """Tell the owner why the stream is not usable (e.g. its subscription was refused)."""
        self._status(False, reason=reason)

    def reconnect(self, reason: str, *, failure: bool = False) -> None:
        """Drop the current socket; the run loop opens a new one after the back-off.

        A planned reconnect (stale data, serverShutdown, an expired key, the 24-hour cut) starts over
        at the shortest back-off; a ``failure`` (no handshake, subscription refused) escalates it.
        """
        log.info("%s: reconnecting (%s)", self.name, reason)
        self._planned = not failure
        self._close_app(reason)

    def send_json(self, obj: Any) -> bool:
        """Send one JSON text frame; False when not connected."""
        app = self._app
        if app is None or app.sock is None:
            return False
        try:
            app.send(json.dumps(obj))
        except Exception as exc:  # websocket-client raises several unrelated types here
            log.warning("%s: send failed: %s", self.name, exc)
            return False
        return True

    def send_text(self, text: str, before: Callable[[], None] | None = None) -> bool:
        """Send one text frame, built and masked here and written with one ``sendall`` under
        websocket-client's own send lock; ``before`` is called right before that write (the latency
        probe: the frame is fully encoded by then). False when not connected or the write failed.

        websocket-client's ``send`` builds the same frame through several layers (an ``ABNF`` object,
        format checks, a selector set up per write): ~70 us of cold code on the tick-to-order path."""
        app = self._app
        ws = app.sock if app is not None else None
        if ws is None or ws.sock is None:
            return False
        raw = ws.sock
        frame = text_frame(text.encode())
        try:
            with ws.lock:
                if before is not None:
                    before()
                raw.sendall(frame)
        except Exception as exc:  # OSError, SSL errors: the socket is broken, the reader ends it
            log.warning("%s: send failed: %s", self.name, exc)
            return False
        return True

    # --- internals -----------------------------------------------------------------------------------

    def _status(self, connected: bool, *, reconnect: bool = False, reason: str = "") -> None:
        if self._on_status is None:
            return
        try:
            self._on_status(StreamStatus(self.name, connected, reconnect, reason))
        except Exception:
            log.exception("%s: status callback failed", self.name)

    def _close_app(self, reason: str) -> None:
        with self._lock:
            app = self._app
            if app is not None and not self._close_reason:
                self._close_reason = reason
        if app is None:
            return
        # app.close() from another thread races the reader for the peer's close frame and can
        # hang for seconds; a close frame without waiting, then shutting the socket, ends the
        # reader at once.
        app.keep_running = False
        ws = app.sock
        if ws is None:
            return
        try:
            ws.send_close()
        except Exception as exc:  # already broken: nothing to be polite to
            log.debug("%s: close frame: %s", self.name, exc)
        raw = ws.sock
        if raw is not None:
            try:
                raw.shutdown(socket.SHUT_RDWR)
            except OSError as exc:
                log.debug("%s: shutdown: %s", self.name, exc)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                url = self._url()
            except ExchangeError as exc:
                log.warning("%s: cannot build the stream URL: %s", self.name, exc)
                self.report(f"cannot connect: {exc}")
                self._backoff()
                continue
            except Exception:  # a bug must not end the stream's thread for good
                log.exception("%s: cannot build the stream URL", self.name)
                self._backoff()
                continue
            app = websocket.WebSocketApp(
                url,
                on_open=self._handle_open,
                on_message=self._handle_message,
                on_error=self._handle_error,
            )
            with self._lock:
                if self._stop.is_set():
                    break
                self._app = app
                self._close_reason = ""
                self._planned = False
            self._last_traffic = self._now()
            self._opened_at = 0.0
            try:
                app.run_forever(
                    ping_interval=self.settings.ping_interval_s,
                    ping_timeout=self.settings.ping_timeout_s,
                    skip_utf8_validation=True,
                    reconnect=0,  # reconnection is ours: back-off, fresh URL, resync callback
                )
            except Exception as exc:  # run_forever re-raises some setup errors
                log.warning("%s: connection failed: %s", self.name, exc)
            with self._lock:
                self._app = None
                reason = self._close_reason or "closed by the server"
            was_ready = self._ready.is_set()
            self._ready.clear()
            lived = self._now() - self._opened_at if self._opened_at else 0.0
            if was_ready:
                self._status(False, reason=reason)
            if (was_ready and self._planned) or lived >= self.settings.healthy_after_s:
                self._failures = 0  # not a failing server: reconnect at once
            if not self._stop.is_set():
                self._backoff()

    def _backoff(self) -> None:
        s = self.settings
        delay = min(s.backoff_max_s, s.backoff_min_s * (2**self._failures)) * (0.5 + random.random())
        self._failures = min(self._failures + 1, 16)
        self._stop.wait(delay)

    def _supervise(self) -> None:
        s = self.settings
        while not self._stop.wait(s.tick_s):
            now = self._now()
            if self._app is not None and not self._opened_at:
                if now - self._last_traffic > s.connect_timeout_s:
                    self.reconnect(f"no handshake within {s.connect_timeout_s:g} s", failure=True)
            elif self._app is not None:
                if now - self._last_traffic > s.stale_after_s:
                    self.reconnect(f"no data for {s.stale_after_s:g} s")
                elif now - self._opened_at > s.max_age_s:
                    self.reconnect("planned reconnect before the 24-hour cut")
            if self._on_tick is not None:
                try:
                    self._on_tick(self)
                except Exception:
                    log.exception("%s: periodic task failed", self.name)

    def _handle_open(self, app: websocket.WebSocketApp) -> None:
        self._opened_at = self._last_traffic = self._now()
        if self._on_open is not None:
            try:
                self._on_open(self)
            except Exception:
                log.exception("%s: open handler failed", self.name)
                self.reconnect("open handler failed", failure=True)
                return
        if self._ready_on_open:
            self.mark_ready()

    def _handle_message(self, app: websocket.WebSocketApp, raw: str | bytes) -> None:
        # websocket-client calls this as soon as the frame's bytes are read: tick-to-order latency starts
        self.received_ns = time.perf_counter_ns()
        is_data = None if self._on_raw is None else self._handled(self._on_raw, raw)
        if is_data is None:
            try:
                # text frames arrive as bytes (UTF-8 validation is skipped); decoding here is cheaper than
                # json's own encoding detection, and invalid UTF-8 is a ValueError all the same
                msg = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
            except ValueError:
                log.warning("%s: not JSON: %.200r", self.name, raw)
                return
            except RecursionError:  # a hostile frame of any depth is one line, not the library's traceback
                log.warning("%s: frame of %d bytes nested too deeply: dropped", self.name, len(raw))
                return
            is_data = self._handled(self._on_message, msg)
        if is_data:
            self._last_traffic = self._now()

    def _handled(self, handler: Callable[[Connection, Any], bool | None], arg: Any) -> bool | None:
        """The owner's handler's answer; True (data) when it failed."""
        try:
            return handler(self, arg)
        except ExchangeError as exc:  # a malformed or impossible payload: dropped, the stream goes on
            log.warning("%s: %s", self.name, exc)
        except Exception:
            # a bad payload or a failing callback must not kill the stream
            log.exception("%s: message handler failed", self.name)
        return True

    def _handle_error(self, app: websocket.WebSocketApp, exc: BaseException) -> None:
        log.info("%s: %s: %s", self.name, type(exc).__name__, exc)


def text_frame(payload: bytes) -> bytes:
    """One final, masked client text frame (RFC 6455 §5.2) carrying ``payload``: a fresh random mask key
    per frame, as websocket-client uses (``os.urandom``)."""
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x81, 0x80 | n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x81, 0xFE, n)
    else:
        header = struct.pack("!BBQ", 0x81, 0xFF, n)
    key = os.urandom(4)
    # The XOR of websocket-client's ABNF.mask done on the bytes as they are: its two array.array copies
    # and type checks were ~7 us more of this function's cold cost on the tick-to-order path (stamped
    # 17-22 us -> 11-15 us); the byte-for-byte test against websocket-client's frame holds
    keys = (key * (n // 4 + 1))[:n]
    return (
        header
        + key
        + (int.from_bytes(payload, "little") ^ int.from_bytes(keys, "little")).to_bytes(n, "little")
    )
