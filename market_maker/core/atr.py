"""Average True Range (Wilder) over closed candles, in ticks, with exact integer arithmetic.

Rule: the true range of a candle is ``max(high - low, |high - prev_close|, |low - prev_close|)`` (just
``high - low`` for the first candle). The first ``period`` values are averaged plainly; after that
Wilder's smoothing applies: ``avg = (avg * (period - 1) + x) / period``.

Averages are kept as fixed-point integers (``SCALE`` units per tick, rounded half up at every step), so
the result is deterministic, never a float, and each update costs a few integer operations: the
backtester calls this once per closed candle.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from market_maker.core.model import Candle

SCALE = 1_000_000  # fixed-point units per tick: ATR is exact to a millionth of a tick


def _div_half_up(num: int, den: int) -> int:
    return (2 * num + den) // (2 * den)


@dataclass(frozen=True, slots=True)
class WilderAverage:
    """A Wilder (running) average of integer samples, kept in fixed point (``value`` is x ``SCALE``)."""

    period: int
    count: int = 0
    value: int = 0  # the average x SCALE (0 until the first sample)
    warm_sum: int = 0  # plain sum of samples while count < period

    def __post_init__(self) -> None:
        if self.period < 1:
            raise ValueError(f"average period must be >= 1, got {self.period}")

    @property
    def ready(self) -> bool:
        """True once ``period`` samples have been seen."""
        return self.count >= self.period

    def update(self, sample: int) -> WilderAverage:
        """The average after one more sample."""
        n = self.count + 1
        if self.count < self.period:
            total = self.warm_sum + sample
            return WilderAverage(self.period, n, _div_half_up(total * SCALE, n), total)
        value = _div_half_up(self.value * (self.period - 1) + sample * SCALE, self.period)
        return WilderAverage(self.period, n, value, 0)

    def as_fraction(self) -> Fraction:
        """The average as an exact fraction of the sample unit."""
        return Fraction(self.value, SCALE)


def true_range(candle: Candle, prev_close: int | None) -> int:
    """Wilder's true range of one candle, in ticks."""
    if prev_close is None:
        return candle.high - candle.low
    return max(candle.high, prev_close) - min(candle.low, prev_close)


@dataclass(frozen=True, slots=True)
class AtrState:
    """ATR of one period over the closed candles seen so far (``avg.value`` is ticks x ``SCALE``)."""

    avg: WilderAverage
    prev_close: int | None = None

    @classmethod
    def start(cls, period: int) -> AtrState:
        """An empty ATR of ``period`` candles."""
        return cls(WilderAverage(period))

    @property
    def ready(self) -> bool:
        """True once a full period of candles has been seen."""
        return self.avg.ready

    @property
    def scaled(self) -> int:
        """The ATR in ticks x ``SCALE``."""
        return self.avg.value

    def update(self, candle: Candle) -> AtrState:
        """The ATR after one more closed candle (callers must not feed forming candles)."""
        return AtrState(self.avg.update(true_range(candle, self.prev_close)), candle.close)
