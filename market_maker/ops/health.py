"""Health of a running bot: streams fresh and the last reconcile succeeded (what ``/healthz`` reports).

The bot calls :meth:`HealthTracker.stream_message` on every stream message (cheap: one float store)
and :meth:`HealthTracker.reconcile_done` after each reconcile; the HTTP thread calls
:meth:`HealthTracker.check`. Until the first reconcile the bot is not healthy: it has not checked
the exchange's truth yet, so it must not look ready to an orchestrator; nor before every stream has
delivered its first message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Health:
    """The answer of :meth:`HealthTracker.check`: ``ok`` and, when not ok, why (one line)."""

    ok: bool
    reason: str = ""


class HealthTracker:
    """Tracks stream freshness and the last reconcile result; thread-safe."""

    def __init__(
        self,
        streams: Iterable[str] = ("market", "user"),
        stale_after_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if stale_after_s <= 0:
            raise ValueError(f"stale_after_s must be positive, got {stale_after_s}")
        self.stale_after_s = stale_after_s
        self._clock = clock
        self._lock = threading.Lock()
        started = clock()
        self._last: dict[str, float] = dict.fromkeys(streams, started)
        self._seen: set[str] = set()
        self._reconcile: tuple[bool, str, float] | None = None  # ok, error, unix time

    def stream_message(self, stream: str) -> None:
        """A message (or a pong/keep-alive the connector counts as life) arrived on ``stream``.

        Streams not named at construction are ignored: a stream that is quiet by nature (the user
        stream while nothing trades) must not make the bot unhealthy once it said hello.
        """
        now = self._clock()
        with self._lock:
            if stream not in self._last:
                return
            self._last[stream] = now
            self._seen.add(stream)

    def reconcile_done(self, ok: bool, error: str = "", at_unix_s: float | None = None) -> None:
        """Record a reconcile: ``ok`` and, on failure, the one-line ``error``."""
        with self._lock:
            self._reconcile = (ok, error, time.time() if at_unix_s is None else at_unix_s)

    def staleness(self) -> dict[str, float | None]:
        """Seconds since each stream's last message; None for a stream that never sent one."""
        now = self._clock()
        with self._lock:
            return {s: (now - t if s in self._seen else None) for s, t in self._last.items()}

    def last_reconcile(self) -> tuple[bool, str, float] | None:
        """(ok, error, Unix time) of the last reconcile, or None before the first."""
        with self._lock:
            return self._reconcile

    def check(self) -> Health:
        """Healthy while every stream is fresh and the last reconcile succeeded."""
        now = self._clock()
        problems = []
        with self._lock:
            for stream, at in sorted(self._last.items()):
                age = now - at
                if stream not in self._seen:
                    problems.append(f"{stream} stream: no message yet ({age:.1f}s since start)")
                elif age > self.stale_after_s:
                    problems.append(
                        f"{stream} stream stale: no message for {age:.1f}s (limit {self.stale_after_s:g}s)"
                    )
            if self._reconcile is None:
                problems.append("no reconcile yet")
            elif not self._reconcile[0]:
                problems.append(f"last reconcile failed: {self._reconcile[1] or 'no reason given'}")
        return Health(not problems, "; ".join(problems))
