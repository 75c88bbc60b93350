"""Loading configuration: exact numbers, defaults, env overrides, one-line errors naming the key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from market_maker.config import Config, ConfigError, config_from_mapping, dump_config, load_config
from market_maker.core.model import Market

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(path: Path | None, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, env or {})
    return info.value.errors


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "config").glob("*.yaml")))
def test_shipped_configs_are_valid(name: str) -> None:
    cfg = load_config(REPO / "config" / name, {})
    assert isinstance(cfg, Config)


def test_default_yaml_is_a_paper_setup_on_the_simulator() -> None:
    cfg = load_config(REPO / "config" / "default.yaml", {})
    assert cfg.exchange.venue == "sim"
    assert cfg.trading.symbol == "BTCUSDT"
    notional = cfg.trading.order_quantity * (
        cfg.sim.start_price - cfg.trading.buy_window_size * cfg.trading.price_interval
    )
    assert notional >= cfg.sim.min_notional


def test_decimals_keep_their_exact_text(tmp_path: Path) -> None:
    # 0.30000000000000001 is 0.3 as a float; the config must keep every digit.
    path = write(
        tmp_path,
        "trading:\n  price_interval: 0.30000000000000001\n  order_quantity: 0.00100\n"
        "sim:\n  tick_size: 0.00000000000000001\n  min_notional: 0\n",
    )
    cfg = load_config(path, {})
    assert cfg.trading.price_interval == Decimal("0.30000000000000001")
    assert str(cfg.trading.order_quantity) == "0.00100"


def test_leading_zero_integer_is_not_octal(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "trading:\n  buy_window_size: 010\n"), {})
    assert cfg.trading.buy_window_size == 10


def test_no_file_gives_the_model_defaults() -> None:
    cfg = load_config(None, {})
    assert cfg == Config()
    assert cfg.exchange.market is Market.SPOT and cfg.bot.id == "mm1"


@pytest.mark.parametrize(
    ("yaml_text", "key", "shown"),
    [
        ("trading:\n  colour: blue\n", "trading.colour", "unknown key"),
        ("trading:\n  price_interval: -10\n", "trading.price_interval", "-10"),
        ("trading:\n  order_quantity: lots\n", "trading.order_quantity", "'lots'"),
        ("trading:\n  buy_window_size: 0\n", "trading.buy_window_size", "0"),
        ("bot:\n  id: my-bot!\n", "bot.id", "'my-bot!'"),
        ("exchange:\n  recv_window_ms: 70000\n", "exchange.recv_window_ms", "70000"),
        ("risk:\n  atr_interval: 2m\n", "risk.atr_interval", "'2m'"),
        ("risk:\n  max_drawdown_pct: 150\n", "risk.max_drawdown_pct", "150"),
        ("ops:\n  log_format: xml\n", "ops.log_format", "'xml'"),
    ],
)
def test_bad_value_gives_one_line_naming_file_key_and_value(
    tmp_path: Path, yaml_text: str, key: str, shown: str
) -> None:
    path = write(tmp_path, yaml_text)
    errors = errors_of(path)
    assert len(errors) == 1
    line = errors[0]
    assert "\n" not in line
    assert line.startswith(f"{path}: {key}: ")
    assert shown in line


def test_unknown_key_lists_the_allowed_keys(tmp_path: Path) -> None:
    [line] = errors_of(write(tmp_path, "bot:\n  name: x\n"))
    assert "bot.name: unknown key" in line and "id, cancel_on_exit" in line


def test_every_error_is_reported_not_just_the_first(tmp_path: Path) -> None:
    path = write(
        tmp_path, "trading:\n  price_interval: 0\n  order_quantity: x\n  sell_window_size: 0\nfoo: 1\n"
    )
    keys = {line.split(": ")[1] for line in errors_of(path)}
    assert keys == {"trading.price_interval", "trading.order_quantity", "trading.sell_window_size", "foo"}


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("trading: [1, 2\n", "invalid YAML: line"),
        ("trading:\n  symbol: BTCUSDT\n  symbol: ETHUSDT\n", "duplicate key 'symbol'"),
        ("- just\n- a list\n", "top level must be a mapping"),
    ],
)
def test_unparseable_file_is_one_clear_line(tmp_path: Path, yaml_text: str, expected: str) -> None:
    [line] = errors_of(write(tmp_path, yaml_text))
    assert expected in line


def test_missing_file_is_one_line_naming_it(tmp_path: Path) -> None:
    [line] = errors_of(tmp_path / "nope.yaml")
    assert "nope.yaml: cannot read" in line


def test_env_override_replaces_the_file_value(tmp_path: Path) -> None:
    path = write(tmp_path, "trading:\n  price_interval: 10\n")
    cfg = load_config(path, {"MM_TRADING__PRICE_INTERVAL": "20", "MM_EXCHANGE__RECV_WINDOW_MS": "7000"})
    assert cfg.trading.price_interval == Decimal("20")
    assert cfg.exchange.recv_window_ms == 7000


def test_env_override_reaches_nested_mappings_and_keeps_decimals() -> None:
    cfg = load_config(None, {"MM_SIM__BALANCES__usdt": "1234.56789", "MM_TRADING__DYNAMIC_INTERVAL": "false"})
    assert cfg.sim.balances == {"USDT": Decimal("1234.56789")}


def test_bad_env_override_names_the_variable_and_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, "trading:\n  price_interval: 10\n")
    [line] = errors_of(path, {"MM_TRADING__PRICE_INTERVAL": "-3"})
    assert line.startswith("env MM_TRADING__PRICE_INTERVAL: trading.price_interval:") and "-3" in line


def test_env_override_of_an_unknown_key_is_rejected() -> None:
    [line] = errors_of(None, {"MM_TRADING__PRICE_INTERVALL": "20"})
    assert "env MM_TRADING__PRICE_INTERVALL" in line and "unknown key" in line


def test_unrelated_environment_is_ignored() -> None:
    assert load_config(None, {"MM_SOMETHING": "x", "PATH": "/bin", "HOME": "/root"}) == Config()


def test_dynamic_interval_bounds_must_contain_the_interval() -> None:
    config_from_mapping({"trading": {"dynamic_interval": True}}, {}, "f.yaml")  # unset: half and 4x
    with pytest.raises(ConfigError) as info:
        config_from_mapping(
            {
                "trading": {"dynamic_interval": True, "price_interval": 10},
                "risk": {"min_interval": 20, "max_interval": 100},
            },
            {},
            "f.yaml",
        )
    assert any(
        line.startswith("f.yaml: trading.price_interval: 10 is below risk.min_interval 20")
        for line in info.value.errors
    )


def test_max_interval_below_min_interval_is_rejected() -> None:
    with pytest.raises(ConfigError) as info:
        config_from_mapping({"risk": {"min_interval": 50, "max_interval": 20}}, {}, "f.yaml")
    assert "f.yaml: risk.max_interval: 20 is below min_interval 50" in info.value.errors


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"exchange": {"market": "spot", "leverage": 3}}, "exchange.leverage"),
        ({"exchange": {"market": "spot", "margin_type": "ISOLATED"}}, "exchange.margin_type"),
        ({"exchange": {"market": "usdm", "leverage": 5}, "risk": {"max_leverage": 2}}, "exchange.leverage"),
        ({"engine": {"type": "simple", "database": "postgresql://u@db/mm"}}, "engine.database"),
        ({"trading": {"price_interval": "10.005"}}, "trading.price_interval"),  # off the 0.01 tick
        ({"trading": {"order_quantity": "0.00004"}}, "trading.order_quantity"),  # 4 USDT < min notional 5
        (
            {"trading": {"buy_window_size": 10, "sell_window_size": 10}, "cleanup": {"max_open_orders": 15}},
            "cleanup.max_open_orders",
        ),
        ({"sim": {"price_path": "replay"}}, "sim.replay_file"),
        (
            {
                "exchange": {"venue": "binance", "rest_url": "http://api.example.com"},
                "trading": {"symbol": "BTCUSDT", "price_interval": 10, "order_quantity": "0.001"},
            },
            "exchange.rest_url",
        ),
        ({"exchange": {"venue": "binance"}}, "trading.price_interval"),  # live needs an explicit grid
    ],
)
def test_cross_field_problems_name_the_key_to_change(data: dict, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_mapping(data, {}, "f.yaml")
    assert any(line.startswith(f"f.yaml: {key}: ") for line in info.value.errors), info.value.errors


def test_binance_urls_default_to_production_by_market() -> None:
    grid = {"symbol": "BTCUSDT", "price_interval": 10, "order_quantity": "0.001"}
    spot = config_from_mapping({"exchange": {"venue": "binance"}, "trading": grid})
    usdm = config_from_mapping({"exchange": {"venue": "binance", "market": "usdm"}, "trading": grid})
    assert spot.exchange.rest_url == "https://api.binance.com"
    assert spot.exchange.ws_api_url == "wss://ws-api.binance.com:443/ws-api/v3"
    assert usdm.exchange.rest_url == "https://fapi.binance.com"
    assert usdm.exchange.ws_url == "wss://fstream.binance.com"
    assert config_from_mapping({}).exchange.rest_url is None  # the simulator chooses its own


def test_dump_reloads_to_the_same_config(tmp_path: Path) -> None:
    cfg = load_config(REPO / "config" / "binance-spot.example.yaml", {})
    again = load_config(write(tmp_path, dump_config(cfg)), {})
    assert again == cfg


def test_dump_masks_a_database_password() -> None:
    cfg = config_from_mapping(
        {"engine": {"type": "durable", "database": "postgresql://mm:hunter2@db:5432/mm"}}
    )
    text = dump_config(cfg)
    assert "hunter2" not in text and "postgresql://mm:**********@db:5432/mm" in text
    assert cfg.engine.is_postgres


def test_config_is_frozen() -> None:
    cfg = Config()
    with pytest.raises(ValueError):
        cfg.trading.price_interval = Decimal(1)  # type: ignore[misc]


def test_reference_documents_every_key() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    for section, field in Config.model_fields.items():
        if section == "credentials":
            continue
        assert f"## `{section}`" in doc
        body = doc.split(f"## `{section}`", 1)[1].split("\n## ", 1)[0]
        for key in field.annotation.model_fields:  # type: ignore[union-attr]
            assert f"| `{key}` |" in body, f"{section}.{key} missing from docs/configuration.md"


def test_exposed_ops_endpoint_without_token_is_a_warning() -> None:
    exposed = {"ops": {"host": "0.0.0.0", "port": 8780}}
    assert any(w.startswith("ops.host: 0.0.0.0") for w in config_from_mapping(exposed).warnings())
    assert not_money(config_from_mapping(exposed, {"MM_OPS_TOKEN": "t0ken"}).warnings()) == []
    assert not_money(config_from_mapping({"ops": {"port": 8780}}).warnings()) == []  # loopback


def not_money(warnings: list[str]) -> list[str]:
    """The warnings other than the fee/minimum ones (tests/unit/test_money_sense.py covers those)."""
    return [w for w in warnings if not w.startswith(("trading.price_interval", "trading.order_quantity"))]


def test_order_transport_and_self_trade_prevention() -> None:
    cfg = config_from_mapping({}, {}, "f.yaml")
    assert (cfg.exchange.order_transport, cfg.exchange.self_trade_prevention) == ("rest", "EXPIRE_TAKER")
    ws = config_from_mapping(
        {"exchange": {"order_transport": "websocket", "self_trade_prevention": "DECREMENT"}}, {}, "f"
    )
    assert (ws.exchange.order_transport, ws.exchange.self_trade_prevention) == ("websocket", "DECREMENT")
    with pytest.raises(ConfigError) as refused:
        config_from_mapping(
            {"exchange": {"market": "usdm", "self_trade_prevention": "DECREMENT"}}, {}, "f.yaml"
        )
    assert any("exchange.self_trade_prevention" in e and "spot mode" in e for e in refused.value.errors)
    with pytest.raises(ConfigError):
        config_from_mapping({"exchange": {"order_transport": "fix"}}, {}, "f.yaml")
