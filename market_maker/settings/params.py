"""The configuration in the core's units: the one mapping from :class:`Config` keys to :class:`TradingParams`.

The live bot calls :func:`trading_params` with the symbol's filters as the exchange reports them; the
backtester (and the paper check) with the simulated symbol's, from the ``sim`` section
(:func:`sim_rules`). Prices and sizes must lie on the symbol's tick and step: an off-tick interval or an
off-step quantity is a :class:`ParamsError` naming the configuration key, never silently rounded.
"""

from __future__ import annotations

from decimal import Decimal

from market_maker.core.grid import GridParams
from market_maker.core.interval import IntervalParams, atr_ticks_to_scaled
from market_maker.core.params import TradingParams
from market_maker.core.risk import RiskParams
from market_maker.core.rules import RuleError, SymbolRules
from market_maker.settings.models import Config

__all__ = ["ParamsError", "kline_ms", "sim_rules", "trading_params"]

_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


class ParamsError(ValueError):
    """A setting does not fit the symbol's filters (one line naming the configuration key)."""


def kline_ms(interval: str) -> int:
    """A Binance kline interval (``1s`` .. ``1w``) in milliseconds; 0 for ``1M`` (months differ in length)."""
    n, unit = interval[:-1], interval[-1:]
    if unit == "M":
        return 0
    return int(n) * _UNIT_MS[unit]


def sim_rules(config: Config) -> SymbolRules:
    """The simulated symbol's filters: ``trading.symbol`` with the ``sim`` section's assets and filters."""
    s, symbol = config.sim, config.trading.symbol
    assets = s.assets_for(symbol)
    if assets is None:
        raise ParamsError(
            f"sim.quote_asset: cannot tell the quote asset of {symbol}:"
            " set sim.base_asset and sim.quote_asset"
        )
    return SymbolRules(
        symbol=symbol,
        base_asset=assets[0],
        quote_asset=assets[1],
        tick_size=s.tick_size,
        step_size=s.step_size,
        min_qty=s.min_qty,
        min_notional=s.min_notional,
    )


def trading_params(config: Config, rules: SymbolRules | None = None) -> TradingParams:
    """``config`` in core units against ``rules`` (None: :func:`sim_rules`); ParamsError with one line."""
    rules = sim_rules(config) if rules is None else rules
    t, r, c = config.trading, config.risk, config.cleanup

    def ticks(key: str, value: Decimal) -> int:
        try:
            n = rules.price_to_ticks(value)
        except RuleError:
            raise ParamsError(
                f"{key}: {value} is not a multiple of the tick size {rules.tick_size}"
            ) from None
        if n <= 0:
            raise ParamsError(f"{key}: {value} must be > 0")
        return n

    def steps(key: str, value: Decimal, positive: bool = True) -> int:
        try:
            n = rules.qty_to_steps(value)
        except RuleError:
            raise ParamsError(
                f"{key}: {value} is not a multiple of the step size {rules.step_size}"
            ) from None
        if positive and n <= 0:
            raise ParamsError(f"{key}: {value} must be > 0")
        return n

    interval = ticks("trading.price_interval", t.price_interval)
    grid = GridParams(
        buy_window=t.buy_window_size,
        sell_window=t.sell_window_size,
        order_qty=steps("trading.order_quantity", t.order_quantity),
        max_inventory=steps("risk.max_inventory", r.max_inventory),
        skew_factor=t.inventory_skew_factor,
        target_inventory=steps("risk.target_inventory", r.target_inventory, positive=False),
        max_open_orders=c.max_open_orders,
    )
    fixed = None
    if r.baseline_atr != "rolling":
        fixed = atr_ticks_to_scaled(Decimal(r.baseline_atr) / rules.tick_size)
        if fixed <= 0:
            raise ParamsError(f"risk.baseline_atr: {r.baseline_atr} is below the tick size {rules.tick_size}")
    risk = RiskParams(
        atr_period=r.atr_period,
        baseline_window=r.baseline_window,
        baseline_atr=fixed,
        atr_spike_multiple=r.atr_spike_multiple,
        volume_spike_multiple=r.volume_spike_multiple,
        stale_price_ms=int(Decimal(str(r.stale_price_seconds)) * 1000),
        max_consecutive_losses=r.max_consecutive_losses,
        max_drawdown_pct=r.max_drawdown_pct,
        cooldown_ms=r.cooldown_seconds * 1000,
    )
    dynamic = None
    if t.dynamic_interval:
        # unset bounds: half and four times the static interval (docs/configuration.md, risk section)
        # (the configuration checks that price_interval lies within set bounds)
        lo = max(interval // 2, 1) if r.min_interval is None else ticks("risk.min_interval", r.min_interval)
        hi = interval * 4 if r.max_interval is None else ticks("risk.max_interval", r.max_interval)
        dynamic = IntervalParams(interval, lo, hi, t.volatility_scale)
    return TradingParams(
        rules=rules,
        grid=grid,
        risk=risk,
        interval=interval,
        dynamic=dynamic,
        risk_candle_ms=kline_ms(r.atr_interval),
        stale_order_age_ms=int(Decimal(str(c.stale_order_age_seconds)) * 1000),
    )
