"""The validated configuration in the core's units (ticks, steps, ms), against the exchange's real filters.

Prices and sizes must lie on the symbol's tick and step as the *exchange* reports them: an off-tick
interval or an off-step quantity is a :class:`ParamsError` naming the key, never silently rounded. The
mapping itself is shared with the backtester (``market_maker/grid_params.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from market_maker.config import Config
from market_maker.core.grid import GridParams
from market_maker.core.interval import IntervalParams
from market_maker.core.risk import RiskParams
from market_maker.core.rules import SymbolRules
from market_maker.grid_params import ParamsError, TradingValues, core_params

__all__ = ["BotParams", "ParamsError", "bot_params"]


@dataclass(frozen=True, slots=True)
class BotParams:
    """Everything the actors need from the configuration, in core units."""

    rules: SymbolRules
    grid: GridParams
    risk: RiskParams
    interval: int  # ticks: the static interval and the dynamic one's base
    dynamic: IntervalParams | None  # None: static interval
    max_position_drift: Decimal  # base asset


# where each setting lives in the configuration file, for error messages
_RISK_KEYS = {"max_inventory", "target_inventory", "min_interval", "max_interval"}


def bot_params(config: Config, rules: SymbolRules) -> BotParams:
    """Map ``config`` onto the exchange's ``rules``; raises :class:`ParamsError` with one line."""
    t, r = config.trading, config.risk
    values = TradingValues(
        price_interval=t.price_interval,
        order_quantity=t.order_quantity,
        buy_window_size=t.buy_window_size,
        sell_window_size=t.sell_window_size,
        max_inventory=r.max_inventory,
        target_inventory=r.target_inventory,
        inventory_skew_factor=t.inventory_skew_factor,
        dynamic_interval=t.dynamic_interval,
        volatility_scale=t.volatility_scale,
        min_interval=r.min_interval,
        max_interval=r.max_interval,
        baseline_atr=str(r.baseline_atr),
        atr_period=r.atr_period,
        baseline_window=r.baseline_window,
        atr_spike_multiple=r.atr_spike_multiple,
        volume_spike_multiple=r.volume_spike_multiple,
        stale_price_seconds=r.stale_price_seconds,
        max_consecutive_losses=r.max_consecutive_losses,
        max_drawdown_pct=r.max_drawdown_pct,
        cooldown_seconds=r.cooldown_seconds,
        max_open_orders=config.cleanup.max_open_orders,
    )
    cp = core_params(rules, values, lambda field: f"{'risk' if field in _RISK_KEYS else 'trading'}.{field}")
    return BotParams(cp.rules, cp.grid, cp.risk, cp.interval, cp.dynamic, r.max_position_drift)
