"""Trading settings in exchange units -> the core's parameter objects (ticks, steps, ms).

One mapping for the live bot (``runtime/params.py``, from the validated configuration) and the
backtester (``backtest/core_params.py``, from its settings), so both trade the very same grid. Prices and
sizes must lie on the symbol's tick and step: an off-tick interval or off-step quantity is a
:class:`ParamsError` naming the setting, never silently rounded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from market_maker.core.grid import GridParams
from market_maker.core.interval import IntervalParams, atr_ticks_to_scaled
from market_maker.core.risk import RiskParams
from market_maker.core.rules import RuleError, SymbolRules


class ParamsError(ValueError):
    """A setting does not fit the symbol's filters (one line naming the setting)."""


@dataclass(frozen=True, slots=True)
class TradingValues:
    """The grid and risk settings in exchange units, as a user writes them."""

    price_interval: Decimal
    order_quantity: Decimal
    buy_window_size: int
    sell_window_size: int
    max_inventory: Decimal
    target_inventory: Decimal
    inventory_skew_factor: Decimal
    dynamic_interval: bool
    volatility_scale: Decimal
    min_interval: Decimal | None
    max_interval: Decimal | None
    baseline_atr: str  # "rolling" or a fixed ATR in price units
    atr_period: int
    baseline_window: int
    atr_spike_multiple: Decimal
    volume_spike_multiple: Decimal
    stale_price_seconds: Decimal | float  # seconds, not money
    max_consecutive_losses: int
    max_drawdown_pct: Decimal
    cooldown_seconds: int
    max_open_orders: int = 0  # cleanup.max_open_orders; 0: no cap


@dataclass(frozen=True, slots=True)
class CoreParams:
    """The core's view of the settings."""

    rules: SymbolRules
    grid: GridParams
    risk: RiskParams
    interval: int  # ticks: the static interval, and the dynamic one's base
    dynamic: IntervalParams | None  # None: static interval


def core_params(rules: SymbolRules, v: TradingValues, name: Callable[[str], str]) -> CoreParams:
    """Validate ``v`` against ``rules`` and convert it; ``name(field)`` is how errors call a setting."""

    def ticks(field: str, value: Decimal) -> int:
        try:
            n = rules.price_to_ticks(value)
        except RuleError:
            raise ParamsError(
                f"{name(field)}: {value} is not a multiple of the tick size {rules.tick_size}"
            ) from None
        if n <= 0:
            raise ParamsError(f"{name(field)}: {value} must be > 0")
        return n

    def steps(field: str, value: Decimal, positive: bool = True) -> int:
        try:
            n = rules.qty_to_steps(value)
        except RuleError:
            raise ParamsError(
                f"{name(field)}: {value} is not a multiple of the step size {rules.step_size}"
            ) from None
        if positive and n <= 0:
            raise ParamsError(f"{name(field)}: {value} must be > 0")
        return n

    interval = ticks("price_interval", v.price_interval)
    try:
        grid = GridParams(
            buy_window=v.buy_window_size,
            sell_window=v.sell_window_size,
            order_qty=steps("order_quantity", v.order_quantity),
            max_inventory=steps("max_inventory", v.max_inventory),
            skew_factor=v.inventory_skew_factor,
            target_inventory=steps("target_inventory", v.target_inventory, positive=False),
            max_open_orders=v.max_open_orders,
        )
        fixed = None
        if v.baseline_atr.strip().lower() != "rolling":
            fixed = atr_ticks_to_scaled(Decimal(v.baseline_atr) / rules.tick_size)
        risk = RiskParams(
            atr_period=v.atr_period,
            baseline_window=v.baseline_window,
            baseline_atr=fixed,
            atr_spike_multiple=v.atr_spike_multiple,
            volume_spike_multiple=v.volume_spike_multiple,
            stale_price_ms=int(v.stale_price_seconds * 1000),
            max_consecutive_losses=v.max_consecutive_losses,
            max_drawdown_pct=v.max_drawdown_pct,
            cooldown_ms=v.cooldown_seconds * 1000,
        )
        dynamic = None
        if v.dynamic_interval:
            lo = ticks("min_interval", v.min_interval) if v.min_interval else max(interval // 2, 1)
            hi = ticks("max_interval", v.max_interval) if v.max_interval else interval * 4
            dynamic = IntervalParams(interval, lo, hi, v.volatility_scale)
    except ParamsError:
        raise
    except (ValueError, ArithmeticError) as exc:
        raise ParamsError(f"settings do not fit {rules.symbol}: {exc}") from None
    return CoreParams(rules, grid, risk, interval, dynamic)
