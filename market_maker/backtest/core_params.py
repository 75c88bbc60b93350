"""Turn backtest settings (exchange units) into the core's parameter objects (ticks, steps, ms).

The mapping is the live bot's own (``market_maker/grid_params.py``); an off-tick interval or off-step
quantity is a :class:`SettingsError` naming the setting, never silently rounded.
"""

from __future__ import annotations

from dataclasses import dataclass

from market_maker.backtest.settings import BacktestSettings, SettingsError
from market_maker.core.grid import GridParams
from market_maker.core.interval import IntervalParams
from market_maker.core.risk import RiskParams
from market_maker.core.rules import SymbolRules
from market_maker.grid_params import ParamsError, TradingValues
from market_maker.grid_params import core_params as shared_core_params


@dataclass(frozen=True)
class CoreParams:
    """The core's view of one backtest's settings."""

    rules: SymbolRules
    grid: GridParams
    risk: RiskParams
    interval: int  # ticks: the static interval, and the dynamic one's base
    dynamic: IntervalParams | None  # None: static interval
    risk_candle_ms: int = 60_000  # length of the candles the risk rules read


_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def interval_ms(text: str) -> int:
    """A Binance kline interval (``1s`` .. ``1d``) in milliseconds; SettingsError for others."""
    n, unit = text[:-1], text[-1:]
    if not n.isdigit() or unit not in _UNIT_MS or int(n) <= 0 or (unit == "d" and int(n) != 1):
        raise SettingsError(
            f"setting atr_interval: {text!r} is not a kline interval the backtester supports (1s..1d)"
        )
    return int(n) * _UNIT_MS[unit]


def core_params(s: BacktestSettings) -> CoreParams:
    """Build (and validate) the core parameters; raises :class:`SettingsError` with one line."""
    try:
        rules = SymbolRules(
            symbol=s.symbol,
            base_asset=s.base_asset,
            quote_asset=s.quote_asset,
            tick_size=s.tick_size,
            step_size=s.step_size,
            min_qty=s.min_qty,
            min_notional=s.min_notional,
        )
        values = TradingValues(
            price_interval=s.price_interval,
            order_quantity=s.order_quantity,
            buy_window_size=s.buy_window_size,
            sell_window_size=s.sell_window_size,
            max_inventory=s.max_inventory,
            target_inventory=s.target_inventory,
            inventory_skew_factor=s.inventory_skew_factor,
            dynamic_interval=s.dynamic_interval,
            volatility_scale=s.volatility_scale,
            min_interval=s.min_interval,
            max_interval=s.max_interval,
            baseline_atr=s.baseline_atr,
            atr_period=s.atr_period,
            baseline_window=s.baseline_window,
            atr_spike_multiple=s.atr_spike_multiple,
            volume_spike_multiple=s.volume_spike_multiple,
            stale_price_seconds=s.stale_price_seconds,
            max_consecutive_losses=s.max_consecutive_losses,
            max_drawdown_pct=s.max_drawdown_pct,
            cooldown_seconds=s.cooldown_seconds,
            max_open_orders=s.max_open_orders,
        )
        cp = shared_core_params(rules, values, lambda field: f"setting {field}")
    except ParamsError as exc:
        raise SettingsError(str(exc)) from None
    except (ValueError, ArithmeticError) as exc:
        raise SettingsError(f"backtest settings: {exc}") from None
    return CoreParams(cp.rules, cp.grid, cp.risk, cp.interval, cp.dynamic, interval_ms(s.atr_interval))
