"""The tape: each symbol's recent market prints, for aggTrades, the 24-hour ticker and kline trade ids.

Every path point is one market print and one aggregate trade (``a``) covering one trade id (``f == l``);
users' fills take trade ids from the same sequence (``Engine.next_trade_id``), as on Binance where they
are market trades too. The oldest prints are forgotten past ``keep``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Print:
    """One aggregate trade: ids, price (ticks), quantity (steps), time, and whether the buyer was the
    maker (the print was at or below the bid)."""

    agg_id: int
    trade_id: int
    price: int
    qty: int
    time_ms: int
    buyer_maker: bool


class Tape:
    """Recent prints of one symbol, oldest first."""

    def __init__(self, keep: int = 100_000) -> None:
        self.keep = keep
        self.prints: list[Print] = []
        self._times: list[int] = []
        self._next_agg = 1

    def add(self, trade_id: int, price: int, qty: int, time_ms: int, buyer_maker: bool) -> Print:
        """Record the next print (time order) under the next aggregate id."""
        p = Print(self._next_agg, trade_id, price, qty, time_ms, buyer_maker)
        self._next_agg += 1
        self.prints.append(p)
        self._times.append(p.time_ms)
        if len(self.prints) > self.keep + self.keep // 4:  # trim in chunks: amortised O(1)
            del self.prints[: -self.keep]
            del self._times[: -self.keep]
        return p

    @property
    def last(self) -> Print | None:
        """The latest print, if any."""
        return self.prints[-1] if self.prints else None

    def select(
        self, from_id: int | None, start_ms: int | None, end_ms: int | None, limit: int
    ) -> list[Print]:
        """aggTrades' selection: from aggregate id ``from_id`` on, or within [start, end] (the first
        ``limit`` from the start), or else the latest ``limit``."""
        if from_id is not None:
            first = self.prints[0].agg_id if self.prints else 0
            i = max(0, from_id - first)
            return self.prints[i : i + limit]
        lo = 0 if start_ms is None else bisect.bisect_left(self._times, start_ms)
        hi = len(self.prints) if end_ms is None else bisect.bisect_right(self._times, end_ms)
        if start_ms is None and end_ms is None:
            return self.prints[max(0, hi - limit) : hi]
        return self.prints[lo:hi][:limit] if start_ms is not None else self.prints[lo:hi][-limit:]

    def between(self, start_ms: int, end_ms: int) -> tuple[Print, Print] | None:
        """The first and last prints with start <= time <= end, or None."""
        lo = bisect.bisect_left(self._times, start_ms)
        hi = bisect.bisect_right(self._times, end_ms)
        return (self.prints[lo], self.prints[hi - 1]) if lo < hi else None
