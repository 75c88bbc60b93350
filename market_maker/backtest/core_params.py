"""Turn backtest settings (exchange units) into the core's parameter objects (ticks, steps, ms).

Prices and sizes must lie on the symbol's tick and step: an off-tick interval or off-step quantity
is a :class:`SettingsError` naming the setting, never silently rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from market_maker.backtest.settings import BacktestSettings, SettingsError
from market_maker.core.grid import GridParams
from market_maker.core.interval import IntervalParams, atr_ticks_to_scaled
from market_maker.core.risk import RiskParams
from market_maker.core.rules import RuleError, SymbolRules


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


def _ticks(rules: SymbolRules, name: str, value: Decimal) -> int:
    try:
        ticks = rules.price_to_ticks(value)
    except RuleError:
        raise SettingsError(
            f"setting {name}: {value} is not a multiple of tick_size {rules.tick_size}"
        ) from None
    if ticks <= 0:
        raise SettingsError(f"setting {name}: {value} must be > 0")
    return ticks


def _steps(rules: SymbolRules, name: str, value: Decimal, positive: bool = True) -> int:
    try:
        steps = rules.qty_to_steps(value)
    except RuleError:
        raise SettingsError(
            f"setting {name}: {value} is not a multiple of step_size {rules.step_size}"
        ) from None
    if positive and steps <= 0:
        raise SettingsError(f"setting {name}: {value} must be > 0")
    return steps


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
        interval = _ticks(rules, "price_interval", s.price_interval)
        grid = GridParams(
            buy_window=s.buy_window_size,
            sell_window=s.sell_window_size,
            order_qty=_steps(rules, "order_quantity", s.order_quantity),
            max_inventory=_steps(rules, "max_inventory", s.max_inventory),
            skew_factor=s.inventory_skew_factor,
            target_inventory=_steps(rules, "target_inventory", s.target_inventory, positive=False),
        )
        fixed = None
        if s.baseline_atr.strip().lower() != "rolling":
            fixed = atr_ticks_to_scaled(Decimal(s.baseline_atr) / rules.tick_size)
        risk = RiskParams(
            atr_period=s.atr_period,
            baseline_window=s.baseline_window,
            baseline_atr=fixed,
            atr_spike_multiple=s.atr_spike_multiple,
            volume_spike_multiple=s.volume_spike_multiple,
            stale_price_ms=int(s.stale_price_seconds * 1000),
            max_consecutive_losses=s.max_consecutive_losses,
            max_drawdown_pct=s.max_drawdown_pct,
            cooldown_ms=s.cooldown_seconds * 1000,
        )
        dynamic = None
        if s.dynamic_interval:
            lo = (
                _ticks(rules, "min_interval", s.min_interval)
                if s.min_interval is not None
                else max(interval // 2, 1)
            )
            hi = _ticks(rules, "max_interval", s.max_interval) if s.max_interval is not None else interval * 4
            dynamic = IntervalParams(interval, lo, hi, s.volatility_scale)
    except (ValueError, ArithmeticError) as exc:
        if isinstance(exc, SettingsError):
            raise
        raise SettingsError(f"backtest settings: {exc}") from None
    return CoreParams(rules, grid, risk, interval, dynamic, interval_ms(s.atr_interval))
