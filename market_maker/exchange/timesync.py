"""Server-time offset for signed requests (reference §A.2, field notes "clock skew").

The offset is measured as ``serverTime - midpoint(local send, local receive)`` and is added to the
local clock when stamping ``timestamp``. It is measured at start, refreshed every ``refresh_s`` and
immediately after a -1021 answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class ServerClock:
    """Local clock corrected by the measured offset to the exchange's clock; thread-safe."""

    def __init__(
        self,
        fetch_server_ms: Callable[[], int],
        *,
        refresh_s: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetch = fetch_server_ms
        self._refresh_s = refresh_s
        self._clock = clock
        self._lock = threading.Lock()
        self._offset_ms = 0
        self._synced_at: float | None = None

    @property
    def offset_ms(self) -> int:
        """Server minus local clock, in ms (0 before the first measurement)."""
        return self._offset_ms

    def sync(self, fetch_server_ms: Callable[[], int] | None = None) -> int:
        """Measure the offset now (with ``fetch_server_ms`` when given: the caller's own session)."""
        t0 = self._clock()
        server_ms = (fetch_server_ms or self._fetch)()
        t1 = self._clock()
        offset = server_ms - round((t0 + t1) * 500)
        with self._lock:
            self._offset_ms = offset
            self._synced_at = t1
        return offset

    def due(self) -> bool:
        """True when the offset was never measured or is older than ``refresh_s``."""
        with self._lock:
            return self._synced_at is None or self._clock() - self._synced_at >= self._refresh_s

    def now_ms(self) -> int:
        """The exchange's current time, estimated locally."""
        return round(self._clock() * 1000) + self._offset_ms
