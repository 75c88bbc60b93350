"""The validated configuration in the core's units (ticks, steps, ms), against the exchange's real filters.

Prices and sizes must lie on the symbol's tick and step as the *exchange* reports them: an off-tick
interval or an off-step quantity is a :class:`ParamsError` naming the key, never silently rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from market_maker.config import Config
from market_maker.core.grid import GridParams
from market_maker.core.interval import IntervalParams, atr_ticks_to_scaled
from market_maker.core.risk import RiskParams
from market_maker.core.rules import RuleError, SymbolRules


class ParamsError(ValueError):
    """A configured value does not fit the symbol's filters (one line naming the key)."""


@dataclass(frozen=True, slots=True)
class BotParams:
    """Everything the actors need from the configuration, in core units."""

    rules: SymbolRules
    grid: GridParams
    risk: RiskParams
    interval: int  # ticks: the static interval and the dynamic one's base
    dynamic: IntervalParams | None  # None: static interval
    max_position_drift: Decimal  # base asset


def _ticks(rules: SymbolRules, key: str, value: Decimal) -> int:
    try:
        ticks = rules.price_to_ticks(value)
    except RuleError:
        raise ParamsError(
            f"{key}: {value} is not a multiple of the exchange tick size {rules.tick_size}"
        ) from None
    if ticks <= 0:
        raise ParamsError(f"{key}: {value} must be > 0")
    return ticks


def _steps(rules: SymbolRules, key: str, value: Decimal, positive: bool = True) -> int:
    try:
        steps = rules.qty_to_steps(value)
    except RuleError:
        raise ParamsError(
            f"{key}: {value} is not a multiple of the exchange step size {rules.step_size}"
        ) from None
    if positive and steps <= 0:
        raise ParamsError(f"{key}: {value} must be > 0")
    return steps


def bot_params(config: Config, rules: SymbolRules) -> BotParams:
    """Map ``config`` onto ``rules``; raises :class:`ParamsError` with one line."""
    t, r = config.trading, config.risk
    interval = _ticks(rules, "trading.price_interval", t.price_interval)
    try:
        grid = GridParams(
            buy_window=t.buy_window_size,
            sell_window=t.sell_window_size,
            order_qty=_steps(rules, "trading.order_quantity", t.order_quantity),
            max_inventory=_steps(rules, "risk.max_inventory", r.max_inventory),
            skew_factor=t.inventory_skew_factor,
            target_inventory=_steps(rules, "risk.target_inventory", r.target_inventory, positive=False),
        )
        fixed = None
        if r.baseline_atr != "rolling":
            fixed = atr_ticks_to_scaled(Decimal(r.baseline_atr) / rules.tick_size)
        risk = RiskParams(
            atr_period=r.atr_period,
            baseline_window=r.baseline_window,
            baseline_atr=fixed,
            atr_spike_multiple=r.atr_spike_multiple,
            volume_spike_multiple=r.volume_spike_multiple,
            stale_price_ms=int(r.stale_price_seconds * 1000),
            max_consecutive_losses=r.max_consecutive_losses,
            max_drawdown_pct=r.max_drawdown_pct,
            cooldown_ms=r.cooldown_seconds * 1000,
        )
        dynamic = None
        if t.dynamic_interval:
            lo = (
                _ticks(rules, "risk.min_interval", r.min_interval)
                if r.min_interval
                else max(interval // 2, 1)
            )
            hi = _ticks(rules, "risk.max_interval", r.max_interval) if r.max_interval else interval * 4
            dynamic = IntervalParams(interval, lo, hi, t.volatility_scale)
    except ParamsError:
        raise
    except (ValueError, ArithmeticError) as exc:
        raise ParamsError(f"configuration does not fit {rules.symbol}: {exc}") from None
    return BotParams(rules, grid, risk, interval, dynamic, r.max_position_drift)
