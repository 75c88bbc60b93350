"""The configuration in core units: one builder, errors naming the key, every core setting from one key."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from actors.slot_base import SlotSettings
from market_maker.config import Config, config_from_mapping
from market_maker.core.params import TradingParams
from market_maker.core.rules import SymbolRules
from market_maker.settings.params import ParamsError, kline_ms, sim_rules, trading_params

AVAX = SymbolRules("AVAXUSDT", "AVAX", "USDT", Decimal("0.001"), Decimal("1"))


def _config(**sections: dict[str, Any]) -> Config:
    return config_from_mapping(sections)


def test_a_default_configuration_in_core_units() -> None:
    p = trading_params(Config())
    assert p.rules == sim_rules(Config())
    assert (p.interval, p.grid.order_qty, p.grid.max_inventory) == (1000, 100, 5000)  # 10, 0.001, 0.05
    assert (p.grid.buy_window, p.grid.sell_window, p.dynamic) == (5, 5, None)
    assert (p.risk.stale_price_ms, p.risk.cooldown_ms, p.risk.baseline_atr) == (30_000, 300_000, None)
    assert (p.risk_candle_ms, p.grid.max_open_orders, p.stale_order_age_ms) == (60_000, 50, 3_600_000)


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        (
            {"trading": {"price_interval": "0.0505"}},
            "trading.price_interval: 0.0505 is not a multiple of the tick",
        ),
        ({"trading": {"order_quantity": "1.5"}}, "trading.order_quantity: 1.5 is not a multiple of the step"),
        (
            {"risk": {"max_inventory": "20.5"}},
            "risk.max_inventory: 20.5 is not a multiple of the step size 1",
        ),
        ({"risk": {"target_inventory": "0.5"}}, "risk.target_inventory: 0.5 is not a multiple of the step"),
        (
            {"trading": {"dynamic_interval": True}, "risk": {"min_interval": "0.0105", "max_interval": 1}},
            "risk.min_interval: 0.0105 is not a multiple of the tick size 0.001",
        ),
    ],
)
def test_settings_off_the_exchanges_filters_name_their_key(sections: dict[str, Any], message: str) -> None:
    base = {"trading": {"symbol": "AVAXUSDT", "price_interval": "0.05", "order_quantity": 1}, "risk": {}}
    for name, values in sections.items():
        base[name] = {**base[name], **values}
    base["risk"].setdefault("max_inventory", 20)
    with pytest.raises(ParamsError) as info:
        trading_params(config_from_mapping({**base, "exchange": {"venue": "binance"}}), AVAX)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_dynamic_interval_bounds_default_to_half_and_four_times_the_interval() -> None:
    p = trading_params(_config(trading={"dynamic_interval": True, "price_interval": "10.01"}))
    assert p.dynamic is not None
    assert (p.dynamic.base, p.dynamic.min_interval, p.dynamic.max_interval) == (1001, 500, 4004)


def test_risk_candle_length_from_the_kline_interval() -> None:
    assert [kline_ms(i) for i in ("1s", "5m", "4h", "1d", "1w", "1M")] == [
        1_000,
        300_000,
        14_400_000,
        86_400_000,
        604_800_000,
        0,
    ]
    assert trading_params(_config(risk={"atr_interval": "15m"})).risk_candle_ms == 900_000


# --- defined once ------------------------------------------------------------------------------------

# A dynamic grid with explicit bounds, so each bound comes from its own key.
BASE: dict[str, dict[str, Any]] = {
    "trading": {"dynamic_interval": True},
    "risk": {"min_interval": 5, "max_interval": 100},
}
# One other valid value per trading setting.
CHANGED: dict[str, Any] = {
    "trading.price_interval": 20,
    "trading.order_quantity": "0.002",
    "trading.buy_window_size": 3,
    "trading.sell_window_size": 4,
    "trading.dynamic_interval": False,
    "trading.volatility_scale": 2,
    "trading.inventory_skew_factor": "0.5",
    "risk.atr_period": 20,
    "risk.atr_interval": "5m",
    "risk.baseline_atr": 50,
    "risk.baseline_window": 300,
    "risk.min_interval": 2,
    "risk.max_interval": 50,
    "risk.target_inventory": "0.01",
    "risk.max_inventory": "0.1",
    "risk.atr_spike_multiple": 4,
    "risk.volume_spike_multiple": 6,
    "risk.stale_price_seconds": 10,
    "risk.max_consecutive_losses": 3,
    "risk.max_drawdown_pct": 20,
    "risk.cooldown_seconds": 60,
    "cleanup.max_open_orders": 40,
    "cleanup.stale_order_age_seconds": 600,
}
# Keys of these sections that the shell reads, not the trading rules.
SHELL_KEYS = {
    "trading.strategy_type": "only the grid exists",
    "trading.symbol": "which symbol; its filters come from the exchange (or the sim section)",
    "risk.max_leverage": "start-up account safety",
    "risk.max_position_drift": "the slot manager's reconciliation (SlotSettings)",
    "cleanup.interval_seconds": "the cleanup's schedule (the cleanup actor's timer, the backtest's clock)",
    # the live price feed's quote guard (core.quote_check, built by actors/system.py); candles replayed
    # by the backtest come from a checked file, not a stream
    "risk.max_price_jump_pct": "the price feed's quote guard",
    "risk.price_jump_confirm_quotes": "the price feed's quote guard",
    "risk.stale_after_dropped_quotes": "the price feed's quote guard (when the feed counts as stale)",
}
# Core fields that are not settings: fixed by the core, or the exchange's filters.
NOT_SETTINGS = {"rules", "risk.volume_period", "dynamic.hysteresis"}


def _leaves(value: Any, prefix: str = "", optional: bool = False) -> dict[str, Any]:
    """Every setting of ``value`` by dotted name; an optional part (``dynamic``) also by its presence."""
    if not dataclasses.is_dataclass(value):
        return {prefix: value}
    out: dict[str, Any] = {prefix: "present"} if optional else {}
    for f in dataclasses.fields(value):
        name = f"{prefix}.{f.name}" if prefix else f.name
        if f.init and name not in NOT_SETTINGS:
            out.update(_leaves(getattr(value, f.name), name, f.default is None))
    return out


def _changed_leaves(key: str) -> set[str]:
    section, name = key.split(".")
    data = {s: dict(v) for s, v in BASE.items()}
    data.setdefault(section, {})[name] = CHANGED[key]
    before, after = (
        _leaves(trading_params(config_from_mapping(BASE))),
        _leaves(trading_params(config_from_mapping(data))),
    )
    changed = {leaf for leaf in before.keys() | after.keys() if before.get(leaf) != after.get(leaf)}
    # a sub-setting that appears or disappears with its parent is the parent's change
    return {leaf for leaf in changed if leaf.rsplit(".", 1)[0] not in changed or "." not in leaf}


def test_every_trading_setting_comes_from_exactly_one_configuration_key() -> None:
    sections = {"trading": Config().trading, "risk": Config().risk, "cleanup": Config().cleanup}
    keys = {f"{s}.{k}" for s, model in sections.items() for k in type(model).model_fields}
    assert keys == set(CHANGED) | set(SHELL_KEYS), "a new key: map it in settings/params.py, then here"
    fed_by: dict[str, list[str]] = {}
    for key in CHANGED:
        changed = _changed_leaves(key)
        assert changed, f"{key} changes nothing in TradingParams"
        for leaf in changed:
            fed_by.setdefault(leaf, []).append(key)
    leaves = set(_leaves(trading_params(config_from_mapping(BASE))))
    assert set(fed_by) == leaves, f"core settings no key feeds: {sorted(leaves - set(fed_by))}"
    # the dynamic interval's base is the static interval itself (TradingParams checks they are equal)
    shared = {leaf: feeders for leaf, feeders in fed_by.items() if len(feeders) > 1}
    assert shared == {}, shared


def test_the_core_values_defaults_are_the_configurations() -> None:
    built = trading_params(Config())
    for f in dataclasses.fields(TradingParams):
        if f.default is not dataclasses.MISSING:
            assert f.default == getattr(built, f.name), f.name
    settings = SlotSettings(Config().exchange.market, 60)
    assert settings.max_position_drift == Config().risk.max_position_drift
