"""Properties: any input gives a valid Config or a ConfigError, never another exception."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market_maker.config import Config, ConfigError, config_from_mapping, dump_config, load_config
from market_maker.settings.yaml_exact import load_yaml

SECTIONS = {name: list(field.annotation.model_fields) for name, field in Config.model_fields.items()}  # type: ignore[union-attr]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "rolling",
            "grid",
            "sim",
            "binance",
            "usdm",
            "spot",
            "durable",
            "postgresql://u:p@h/d",
            "1m",
            "ISOLATED",
            "json",
            "replay",
            "0.001",
            "-1",
            "1e999999",
            "BTCUSDT",
            "127.0.0.1",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def config_dicts(draw: st.DrawFn) -> Any:
    """Mostly well-shaped section/key dicts with wild values, sometimes junk shapes and keys."""
    if draw(st.integers(0, 19)) == 0:
        return draw(values)
    data: dict[Any, Any] = {}
    for section in draw(st.lists(st.sampled_from([*SECTIONS, "junk", 3]), max_size=5, unique=True)):
        fields = SECTIONS.get(section, ["x"]) if isinstance(section, str) else ["x"]
        if draw(st.integers(0, 9)) == 0:
            data[section] = draw(values)
            continue
        keys = draw(
            st.lists(st.sampled_from([*fields, "api_key", "token", "bogus"]), max_size=4, unique=True)
        )
        data[section] = {key: draw(values) for key in keys}
    return data


env_maps = st.dictionaries(
    st.sampled_from(
        [
            "MM_TRADING__PRICE_INTERVAL",
            "MM_TRADING__BUY_WINDOW_SIZE",
            "MM_RISK__BASELINE_ATR",
            "MM_EXCHANGE__VENUE",
            "MM_EXCHANGE__API_KEY",
            "MM_SIM__BALANCES__BTC",
            "MM__X",
            "MM_TRADING__SYMBOL__DEEP",
            "MM_API_KEY",
            "MM_API_SECRET",
            "MM_OPS_TOKEN",
            "MM_NOPE__",
        ]
    ),
    st.text(max_size=10),
    max_size=4,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=config_dicts(), env=env_maps)
def test_random_input_gives_config_or_config_error(data: Any, env: dict[str, str]) -> None:
    try:
        cfg = config_from_mapping(data, env, "random.yaml")
    except ConfigError as exc:
        assert exc.errors, "a ConfigError always says what is wrong"
        assert all(line and "\n" not in line for line in exc.errors)
        return
    assert isinstance(cfg, Config)


@st.composite
def valid_variations(draw: st.DrawFn) -> dict[str, Any]:
    """Plausible configs around the defaults; some are rejected by cross-checks, that's fine."""
    price_interval = draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2))
    return {
        "trading": {
            "price_interval": price_interval,
            "order_quantity": draw(
                st.decimals(min_value=Decimal("0.00001"), max_value=Decimal("1"), places=5)
            ),
            "buy_window_size": draw(st.integers(1, 30)),
            "sell_window_size": draw(st.integers(1, 30)),
            "inventory_skew_factor": draw(st.decimals(min_value=0, max_value=1, places=3)),
        },
        "risk": {
            "max_inventory": draw(st.decimals(min_value=Decimal("0.001"), max_value=Decimal("10"), places=8))
        },
        "sim": {
            "seed": draw(st.integers(0, 2**32)),
            "start_price": draw(st.decimals(min_value=Decimal("1"), max_value=Decimal("1000000"), places=2)),
        },
        "exchange": {"market": draw(st.sampled_from(["spot", "usdm"]))},
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=valid_variations())
def test_dumped_config_reloads_identically(tmp_path: Path, data: dict[str, Any]) -> None:
    try:
        cfg = config_from_mapping(data, {})
    except ConfigError:
        return
    path = tmp_path / "dumped.yaml"
    path.write_text(dump_config(cfg), encoding="utf-8")
    assert load_config(path, {}) == cfg
    # Exact digits survive the text round trip (no float anywhere on the way).
    assert load_yaml(path.read_text())["trading"]["price_interval"] == data["trading"]["price_interval"]
