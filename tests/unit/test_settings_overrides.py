"""``NAME=VALUE`` overrides (the backtest's --set and --sweep): key paths or lone keys, full validation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from market_maker.config import Config, ConfigError, config_from_mapping
from market_maker.settings.overrides import apply_overrides, setting_path


def test_a_key_alone_or_by_its_path() -> None:
    assert (
        setting_path("price_interval")
        == setting_path("trading.price_interval")
        == ("trading", "price_interval")
    )
    assert setting_path("tick_size") == ("sim", "tick_size")
    assert setting_path("fill_on_touch") == ("backtest", "fill_on_touch")
    assert setting_path("sim.balances.USDT") == ("sim", "balances", "USDT")


@pytest.mark.parametrize(
    ("name", "line"),
    [
        (
            "interval_seconds",
            "interval_seconds: a key of several sections: say reconcile.interval_seconds or",
        ),
        ("price_intervall", "price_intervall: unknown setting"),
        ("trading.nope", "trading.nope: unknown setting"),
        ("credentials.api_key", "credentials.api_key: unknown setting"),
        ("trading.price_interval.x", "trading.price_interval.x: unknown setting"),
    ],
)
def test_unknown_or_ambiguous_names_are_one_line(name: str, line: str) -> None:
    with pytest.raises(ConfigError) as info:
        apply_overrides(Config(), {name: "1"})
    assert len(info.value.errors) == 1 and info.value.errors[0].startswith(f"--set: {line}")


def test_values_are_validated_by_the_models_with_the_key_named() -> None:
    with pytest.raises(ConfigError) as info:
        apply_overrides(Config(), {"buy_window_size": "many", "risk.max_inventory": "-1"})
    assert sorted(line.split(":")[1].strip() for line in info.value.errors) == [
        "risk.max_inventory",
        "trading.buy_window_size",
    ]
    # rules across keys too: the interval must stay on the simulated symbol's tick
    with pytest.raises(
        ConfigError, match=r"trading\.price_interval: 0\.005 is not a multiple of sim\.tick_size"
    ):
        apply_overrides(Config(), {"price_interval": "0.005"})


def test_overrides_keep_the_rest_of_the_configuration() -> None:
    base = config_from_mapping({"trading": {"symbol": "ETHUSDT"}, "sim": {"balances": {"USDT": 7, "ETH": 2}}})
    cfg = apply_overrides(
        base, {"sim.balances.USDT": "250", "price_interval": "0.05", "dynamic_interval": "true"}
    )
    assert cfg.sim.balances == {"USDT": Decimal("250"), "ETH": Decimal("2")}
    assert (cfg.trading.symbol, cfg.trading.price_interval, cfg.trading.dynamic_interval) == (
        "ETHUSDT",
        Decimal("0.05"),
        True,
    )
    assert apply_overrides(base, {}) == base
