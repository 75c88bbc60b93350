"""The backtest's settings: the grid, risk and symbol values from the bot's config, plus the fill model.

:func:`from_config` takes them from the validated configuration (the same YAML a live bot reads);
:meth:`BacktestSettings.with_overrides` applies ``name=value`` strings (the ``--set`` and ``--sweep``
options), parsed to each field's type with a one-line error naming the field on bad input.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from market_maker.backtest.fill_model import FillModel

if TYPE_CHECKING:
    from market_maker.settings.models import Config


class SettingsError(ValueError):
    """A bad backtest setting (unknown name or unparsable value)."""


@dataclass(frozen=True)
class BacktestSettings:
    """Everything one backtest run needs besides the candles. Prices and sizes are exchange units."""

    # grid (config: trading.*)
    price_interval: Decimal = Decimal("10")
    order_quantity: Decimal = Decimal("0.001")
    buy_window_size: int = 5
    sell_window_size: int = 5
    dynamic_interval: bool = False
    volatility_scale: Decimal = Decimal(1)
    inventory_skew_factor: Decimal = Decimal(0)
    # risk (config: risk.*)
    atr_period: int = 14
    atr_interval: str = "1m"  # the candles the risk rules read (Binance kline interval, up to 1d)
    baseline_atr: str = "rolling"  # "rolling" or a price distance
    baseline_window: int = 240
    min_interval: Decimal | None = None
    max_interval: Decimal | None = None
    target_inventory: Decimal = Decimal(0)
    max_inventory: Decimal = Decimal("0.05")
    atr_spike_multiple: Decimal = Decimal(3)
    volume_spike_multiple: Decimal = Decimal(5)
    max_consecutive_losses: int = 5
    max_drawdown_pct: Decimal = Decimal(10)
    cooldown_seconds: int = 300
    stale_price_seconds: Decimal = Decimal(30)
    # cleanup (config: cleanup.*)
    max_open_orders: int = 50  # 0: no cap
    stale_order_age_seconds: Decimal = Decimal(3600)
    cleanup_interval_seconds: Decimal = Decimal(60)
    # symbol (config: trading.symbol and the sim section's filters)
    symbol: str = "BTCUSDT"
    base_asset: str = "BTC"
    quote_asset: str = "USDT"
    tick_size: Decimal = Decimal("0.01")
    step_size: Decimal = Decimal("0.00001")
    min_qty: Decimal = Decimal(0)
    min_notional: Decimal = Decimal(0)
    bot_id: str = "bt"
    # account and fill model
    initial_capital: Decimal = Decimal(10000)  # quote asset
    maker_fee: Decimal = Decimal("0.001")
    taker_fee: Decimal = Decimal("0.001")
    post_only: bool = True
    volume_share: Decimal | None = None
    fill_on_touch: bool = False

    def fill_model(self) -> FillModel:
        """The fill model these settings describe."""
        return FillModel(
            self.maker_fee, self.taker_fee, self.post_only, self.volume_share, self.fill_on_touch
        )

    def with_overrides(self, overrides: dict[str, str]) -> BacktestSettings:
        """A copy with ``name -> value text`` applied (see the module docstring)."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        changes: dict[str, Any] = {}
        for name, text in overrides.items():
            if name not in fields:
                raise SettingsError(f"unknown backtest setting {name!r} (known: {', '.join(sorted(fields))})")
            changes[name] = _parse(name, str(fields[name].type), text)
        return dataclasses.replace(self, **changes)

    def as_strings(self) -> dict[str, str]:
        """Every setting as text (for reports)."""
        return {k: "" if v is None else str(v) for k, v in dataclasses.asdict(self).items()}


def _parse(name: str, type_text: str, text: str) -> Any:
    raw = text.strip()
    optional = "None" in type_text
    if optional and raw.lower() in ("", "none", "null"):
        return None
    if type_text.startswith("bool"):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"setting {name}: {text!r} is not a boolean (true/false)")
    if type_text.startswith("int"):
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"setting {name}: {text!r} is not an integer") from None
    if type_text.startswith("Decimal"):
        try:
            d = Decimal(raw)
        except InvalidOperation:
            raise SettingsError(f"setting {name}: {text!r} is not a decimal number") from None
        if not d.is_finite():
            raise SettingsError(f"setting {name}: {text!r} is not a finite number")
        return d
    return raw


def from_config(cfg: Config) -> BacktestSettings:
    """Settings from the bot's validated configuration (trading, risk and the simulator's symbol/fees)."""
    t, r, s = cfg.trading, cfg.risk, cfg.sim
    assets = s.assets_for(t.symbol) or (t.symbol, "USDT")
    maker, taker = s.fees_for(cfg.exchange.market)
    return BacktestSettings(
        price_interval=t.price_interval,
        order_quantity=t.order_quantity,
        buy_window_size=t.buy_window_size,
        sell_window_size=t.sell_window_size,
        dynamic_interval=t.dynamic_interval,
        volatility_scale=t.volatility_scale,
        inventory_skew_factor=t.inventory_skew_factor,
        atr_period=r.atr_period,
        atr_interval=r.atr_interval,
        baseline_atr=str(r.baseline_atr),
        baseline_window=r.baseline_window,
        min_interval=r.min_interval,
        max_interval=r.max_interval,
        target_inventory=r.target_inventory,
        max_inventory=r.max_inventory,
        atr_spike_multiple=r.atr_spike_multiple,
        volume_spike_multiple=r.volume_spike_multiple,
        max_consecutive_losses=r.max_consecutive_losses,
        max_drawdown_pct=r.max_drawdown_pct,
        cooldown_seconds=r.cooldown_seconds,
        stale_price_seconds=Decimal(str(r.stale_price_seconds)),
        max_open_orders=cfg.cleanup.max_open_orders,
        stale_order_age_seconds=Decimal(str(cfg.cleanup.stale_order_age_seconds)),
        cleanup_interval_seconds=Decimal(str(cfg.cleanup.interval_seconds)),
        symbol=t.symbol,
        base_asset=assets[0],
        quote_asset=assets[1],
        tick_size=s.tick_size,
        step_size=s.step_size,
        min_qty=s.min_qty,
        min_notional=s.min_notional,
        bot_id=cfg.bot.id,
        initial_capital=s.balances.get(assets[1], Decimal(0)),
        maker_fee=maker,
        taker_fee=taker,
    )
