"""Alerts: JSON POSTed to a webhook from a background thread, rate-limited per kind.

    notifier = WebhookNotifier(config.ops.webhook_url, bot_id="paper1", symbol="BTCUSDT",
                               min_interval_s=config.ops.alert_min_interval_seconds).start()
    notifier.notify(AlertKind.BREAKER_TRIP, "3 losing round trips in a row", losses=3)
    ...
    notifier.stop()   # delivers what is queued (bounded wait), then ends the thread

:meth:`WebhookNotifier.notify` never blocks and never raises: the queue is bounded (a full queue drops
the alert and counts it), delivery failures are logged (without the URL, whose path is often a
secret) and retried once. An alert of a kind sent less than ``min_interval_s`` ago is suppressed and
counted; the next one of that kind reports how many were suppressed.

Body: ``{"kind", "bot", "symbol", "message", "time" (ISO UTC), "details": {...}, "suppressed": n}``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import requests

log = logging.getLogger(__name__)


class AlertKind(StrEnum):
    """What happened."""

    BREAKER_TRIP = "breaker_trip"
    RISK_TRIGGER = "risk_trigger"
    RECONNECT_STORM = "reconnect_storm"
    START = "start"
    STOP = "stop"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


class WebhookNotifier:
    """Posts alerts to ``url`` from a daemon thread; see the module docstring for the guarantees."""

    def __init__(
        self,
        url: str,
        *,
        bot_id: str,
        symbol: str,
        min_interval_s: float = 60.0,
        queue_size: int = 100,
        timeout_s: float = 5.0,
        retry_delay_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("webhook url must start with http:// or https://")
        self._url = url
        self._where = urlsplit(url).netloc.rsplit("@", 1)[-1]  # host[:port] only, for log lines
        self.bot_id = bot_id
        self.symbol = symbol
        self.min_interval_s = min_interval_s
        self._timeout_s = timeout_s
        self._retry_delay_s = retry_delay_s
        self._clock = clock
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=queue_size)
        self._lock = threading.Lock()
        self._last: dict[AlertKind, float] = {}
        self._suppressed: dict[AlertKind, int] = {}
        self._thread: threading.Thread | None = None
        self._session = requests.Session()
        self.sent = 0
        self.failed = 0
        self.dropped = 0  # queue full
        self.suppressed_total = 0  # rate-limited

    def __repr__(self) -> str:
        return f"WebhookNotifier(host={self._where!r}, bot={self.bot_id!r})"

    def start(self) -> WebhookNotifier:
        """Start the delivery thread (returns at once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="alerts", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Deliver what is queued, waiting at most ``timeout_s``, then end the thread."""
        if self._thread is None:
            return
        with contextlib.suppress(queue.Full):  # still full after the wait: the join below is bounded
            self._queue.put(None, timeout=timeout_s)
        self._thread.join(timeout=timeout_s)
        self._thread = None
        self._session.close()

    def notify(self, kind: AlertKind | str, message: str, **details: Any) -> bool:
        """Queue one alert; False when it was rate-limited or the queue was full. Never raises."""
        try:
            kind = AlertKind(kind)
            now = self._clock()
            with self._lock:
                last = self._last.get(kind)
                if last is not None and now - last < self.min_interval_s:
                    self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
                    self.suppressed_total += 1
                    return False
                self._last[kind] = now
                suppressed = self._suppressed.pop(kind, 0)
            body = {
                "kind": kind.value,
                "bot": self.bot_id,
                "symbol": self.symbol,
                "message": message,
                "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "details": _plain(details),
                "suppressed": suppressed,
            }
            self._queue.put_nowait(body)
            return True
        except queue.Full:
            with self._lock:
                self.dropped += 1
            log.warning(
                "alert %s dropped: the alert queue is full (webhook %s slow or down)", kind, self._where
            )
            return False
        except Exception:  # an alert must never break the caller (an actor handler)
            log.exception("alert %s could not be queued", kind)
            return False

    def _run(self) -> None:
        while True:
            body = self._queue.get()
            if body is None:
                return
            self._deliver(body)

    def _deliver(self, body: dict[str, Any]) -> None:
        for attempt in (1, 2):
            try:
                response = self._session.post(self._url, json=body, timeout=self._timeout_s)
                if response.status_code < 300:
                    self.sent += 1
                    return
                problem = f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                problem = type(exc).__name__
            if attempt == 1:
                time.sleep(self._retry_delay_s)
        self.failed += 1
        log.warning("alert %s not delivered to webhook %s: %s", body["kind"], self._where, problem)


class ReconnectStormDetector:
    """True when ``threshold`` reconnects happen within ``window_s`` (then quiet until it recurs)."""

    def __init__(
        self, threshold: int = 5, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ):
        if threshold < 1 or window_s <= 0:
            raise ValueError("threshold must be >= 1 and window_s > 0")
        self.threshold = threshold
        self.window_s = window_s
        self._clock = clock
        self._times: deque[float] = deque()

    def reconnected(self) -> bool:
        """Record a reconnect; True when this one makes a storm."""
        now = self._clock()
        self._times.append(now)
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()
        if len(self._times) >= self.threshold:
            self._times.clear()
            return True
        return False
