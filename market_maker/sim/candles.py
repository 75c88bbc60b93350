"""Klines built from the price path: 1s and 1m candles kept, longer intervals aggregated from 1m."""

from __future__ import annotations

from collections import deque

from market_maker.sim.paths import PathPoint

INTERVALS_MS: dict[str, int] = {
    "1s": 1_000,
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
}

# A candle row: [open_ms, open, high, low, close, volume_steps, quote_tick_steps, trades]; prices in
# ticks, quote as the exact integer sum of price_ticks * volume_steps (x tick x step = quote asset).
Row = list[int]


def _merge(a: Row, r: Row) -> None:
    """Fold the later row ``r`` into ``a``."""
    a[2] = max(a[2], r[2])
    a[3] = min(a[3], r[3])
    a[4] = r[4]
    a[5] += r[5]
    a[6] += r[6]
    a[7] += r[7]


def _bucket(rows: deque[Row], t0: int, p: PathPoint) -> None:
    row = [t0, p.price, p.price, p.price, p.price, p.volume, p.price * p.volume, 1]
    if rows and rows[-1][0] == t0:
        _merge(rows[-1], row)
    else:
        rows.append(row)


class CandleBook:
    """Candles of one symbol, fed point by point in time order."""

    def __init__(self, keep_1m: int = 50_000, keep_1s: int = 7_200) -> None:
        self._1s: deque[Row] = deque(maxlen=keep_1s)
        self._1m: deque[Row] = deque(maxlen=keep_1m)

    @property
    def rows_1s(self) -> deque[Row]:
        """The 1 s candles kept, oldest first."""
        return self._1s

    @rows_1s.setter
    def rows_1s(self, rows: deque[Row]) -> None:
        self._1s = rows

    @property
    def rows_1m(self) -> deque[Row]:
        """The 1 m candles kept, oldest first."""
        return self._1m

    @rows_1m.setter
    def rows_1m(self, rows: deque[Row]) -> None:
        self._1m = rows

    def add(self, p: PathPoint) -> None:
        """Account for one path point."""
        _bucket(self._1s, p.time_ms - p.time_ms % 1_000, p)
        _bucket(self._1m, p.time_ms - p.time_ms % 60_000, p)

    def klines(self, interval: str, start_ms: int | None, end_ms: int | None, limit: int) -> list[Row]:
        """Candles of ``interval`` (a key of :data:`INTERVALS_MS`) overlapping [start, end], at most
        ``limit``: the first ones from ``start_ms`` when given, else the most recent."""
        iv = INTERVALS_MS[interval]
        src = self._1s if iv == 1_000 else self._1m
        out: list[Row] = []
        for r in src:
            t0 = r[0] - r[0] % iv
            if start_ms is not None and t0 + iv <= start_ms:
                continue
            if end_ms is not None and t0 > end_ms:
                break
            if out and out[-1][0] == t0:
                _merge(out[-1], r)
            else:
                out.append([t0, *r[1:]])
        return out[:limit] if start_ms is not None else out[-limit:]

    def current(self, interval: str) -> Row | None:
        """The forming (latest) candle of ``interval``."""
        iv = INTERVALS_MS[interval]
        src = self._1s if iv == 1_000 else self._1m
        if not src:
            return None
        start = src[-1][0] - src[-1][0] % iv
        parts = []
        for r in reversed(src):
            if r[0] < start:
                break
            parts.append(r)
        parts.reverse()
        a = [start, *parts[0][1:]]
        for r in parts[1:]:
            _merge(a, r)
        return a
