"""API key, secret and ops token: from environment variables or a private secrets file, never the YAML.

The secrets file is YAML with optional keys ``api_key``, ``api_secret``, ``ops_token`` and
``webhook_url`` (a chat webhook's URL carries its own secret). It must not
be readable or writable by group or others (mode 0600 or stricter), like an ssh key. An environment
variable, when set and non-empty, wins over the file. No message here ever contains a secret's value.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import SecretStr

from market_maker.settings.errors import ConfigError
from market_maker.settings.yaml_exact import load_yaml

SECRETS_FILE_KEYS = ("api_key", "api_secret", "ops_token", "webhook_url")

# Keys that look like secrets where secrets must not be: path -> where to put the value instead.
FORBIDDEN_SECRET_KEYS: dict[tuple[str, ...], str] = {
    ("exchange", "api_key"): "the environment variable named by exchange.api_key_env (default MM_API_KEY)",
    (
        "exchange",
        "api_secret",
    ): "the environment variable named by exchange.api_secret_env (default MM_API_SECRET)",
    ("exchange", "key"): "the environment variable MM_API_KEY",
    ("exchange", "secret"): "the environment variable MM_API_SECRET",
    ("exchange", "secret_key"): "the environment variable MM_API_SECRET",
    ("ops", "token"): "the environment variable named by ops.token_env (default MM_OPS_TOKEN)",
    ("credentials",): "environment variables or the file named by exchange.secrets_file",
}


def _check_mode(path: Path, key: str = "exchange.secrets_file") -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            [
                f"{key}: {path} has mode {mode:04o}, readable by others; "
                f"run `chmod 600 {path}` (0600 or stricter is required)"
            ]
        )


def _read_private_file(path: Path, key: str) -> str:
    """The text of a 0600 file named by config ``key``; ConfigError (one line) when unsafe or unreadable."""
    try:
        _check_mode(path, key)
        return path.read_text(encoding="utf-8")
    except ConfigError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError([f"{key}: {path}: cannot read: {reason}"]) from None


def private_key_problem(pem: str) -> str | None:
    """Why ``pem`` is not a usable API private key (unencrypted PEM, Ed25519 or RSA), or None.

    The reason never quotes the text."""
    # imported here: every command loads the settings, few read a private key (cryptography's import
    # is a visible part of a backtest's start-up)
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except TypeError:
        return "is encrypted; give it unencrypted and protect it with mode 0600"
    except (ValueError, UnsupportedAlgorithm):
        return "is not a PEM private key (expected -----BEGIN PRIVATE KEY-----)"
    if not isinstance(key, Ed25519PrivateKey | RSAPrivateKey):
        return "is not an Ed25519 or RSA key (Binance takes those, and HMAC secrets)"
    return None


def read_private_key(
    env_name: str, path: Path | None, env: Mapping[str, str]
) -> tuple[SecretStr, str] | None:
    """The PEM private key from ``env_name`` (when set) or the 0600 file ``path``, and where it came
    from; None when neither is given. Raises ConfigError (one line, no key material) when unusable."""
    raw = env.get(env_name, "")
    if raw.strip():
        text, where, source = raw.strip(), f"env {env_name}", f"env {env_name}"
    elif path is not None:
        where, source = f"exchange.private_key_file: {path}", f"file {path}"
        text = _read_private_file(path, "exchange.private_key_file")
    else:
        return None
    if problem := private_key_problem(text):
        raise ConfigError([f"{where}: the private key {problem}"])
    return SecretStr(text), source


def read_secrets_file(path: Path) -> dict[str, SecretStr]:
    """The secrets in ``path``; raises ConfigError (never showing a value) if unsafe or malformed."""
    where = f"exchange.secrets_file: {path}"
    text = _read_private_file(path, "exchange.secrets_file")
    try:
        data = load_yaml(text)
    except yaml.YAMLError:
        raise ConfigError([f"{where}: not valid YAML (expected lines like `api_key: ...`)"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{where}: must be a mapping with keys {', '.join(SECRETS_FILE_KEYS)}"])
    errors, found = [], {}
    for key, value in data.items():
        if key not in SECRETS_FILE_KEYS:
            errors.append(f"{where}: unknown key {str(key)[:40]!r} (allowed: {', '.join(SECRETS_FILE_KEYS)})")
        elif problem := _secret_problem(value):
            errors.append(f"{where}: {key} {problem}")
        else:
            found[key] = SecretStr(value)
    if errors:
        raise ConfigError(errors)
    return found


def _secret_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a string (quote it)"
    if not value or any(c.isspace() or not c.isprintable() for c in value):
        return "must be non-empty, without spaces or control characters"
    return None


def resolve_credentials(
    api_key_env: str,
    api_secret_env: str,
    token_env: str,
    secrets_file: Path | None,
    env: Mapping[str, str],
    webhook_env: str = "MM_OPS_WEBHOOK_URL",
    private_key_env: str = "MM_API_PRIVATE_KEY",
    private_key_file: Path | None = None,
) -> dict[str, Any]:
    """Field values for :class:`Credentials`: each secret from its env var, else from the secrets file
    (the private key from its env var, else its own 0600 PEM file)."""
    from_file = read_secrets_file(secrets_file) if secrets_file is not None else {}
    out: dict[str, Any] = {}
    private = read_private_key(private_key_env, private_key_file, env)
    if private is not None:
        out["private_key"], out["private_key_source"] = private
    errors = []
    url = from_file.get("webhook_url")
    if url is not None and not _is_http_url(url.get_secret_value()):
        errors.append(
            f"exchange.secrets_file: {secrets_file}: webhook_url must start with https:// or http://"
        )
    for field, env_name in (
        ("api_key", api_key_env),
        ("api_secret", api_secret_env),
        ("ops_token", token_env),
        ("webhook_url", webhook_env),
    ):
        raw = env.get(env_name, "")
        if raw.strip():
            if problem := _secret_problem(raw.strip()):
                errors.append(f"env {env_name}: {problem}")
                continue
            if field == "webhook_url" and not _is_http_url(raw.strip()):
                errors.append(f"env {env_name}: must start with https:// or http:// and name a host")
                continue
            out[field], out[f"{field}_source"] = SecretStr(raw.strip()), f"env {env_name}"
        elif field in from_file:
            out[field], out[f"{field}_source"] = from_file[field], f"file {secrets_file}"
    if errors:
        raise ConfigError(errors)
    return out


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)
