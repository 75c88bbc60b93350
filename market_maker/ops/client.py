"""The CLI's side of the ops endpoint: fetch ``/status`` from a running bot."""

from __future__ import annotations

from typing import Any

import requests

from market_maker.ops import address
from market_maker.settings.models import Config
from market_maker.store import StoreError

STARTING_WAIT_S = 15.0  # a bot that holds its lock gets this long to record its address (start-up)
LAUNCH_GRACE_S = 3.0  # ... and one launched just before `status` this long to open its store


class NotRunningError(Exception):
    """No bot answered at the configured ops address (one line, safe to print)."""


class EndpointDisabledError(Exception):
    """The configuration does not serve the ops endpoint (``ops.enabled`` is false)."""


def ops_url(config: Config) -> str:
    """``http://host:port`` of the bot's ops endpoint: the configured port, or (port 0, the default) the
    address the running bot recorded in its store. EndpointDisabledError when ``ops.enabled`` is false,
    NotRunningError when no address is recorded."""
    ops = config.ops
    if not ops.enabled:
        raise EndpointDisabledError(
            "the ops endpoint is off in this configuration (ops.enabled is false): remove that line,"
            " restart the bot, and pass the same config here"
        )
    if ops.port:
        host = f"[{ops.host}]" if ":" in ops.host else ops.host
        return f"http://{host}:{ops.port}"
    try:
        url = address.recorded(config, wait_s=STARTING_WAIT_S, grace_s=LAUNCH_GRACE_S)
    except StoreError as exc:
        raise NotRunningError(f"cannot read the ops address from the store: {exc}") from None
    if url is None:
        raise NotRunningError(
            f"no running bot {config.bot.id} on {config.trading.symbol} recorded its ops address in"
            f" {config.engine.database}: start it with `run` (same config)"
        )
    return url


def fetch_status(config: Config, timeout_s: float = 3.0) -> dict[str, Any]:
    """The running bot's status document; NotRunningError when nothing (or not our bot) answers."""
    url = ops_url(config) + "/status"
    headers = {}
    token = config.credentials.ops_token
    if token is not None:
        headers["Authorization"] = f"Bearer {token.get_secret_value()}"
    try:
        response = requests.get(url, headers=headers, timeout=timeout_s)
    except requests.RequestException as exc:
        raise NotRunningError(f"no bot answers at {url} ({type(exc).__name__})") from None
    if response.status_code == 401:
        raise NotRunningError(
            f"{url} refused the request (401): set {config.ops.token_env} to the bot's ops token"
        )
    if response.status_code != 200:
        raise NotRunningError(f"{url} answered HTTP {response.status_code}, not a status document")
    try:
        doc = response.json()
    except ValueError:
        raise NotRunningError(f"{url} answered something that is not JSON: is it this bot?") from None
    if not isinstance(doc, dict) or "schema_version" not in doc:
        raise NotRunningError(f"{url} answered JSON that is not a status document: is it this bot?")
    bot = doc.get("bot") or {}
    if (bot.get("id"), bot.get("symbol")) != (config.bot.id, config.trading.symbol):
        # a recorded port that a killed bot left behind and another bot now uses
        raise NotRunningError(
            f"{url} is bot {bot.get('id')} on {bot.get('symbol')}, not {config.bot.id} on"
            f" {config.trading.symbol}: this one is not running"
        )
    return doc
