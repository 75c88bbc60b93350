"""Secrets: from env or a private file only, refused in the YAML, never shown anywhere."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from market_maker.config import ConfigError, dump_config, load_config

KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
LIVE = (
    "exchange:\n  venue: binance\n"
    "trading:\n  symbol: BTCUSDT\n  price_interval: 10\n  order_quantity: 0.001\n"
)


def secrets_file(tmp_path: Path, mode: int, text: str | None = None) -> Path:
    path = tmp_path / "mm.secrets.yaml"
    path.write_text(text if text is not None else f"api_key: {KEY}\napi_secret: {SECRET}\n", encoding="utf-8")
    os.chmod(path, mode)
    return path


def config_with_file(tmp_path: Path, secrets: Path) -> Path:
    path = tmp_path / "live.yaml"
    path.write_text(
        "exchange:\n  venue: binance\n  secrets_file: " + str(secrets) + "\n"
        "trading:\n  symbol: BTCUSDT\n  price_interval: 10\n  order_quantity: 0.001\n",
        encoding="utf-8",
    )
    return path


def test_secrets_come_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "live.yaml"
    path.write_text(LIVE, encoding="utf-8")
    cfg = load_config(path, {"MM_API_KEY": KEY, "MM_API_SECRET": SECRET})
    assert cfg.api_credentials() == (KEY, SECRET)
    assert cfg.credentials.api_key_source == "env MM_API_KEY"
    assert not_money(cfg.warnings()) == []  # the built-in 10 USDT interval is warned about apart


def test_env_var_names_are_configurable(tmp_path: Path) -> None:
    path = tmp_path / "live.yaml"
    path.write_text(
        LIVE.replace(
            "venue: binance\n", "venue: binance\n  api_key_env: BOT1_KEY\n  api_secret_env: BOT1_SECRET\n"
        ),
        encoding="utf-8",
    )
    cfg = load_config(path, {"BOT1_KEY": KEY, "BOT1_SECRET": SECRET, "MM_API_KEY": "other"})
    assert cfg.api_credentials() == (KEY, SECRET)


def test_private_secrets_file_is_read(tmp_path: Path) -> None:
    cfg = load_config(config_with_file(tmp_path, secrets_file(tmp_path, 0o600)), {})
    assert cfg.api_credentials() == (KEY, SECRET)
    assert cfg.credentials.api_secret_source is not None and cfg.credentials.api_secret_source.startswith(
        "file "
    )


def test_environment_wins_over_the_secrets_file(tmp_path: Path) -> None:
    cfg = load_config(config_with_file(tmp_path, secrets_file(tmp_path, 0o400)), {"MM_API_KEY": "envkey"})
    assert cfg.api_credentials() == ("envkey", SECRET)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_secrets_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    secrets = secrets_file(tmp_path, mode)
    with pytest.raises(ConfigError) as info:
        load_config(config_with_file(tmp_path, secrets), {})
    [line] = info.value.errors
    assert str(secrets) in line and f"{mode:04o}" in line and "chmod 600" in line
    assert SECRET not in line and KEY not in line


def test_malformed_secrets_file_never_echoes_its_content(tmp_path: Path) -> None:
    secrets = secrets_file(tmp_path, 0o600, f"api_key: {KEY}\napi_secret: [{SECRET}]\nextra: {SECRET}\n")
    with pytest.raises(ConfigError) as info:
        load_config(config_with_file(tmp_path, secrets), {})
    assert len(info.value.errors) == 2
    assert all(SECRET not in line for line in info.value.errors)


@pytest.mark.parametrize(
    ("yaml_text", "key", "home"),
    [
        ("exchange:\n  api_key: {v}\n", "exchange.api_key", "MM_API_KEY"),
        ("exchange:\n  api_secret: {v}\n", "exchange.api_secret", "MM_API_SECRET"),
        ("exchange:\n  secret: {v}\n", "exchange.secret", "MM_API_SECRET"),
        ("ops:\n  token: {v}\n", "ops.token", "MM_OPS_TOKEN"),
        ("credentials:\n  api_key: {v}\n", "credentials", "exchange.secrets_file"),
    ],
)
def test_secret_in_yaml_is_an_error_saying_where_it_belongs(
    tmp_path: Path, yaml_text: str, key: str, home: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml_text.format(v=SECRET), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    [line] = info.value.errors
    assert line.startswith(f"{path}: {key}: secrets never go in the configuration") and home in line
    assert SECRET not in line


def test_secret_as_env_override_is_refused_too() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, {"MM_EXCHANGE__API_SECRET": SECRET})
    [line] = info.value.errors
    assert line.startswith("env MM_EXCHANGE__API_SECRET: exchange.api_secret:") and SECRET not in line


def test_secrets_never_appear_in_repr_str_or_dump(tmp_path: Path) -> None:
    cfg = load_config(None, {"MM_API_KEY": KEY, "MM_API_SECRET": SECRET, "MM_OPS_TOKEN": "tok3n-value"})
    for text in (repr(cfg), str(cfg), dump_config(cfg), repr(cfg.credentials), str(cfg.model_dump())):
        assert KEY not in text and SECRET not in text and "tok3n-value" not in text
    assert "# credentials.api_key: ********** (env MM_API_KEY)" in dump_config(cfg)


def test_missing_live_credentials_are_warnings_not_errors(tmp_path: Path) -> None:
    path = tmp_path / "live.yaml"
    path.write_text(LIVE, encoding="utf-8")
    cfg = load_config(path, {})
    assert any("MM_API_KEY" in w for w in cfg.warnings())
    with pytest.raises(ConfigError):
        cfg.api_credentials()


def test_simulator_needs_no_secrets() -> None:
    cfg = load_config(None, {})
    assert not_money(cfg.warnings()) == []  # the built-in 10 USDT interval is warned about apart


def not_money(warnings: list[str]) -> list[str]:
    """The warnings other than the fee/minimum ones (tests/unit/test_money_sense.py covers those)."""
    return [w for w in warnings if not w.startswith(("trading.price_interval", "trading.order_quantity"))]


def _ed25519_pem() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    key = Ed25519PrivateKey.generate()
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def _live_with_key_file(tmp_path: Path, mode: int, text: str) -> Path:
    key_file = tmp_path / "api-ed25519.pem"
    key_file.write_text(text, encoding="ascii")
    os.chmod(key_file, mode)
    path = tmp_path / "live.yaml"
    path.write_text(LIVE.replace("venue: binance\n", f"venue: binance\n  private_key_file: {key_file}\n"))
    return path


def test_an_ed25519_private_key_from_a_0600_file_signs_instead_of_a_secret(tmp_path: Path) -> None:
    pem = _ed25519_pem()
    cfg = load_config(_live_with_key_file(tmp_path, 0o600, pem), {"MM_API_KEY": KEY})
    assert cfg.api_credentials() == (KEY, pem)
    assert not_money(cfg.warnings()) == []
    assert pem.splitlines()[1] not in dump_config(cfg)
    assert "credentials.private_key: ********** (file " in dump_config(cfg)


def test_an_ed25519_private_key_comes_from_the_environment_too(tmp_path: Path) -> None:
    pem = _ed25519_pem()
    path = tmp_path / "live.yaml"
    path.write_text(LIVE, encoding="utf-8")
    cfg = load_config(path, {"MM_API_KEY": KEY, "MM_API_PRIVATE_KEY": pem})
    assert cfg.api_credentials() == (KEY, pem.strip())
    assert cfg.credentials.private_key_source == "env MM_API_PRIVATE_KEY"


def test_a_group_readable_private_key_file_is_refused_in_one_line(tmp_path: Path) -> None:
    pem = _ed25519_pem()
    with pytest.raises(ConfigError) as refused:
        load_config(_live_with_key_file(tmp_path, 0o640, pem), {"MM_API_KEY": KEY})
    assert len(refused.value.errors) == 1
    line = refused.value.errors[0]
    assert line.startswith("exchange.private_key_file: ") and "0640" in line and "chmod 600" in line
    assert pem.splitlines()[1] not in line


def test_a_private_key_that_is_not_one_is_refused_without_showing_it(tmp_path: Path) -> None:
    text = "-----BEGIN PRIVATE KEY-----\nAAAAnotakeyAAAA\n-----END PRIVATE KEY-----\n"
    with pytest.raises(ConfigError) as refused:
        load_config(_live_with_key_file(tmp_path, 0o600, text), {"MM_API_KEY": KEY})
    assert refused.value.errors == [
        f"exchange.private_key_file: {tmp_path / 'api-ed25519.pem'}: the private key is not a PEM private key"
        " (expected -----BEGIN PRIVATE KEY-----)"
    ]
