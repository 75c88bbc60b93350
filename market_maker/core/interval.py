"""The dynamic grid interval: wider when the market is more volatile than its baseline.

Rule: ``I = clamp(base * volatility_scale * ATR / baseline_ATR, min_interval, max_interval)``, rounded
half up to whole ticks. The ratio is computed with ``Fraction`` (never float). It is recomputed only on
closed candles, and with hysteresis: the interval changes only when the new value differs from the
current one by more than ``hysteresis`` (a fraction of the current interval), or when the new value is a
clamp bound, or when the current value lies outside the bounds. So an ATR that wobbles around a
boundary does not make the grid flap (every change cancels and re-places orders).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from market_maker.core.atr import SCALE, AtrState


def round_half_up(x: Fraction) -> int:
    """Nearest integer, ties toward +infinity (explicit, unlike Python's banker's ``round``)."""
    return (x.numerator * 2 + x.denominator) // (2 * x.denominator)


@dataclass(frozen=True, slots=True)
class IntervalParams:
    """Dynamic interval settings, all intervals in ticks."""

    base: int  # the static price_interval, ticks
    min_interval: int
    max_interval: int
    volatility_scale: Decimal = Decimal(1)
    # relative change needed before the interval moves: every change cancels the grid off the old lattice;
    # 5% moved it every ~5 candles on AVAXUSDT June 2026 (9281 times), 20% 1272 times, same PnL
    hysteresis: Decimal = Decimal("0.2")
    # exact integer forms of base * volatility_scale and hysteresis, so each candle costs integer ops only
    gain_ratio: tuple[int, int] = field(init=False, repr=False, compare=False)
    hysteresis_ratio: tuple[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 < self.min_interval <= self.max_interval:
            raise ValueError(
                f"interval bounds must satisfy 0 < min_interval <= max_interval, got "
                f"{self.min_interval}..{self.max_interval} ticks"
            )
        if self.base <= 0:
            raise ValueError(f"base interval must be > 0 ticks, got {self.base}")
        if self.volatility_scale <= 0:
            raise ValueError(f"volatility_scale must be > 0, got {self.volatility_scale}")
        if self.hysteresis < 0:
            raise ValueError(f"hysteresis must be >= 0, got {self.hysteresis}")
        gain = Fraction(self.base) * Fraction(self.volatility_scale)
        hyst = Fraction(self.hysteresis)
        object.__setattr__(self, "gain_ratio", (gain.numerator, gain.denominator))
        object.__setattr__(self, "hysteresis_ratio", (hyst.numerator, hyst.denominator))

    def clamp(self, ticks: int) -> int:
        """``ticks`` limited to ``[min_interval, max_interval]``."""
        return min(max(ticks, self.min_interval), self.max_interval)


def target_interval(atr_scaled: int, baseline_scaled: int, params: IntervalParams) -> int:
    """The clamped interval (ticks) the formula asks for; the base interval when the baseline is 0."""
    if baseline_scaled <= 0:
        return params.clamp(params.base)
    num, den = params.gain_ratio
    # round_half_up(num * atr / (den * baseline)) in integers
    return params.clamp((2 * num * atr_scaled + den * baseline_scaled) // (2 * den * baseline_scaled))


def next_interval(current: int, atr_scaled: int, baseline_scaled: int, params: IntervalParams) -> int:
    """The interval after a closed candle, given the current one (ticks) and ATR/baseline x ``SCALE``.

    Returns ``current`` unless the change passes the hysteresis rule in the module docstring.
    """
    if current != params.clamp(current):
        return params.clamp(current)
    target = target_interval(atr_scaled, baseline_scaled, params)
    if target == current:
        return current
    if target in (params.min_interval, params.max_interval):
        return target
    h_num, h_den = params.hysteresis_ratio
    if abs(target - current) * h_den > h_num * current:
        return target
    return current


def atr_ticks_to_scaled(atr_ticks: Decimal | Fraction | int) -> int:
    """A fixed baseline ATR given in ticks (e.g. from config) as ticks x ``SCALE``."""
    return round_half_up(Fraction(atr_ticks) * SCALE)


def interval_after_close(current: int, atr: AtrState, baseline_scaled: int, params: IntervalParams) -> int:
    """The interval after a candle closed: unchanged until the ATR has a full period, then the rule."""
    if not atr.ready:
        return current
    return next_interval(current, atr.scaled, baseline_scaled, params)
