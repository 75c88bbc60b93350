"""Configuration: YAML file + ``MM_<SECTION>__<KEY>`` environment overrides -> a validated :class:`Config`.

Precedence, lowest first: the defaults in the pydantic models (market_maker/settings/models.py), the
YAML file, the environment. Every problem becomes one line of a :class:`ConfigError` naming the input
(file or environment variable), the key path, the bad value and what is allowed. Secrets (API key and
secret, ops token) come only from environment variables or the secrets file and stay masked.
See docs/configuration.md for every key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml
from pydantic import SecretStr, ValidationError

from market_maker.settings.errors import ConfigError, format_validation_error, key_text
from market_maker.settings.models import (
    BacktestConfig,
    BotConfig,
    CleanupConfig,
    Config,
    Credentials,
    EngineConfig,
    ExchangeConfig,
    OpsConfig,
    ReconcileConfig,
    RiskConfig,
    SimSection,
    TradingConfig,
)
from market_maker.settings.secrets import FORBIDDEN_SECRET_KEYS, resolve_credentials
from market_maker.settings.yaml_exact import dump_yaml, load_yaml, parse_scalar

__all__ = [
    "BacktestConfig",
    "BotConfig",
    "CleanupConfig",
    "Config",
    "ConfigError",
    "Credentials",
    "EngineConfig",
    "ExchangeConfig",
    "OpsConfig",
    "ReconcileConfig",
    "RiskConfig",
    "SimSection",
    "TradingConfig",
    "config_from_mapping",
    "dump_config",
    "load_config",
    "read_config_file",
]

ENV_PREFIX = "MM_"
MASK = "**********"


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The YAML file as a dict with exact numbers; ConfigError (one line) if missing, unreadable or bad."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or type(exc).__name__}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: cannot read: not UTF-8 text"]) from None
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: invalid YAML: {_yaml_problem(exc)}"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: the top level must be a mapping of sections (trading:, exchange:, ...)"])
    return data


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else str(problem)


def _env_overrides(env: Mapping[str, str]) -> tuple[list[tuple[tuple[str, ...], Any, str]], list[str]]:
    """(path, parsed value, variable name) for every ``MM_<SECTION>__<KEY>`` variable, plus name errors."""
    found, errors = [], []
    for name in sorted(env):
        if not name.upper().startswith(ENV_PREFIX) or "__" not in name:
            continue
        parts = tuple(p.lower() for p in name[len(ENV_PREFIX) :].split("__"))
        if any(not p for p in parts):
            errors.append(f"env {key_text(name)}: malformed override name (expected MM_<SECTION>__<KEY>)")
            continue
        found.append((parts, parse_scalar(env[name]), name))
    return found, errors


def _apply(data: dict[str, Any], path: tuple[str, ...], value: Any, name: str) -> str | None:
    node = data
    for i, part in enumerate(path[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            where = ".".join(key_text(p) for p in path[: i + 1])
            return f"env {key_text(name)}: cannot override inside {where}, which is not a mapping"
        else:
            child = node[part] = dict(child)  # copy: never mutate the caller's data
        node = child
    node[path[-1]] = value
    return None


def _pop_secrets(data: dict[str, Any], source: str, env_sources: Mapping[str, str]) -> list[str]:
    """Remove secret-looking keys from the input, with an error telling where they belong instead."""
    errors = []
    for path, home in FORBIDDEN_SECRET_KEYS.items():
        node: Any = data
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node:
            del node[path[-1]]
            key = ".".join(path)
            where = f"env {env_sources[key]}" if key in env_sources else source
            errors.append(f"{where}: {key}: secrets never go in the configuration; put it in {home}")
    return errors


def _copy_sections(data: dict[Any, Any]) -> dict[Any, Any]:
    return {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}


def config_from_mapping(data: Any, env: Mapping[str, str] | None = None, source: str = "<config>") -> Config:
    """Validate ``data`` (as read from YAML) with ``env`` overrides and secrets applied; ConfigError if bad.

    ``source`` names the input in error lines (the file path). ``env`` defaults to no environment.
    """
    env = {} if env is None else env
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            [f"{source}: the top level must be a mapping of sections (trading:, exchange:, ...)"]
        )
    merged = _copy_sections(data)
    errors = _pop_secrets(merged, source, {})
    overrides, name_errors = _env_overrides(env)
    errors += name_errors
    env_sources: dict[str, str] = {}
    for path, value, name in overrides:
        problem = _apply(merged, path, value, name)
        if problem:
            errors.append(problem)
        else:
            env_sources[".".join(key_text(p) for p in path)] = key_text(name)
    errors += _pop_secrets(merged, source, env_sources)
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        errors += format_validation_error(
            exc, Config, source, env_sources, hidden=frozenset({"engine.database"})
        )
        raise ConfigError(errors) from None
    if errors:
        raise ConfigError(errors)
    ex = config.exchange
    ops = config.ops
    creds = resolve_credentials(
        ex.api_key_env,
        ex.api_secret_env,
        ops.token_env,
        ex.secrets_file,
        env,
        ops.webhook_url_env,
        ex.private_key_env,
        ex.private_key_file,
    )
    return config.model_copy(update={"credentials": Credentials(**creds)})


def load_config(path: str | Path | None, env: Mapping[str, str] = os.environ) -> Config:
    """Defaults, then the YAML file at ``path`` (None: none), then ``MM_<SECTION>__<KEY>`` overrides.

    Raises :class:`ConfigError` with one line per problem. Secrets are read from the environment or
    ``exchange.secrets_file``; a missing API key is not an error here (see :meth:`Config.warnings`).
    """
    data = read_config_file(path) if path is not None else {}
    return config_from_mapping(data, env, source=str(path) if path is not None else "<defaults>")


def _mask_url_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:{MASK}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool | Decimal) or value is None:
        return value
    return str(value)


def dump_config(config: Config) -> str:
    """The whole configuration as YAML, secrets masked (also a password inside the database URL)."""
    data = _plain(config.model_dump(mode="python", exclude={"credentials"}))
    data["engine"]["database"] = _mask_url_password(config.engine.database)
    if config.ops.webhook_url:  # a chat webhook's path is its secret: show scheme and host only
        hook = urlsplit(config.ops.webhook_url)
        data["ops"]["webhook_url"] = f"{hook.scheme}://{hook.netloc.rsplit('@', 1)[-1]}/{MASK}"
    # Credentials are comments: the output stays a loadable config file (secrets never go in one).
    creds = config.credentials
    notes = [
        f"# credentials.{name}: {MASK + ' (' + str(source) + ')' if secret is not None else 'not set'}"
        for name, secret, source in (
            ("api_key", creds.api_key, creds.api_key_source),
            ("api_secret", creds.api_secret, creds.api_secret_source),
            ("private_key", creds.private_key, creds.private_key_source),
            ("ops_token", creds.ops_token, creds.ops_token_source),
            ("webhook_url", creds.webhook_url, creds.webhook_url_source),
        )
    ]
    return dump_yaml(data) + "\n".join(notes) + "\n"
