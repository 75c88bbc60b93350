"""A column store of candles in integer ticks and steps, the form the backtest engine scans.

Prices are ``int64`` ticks (price / tickSize) and volume ``int64`` steps (qty / stepSize), so the
engine compares integers and can search the arrays with numpy. Times are UTC milliseconds.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

import numpy as np
import numpy.typing as npt

from market_maker.core.model import Candle

I64 = npt.NDArray[np.int64]


class DataError(ValueError):
    """Candle data that cannot be used; the message names the file and line (or entry)."""


@dataclass(frozen=True)
class Candles:
    """Consecutive candles of one symbol, as parallel ``int64`` arrays (made read-only)."""

    open_time_ms: I64
    open: I64
    high: I64
    low: I64
    close: I64
    volume: I64  # base volume in steps, rounded down
    tick_size: Decimal
    step_size: Decimal
    source: str = "<memory>"

    def __post_init__(self) -> None:
        n = len(self.open_time_ms)
        for name in ("open", "high", "low", "close", "volume"):
            if len(getattr(self, name)) != n:
                raise DataError(f"{self.source}: column {name} has {len(getattr(self, name))} rows, not {n}")
        for name in ("open_time_ms", "open", "high", "low", "close", "volume"):
            # read-only: the content hash that keys the market-series cache is computed only once
            getattr(self, name).flags.writeable = False

    def __len__(self) -> int:
        return len(self.open_time_ms)

    @cached_property
    def interval_ms(self) -> int:
        """The candle length, from the smallest step between open times (60 000 for 1m candles)."""
        if len(self) < 2:
            return 60_000
        return int(np.min(np.diff(self.open_time_ms)))

    @cached_property
    def low_high_lists(self) -> tuple[list[int], list[int]]:
        """``low`` and ``high`` as lists, for the engine's short searches (made once per data set: a
        sweep's runs share them; the arrays are read-only, so the lists stay right)."""
        return self.low.tolist(), self.high.tolist()

    @property
    def name(self) -> str:
        """The source without directories (for titles)."""
        return " + ".join(part.rsplit("/", 1)[-1] for part in self.source.split(" + "))

    def candle(self, i: int) -> Candle:
        """Candle ``i`` as the core's value type (closed)."""
        return Candle(
            open_time_ms=int(self.open_time_ms[i]),
            open=int(self.open[i]),
            high=int(self.high[i]),
            low=int(self.low[i]),
            close=int(self.close[i]),
            volume=int(self.volume[i]),
            close_time_ms=int(self.open_time_ms[i]) + self.interval_ms - 1,
            closed=True,
        )

    def slice(self, start: int, stop: int) -> Candles:
        """Candles ``start .. stop-1`` (views, no copy)."""
        return Candles(
            self.open_time_ms[start:stop],
            self.open[start:stop],
            self.high[start:stop],
            self.low[start:stop],
            self.close[start:stop],
            self.volume[start:stop],
            self.tick_size,
            self.step_size,
            self.source,
        )

    def price(self, ticks: int) -> Decimal:
        """A tick count as a Decimal price (for reports)."""
        return self.tick_size * ticks

    def qty(self, steps: int) -> Decimal:
        """A step count as a Decimal quantity (for reports)."""
        return self.step_size * steps


def concat(parts: list[Candles]) -> Candles:
    """Candles of several files in order (e.g. twelve monthly files); times must keep increasing."""
    if not parts:
        raise DataError("no candle files given")
    first = parts[0]
    for prev, part in itertools.pairwise(parts):
        if (part.tick_size, part.step_size) != (first.tick_size, first.step_size):
            raise DataError(
                f"{part.source}: tick/step {part.tick_size}/{part.step_size} differ from {first.source}"
            )
        if len(prev) and len(part) and part.open_time_ms[0] <= prev.open_time_ms[-1]:
            raise DataError(
                f"{part.source}: starts at or before the end of {prev.source}; give files in time order"
            )
    if len(parts) == 1:
        return first

    def cat(name: str) -> I64:
        return np.concatenate([getattr(p, name) for p in parts]).astype(np.int64)

    return Candles(
        cat("open_time_ms"),
        cat("open"),
        cat("high"),
        cat("low"),
        cat("close"),
        cat("volume"),
        first.tick_size,
        first.step_size,
        " + ".join(p.source for p in parts),
    )
