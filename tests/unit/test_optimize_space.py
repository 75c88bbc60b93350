"""The optimizer's space file: what is searched, on which grid, and one-line errors naming file and key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from market_maker.backtest.optimize.space import SpaceError, load_space, parse_space
from market_maker.config import load_config

CONFIG = Path(__file__).resolve().parents[1] / "data" / "avax-backtest.yaml"


@pytest.fixture(scope="module")
def config():
    return load_config(CONFIG, {})


def _err(data: object, config) -> str:
    with pytest.raises(SpaceError) as info:
        parse_space(data, config, "space.yaml")
    msg = str(info.value)
    assert "\n" not in msg
    return msg


def test_a_price_is_searched_on_the_tick_and_texts_are_exact(config) -> None:
    space = parse_space(
        {
            "parameters": {
                "price_interval": {"low": "0.02", "high": "0.3", "log": True},
                "buy_window_size": {"low": 2, "high": 10},
                "inventory_skew_factor": {"low": "0", "high": "0.5", "step": "0.05"},
                "dynamic_interval": {},
            }
        },
        config,
    )
    interval, window, skew, dynamic = space.params
    assert (interval.kind, interval.low, interval.high, interval.unit, interval.log) == (
        "decimal",
        20,
        300,
        Decimal("0.001"),
        True,
    )
    assert interval.text(47) == "0.047"
    assert (window.kind, window.low, window.high) == ("int", 2, 10)
    assert (skew.low, skew.high, skew.text(3)) == (0, 10, "0.15")
    assert dynamic.kind == "choice" and dynamic.choices == ("false", "true")
    assert space.overrides(
        {"price_interval": 50, "buy_window_size": 4, "inventory_skew_factor": 0, "dynamic_interval": "true"}
    ) == {
        "price_interval": "0.05",
        "buy_window_size": "4",
        "inventory_skew_factor": "0",
        "dynamic_interval": "true",
    }
    assert [o.metric for o in space.objectives] == ["return_pct"]
    assert space.constraints.interval_above_break_even


def test_objectives_take_their_direction_from_the_metric(config) -> None:
    space = parse_space(
        {
            "parameters": {"buy_window_size": {"low": 2, "high": 4}},
            "objectives": ["return_pct", "max_drawdown_pct", "round_trips"],
            "constraints": {"max_drawdown_pct": 8, "min_round_trips": 30},
        },
        config,
    )
    assert [(o.metric, o.minimize) for o in space.objectives] == [
        ("return_pct", False),
        ("max_drawdown_pct", True),
        ("round_trips", False),
    ]
    assert (space.constraints.max_drawdown_pct, space.constraints.min_round_trips) == (8.0, 30)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"parameters": {"price_intervall": {"low": 1, "high": 2}}},
            "space.yaml: parameters.price_intervall: unknown setting",
        ),
        (
            {"parameters": {"buy_window_size": {"low": 5, "high": 3}}},
            "space.yaml: parameters.buy_window_size: low 5 must be below high 3",
        ),
        (
            {"parameters": {"price_interval": {"low": "0.0205", "high": "0.1"}}},
            "space.yaml: parameters.price_interval.low: 0.0205 is not a multiple of 0.001",
        ),
        (
            {"parameters": {"price_interval": {"low": 0, "high": "0.1", "log": True}}},
            "space.yaml: parameters.price_interval.low: 0: a log range starts above 0",
        ),
        (
            {"parameters": {"buy_window_size": {"low": 2, "high": 500}}},
            "space.yaml: parameters.buy_window_size.high: trading.buy_window_size",
        ),
        (
            {"parameters": {"buy_window_size": {"low": 2, "hi": 5}}},
            "space.yaml: parameters.buy_window_size.hi: unknown key",
        ),
        (
            {"parameters": {"volatility_scale": {"low": 1, "high": 2}}},
            "space.yaml: parameters.volatility_scale: needs step:",
        ),
        (
            {"parameters": {"buy_window_size": {"low": "x", "high": 5}}},
            "space.yaml: parameters.buy_window_size.low: 'x' is not a number",
        ),
        (
            {"parameters": {"buy_window_size": {"low": 2, "high": 5}}, "objectives": ["profit"]},
            "space.yaml: objectives: 'profit': choose among",
        ),
        (
            {"parameters": {"buy_window_size": {"low": 2, "high": 5}}, "constraints": {"max_dd": 3}},
            "space.yaml: constraints.max_dd: unknown",
        ),
        ({"parameters": {}}, "space.yaml: parameters:"),
        ({"parameter": {}}, "space.yaml: parameter: unknown key"),
    ],
)
def test_bad_space_is_one_line_naming_the_key(config, data: object, expected: str) -> None:
    assert _err(data, config).startswith(expected)


def test_the_file_is_named_and_bad_yaml_is_one_line(tmp_path: Path, config) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("parameters:\n  buy_window_size: {low: 2, high: [\n")
    with pytest.raises(SpaceError, match=rf"^{f}: invalid YAML"):
        load_space(f, config)
    with pytest.raises(SpaceError, match=rf"^{tmp_path / 'missing.yaml'}: cannot read"):
        load_space(tmp_path / "missing.yaml", config)
