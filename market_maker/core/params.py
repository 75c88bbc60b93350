"""Every trading setting in the core's units, in one value: what the rules read, and nothing else.

The live bot and the backtester trade the same grid because both build this one value from the same
configuration, in one place (:func:`market_maker.settings.params.trading_params`); nothing else maps
configuration keys to core units. Prices are ticks, sizes steps, durations milliseconds.

The defaults are the configuration's (``market_maker/settings/models.py``), so a value built by hand in a
test trades as a default configuration would; ``tests/unit/test_settings_defined_once.py`` keeps the two
equal.
"""

from __future__ import annotations

from dataclasses import dataclass

from market_maker.core.grid import GridParams
from market_maker.core.interval import IntervalParams
from market_maker.core.risk import RiskParams
from market_maker.core.rules import SymbolRules


@dataclass(frozen=True, slots=True)
class TradingParams:
    """The symbol's filters, the grid (with the open-order cap), the risk rules, the interval and the
    stale-order age."""

    rules: SymbolRules
    grid: GridParams
    risk: RiskParams
    interval: int  # ticks: the static interval, and the dynamic interval's base (trading.price_interval)
    dynamic: IntervalParams | None = None  # None: the interval stays ``interval``
    risk_candle_ms: int = 60_000  # length of the candles the risk rules read (risk.atr_interval); 0: 1M
    stale_order_age_ms: int = 3_600_000  # a working order older than this is stale (cleanup.*_seconds)

    def __post_init__(self) -> None:
        if self.interval <= 0:
            raise ValueError(f"interval must be > 0 ticks, got {self.interval}")
        if self.dynamic is not None and self.dynamic.base != self.interval:
            raise ValueError(f"dynamic interval base {self.dynamic.base} is not the interval {self.interval}")
        if self.risk_candle_ms < 0:
            raise ValueError(f"risk_candle_ms must be >= 0, got {self.risk_candle_ms}")
        if self.stale_order_age_ms <= 0:
            raise ValueError(f"stale_order_age_ms must be > 0, got {self.stale_order_age_ms}")
