"""PnL over time for the dashboard's chart: realized, unrealized and net sampled every few seconds, the
last hour kept in memory (``GET /history``), so a page opened late still shows where the run has been."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any


class PnlHistory:
    """A bounded series of PnL samples; :meth:`add` from the bot, :meth:`document` from the HTTP thread."""

    def __init__(self, every_s: float = 5.0, keep: int = 720, clock: Callable[[], float] = time.time) -> None:
        self.every_s = every_s
        self._clock = clock
        self._lock = threading.Lock()
        self._points: deque[tuple[int, Decimal, Decimal, Decimal]] = deque(maxlen=keep)
        self._last = float("-inf")

    def add(self, realized: Decimal, unrealized: Decimal, fees: Decimal) -> None:
        """Record the PnL now, unless the last sample is less than ``every_s`` old."""
        now = self._clock()
        if now - self._last < self.every_s:
            return
        self._last = now
        with self._lock:
            self._points.append((int(now * 1000), realized, unrealized, realized + unrealized - fees))

    def document(self) -> dict[str, Any]:
        """``{"pnl": [{"time_ms", "realized", "unrealized", "net"}, ...]}``, oldest first, exact strings."""
        with self._lock:
            points = list(self._points)
        return {
            "pnl": [
                {
                    "time_ms": t,
                    "realized": format(r, "f"),
                    "unrealized": format(u, "f"),
                    "net": format(n, "f"),
                }
                for t, r, u, n in points
            ]
        }
