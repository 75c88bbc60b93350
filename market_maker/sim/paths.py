"""Market price paths: a seeded random walk, and a replay of kline files.

A path yields :class:`PathPoint`s (market time, price in ticks, traded base volume in steps). The
random draws are floats (statistics), but every point is quantized to whole ticks and steps, so the
engine only ever sees exact integers.
"""

from __future__ import annotations

import csv
import json
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from market_maker.core.model import Candle
from market_maker.core.rules import RuleError, SymbolRules

_MS_PER_YEAR = 365 * 86_400_000


class PathError(ValueError):
    """A kline file cannot be read; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class PathPoint:
    """One market trade print: when, at what price, how much traded there."""

    time_ms: int
    price: int  # ticks
    volume: int  # base steps


class RandomWalk:
    """Geometric random walk in ticks with two volatility regimes and Poisson jumps (seeded)."""

    def __init__(
        self,
        start_price: int,
        start_ms: int,
        seed: int,
        volatility: float,
        volatile_multiplier: float,
        regime_switch_per_hour: float,
        jumps_per_day: float,
        jump_size: float,
        volume_per_ms: float,  # mean base steps traded per market millisecond
    ) -> None:
        self.price = start_price
        self.time_ms = start_ms
        self._rng = random.Random(seed)
        self._vol = volatility
        self._mult = volatile_multiplier
        self._switch = regime_switch_per_hour / 3_600_000
        self._jumps = jumps_per_day / 86_400_000
        self._jump_size = jump_size
        self._volume_per_ms = volume_per_ms
        self.volatile = False

    def rng_state(self) -> tuple[Any, ...]:
        """The random generator's state (to save it)."""
        return self._rng.getstate()

    def set_rng_state(self, state: tuple[Any, ...]) -> None:
        """Continue from a state :meth:`rng_state` gave."""
        self._rng.setstate(state)

    def advance(self, dt_ms: int) -> list[PathPoint]:
        """Move market time on by ``dt_ms`` and return the one new point."""
        return [self.step(dt_ms)]

    def step(self, dt_ms: int = 100) -> PathPoint:
        """One point ``dt_ms`` of market time after the previous one."""
        rng = self._rng
        if rng.random() < self._switch * dt_ms:
            self.volatile = not self.volatile
        sigma = self._vol * (self._mult if self.volatile else 1.0) * math.sqrt(dt_ms / _MS_PER_YEAR)
        ret = rng.gauss(0.0, sigma)
        if rng.random() < self._jumps * dt_ms:
            ret += rng.gauss(0.0, self._jump_size)
        self.price = max(1, round(self.price * math.exp(ret)))
        self.time_ms += dt_ms
        mean = self._volume_per_ms * dt_ms
        volume = max(1, int(rng.expovariate(1.0) * mean)) if mean > 0 else 0
        return PathPoint(self.time_ms, self.price, volume)


class KlineReplay:
    """Replays candles as four points each: open, then low and high in the candle's likely order, close.

    A rising candle (close >= open) goes open→low→high→close, a falling one open→high→low→close; the
    candle's volume is split evenly over the four points. Market time is the candles' own time.
    """

    def __init__(self, candles: list[Candle]) -> None:
        if not candles:
            raise PathError("kline replay: the file holds no candles")
        self._points: list[PathPoint] = []
        for c in candles:
            dur = max(4, (c.close_time_ms + 1 - c.open_time_ms) if c.close_time_ms else 60_000)
            mid = (c.low, c.high) if c.close >= c.open else (c.high, c.low)
            prices = (c.open, mid[0], mid[1], c.close)
            share, rest = divmod(c.volume, 4)
            for i, p in enumerate(prices):
                self._points.append(
                    PathPoint(c.open_time_ms + i * dur // 4, p, share + (rest if i == 3 else 0))
                )
        self._next = 0
        self.time_ms = self._points[0].time_ms
        self.price = self._points[0].price

    @property
    def position(self) -> int:
        """How many points have been played."""
        return self._next

    @position.setter
    def position(self, n: int) -> None:
        self._next = max(0, min(n, len(self._points)))

    @property
    def finished(self) -> bool:
        """True once every point has been played."""
        return self._next >= len(self._points)

    def advance(self, dt_ms: int) -> list[PathPoint]:
        """Move market time on by ``dt_ms``; return every point that falls within it."""
        self.time_ms += dt_ms
        out = []
        while self._next < len(self._points) and self._points[self._next].time_ms <= self.time_ms:
            out.append(self._points[self._next])
            self._next += 1
        if out:
            self.price = out[-1].price
        return out

    def step(self, dt_ms: int = 0) -> PathPoint | None:
        """The next point, whatever its time; None at the end of the file."""
        if self.finished:
            return None
        p = self._points[self._next]
        self._next += 1
        self.time_ms = max(self.time_ms, p.time_ms)
        self.price = p.price
        return p


def load_klines(path: str | Path, rules: SymbolRules) -> list[Candle]:
    """Read klines from Binance's public CSV layout (with or without header) or a JSON array of
    12-field REST arrays. Microsecond open times (newer public files) are converted to ms."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise PathError(f"kline file {p}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:  # a binary file: name it, not the codec
        raise PathError(f"kline file {p}: not a text file (byte {exc.start} is not UTF-8)") from None
    rows: list[tuple[int, list]] = []
    if text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PathError(f"kline file {p}: invalid JSON at line {exc.lineno}") from None
        rows = [(i + 1, list(r)) for i, r in enumerate(data)]
    else:
        for i, r in enumerate(csv.reader(text.splitlines())):
            if not r or (i == 0 and not r[0].strip().isdigit()):
                continue  # blank line or header
            rows.append((i + 1, r))
    candles = []
    for line, r in rows:
        if len(r) < 7:
            raise PathError(f"kline file {p} line {line}: expected 12 fields, got {len(r)}")
        try:
            t_open, t_close = int(r[0]), int(r[6])
            if t_open > 10**14:  # microseconds
                t_open, t_close = t_open // 1000, t_close // 1000
            o, h, lo, c = (rules.price_to_ticks(Decimal(str(x))) for x in r[1:5])
            vol = rules.round_qty(Decimal(str(r[5])))
        except (ValueError, ArithmeticError, RuleError) as exc:
            raise PathError(f"kline file {p} line {line}: {exc}") from None
        if not lo <= min(o, c) <= max(o, c) <= h:
            raise PathError(f"kline file {p} line {line}: low/high do not bracket open/close")
        candles.append(Candle(t_open, o, h, lo, c, vol, t_close))
    if not candles:
        raise PathError(f"kline file {p}: no candles")
    return candles
