"""Checks that span several sections of the configuration, and the non-fatal warnings.

Each problem is (key path, message). Paths name the key the user should change.
"""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from market_maker.core.model import Market
from market_maker.settings import money_sense

if TYPE_CHECKING:
    from market_maker.settings.models import Config

_LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """True for localhost and loopback IP addresses (127.0.0.0/8, ::1)."""
    host = host.strip("[]")
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _multiple(value: Decimal, unit: Decimal) -> bool:
    return (value / unit) == (value / unit).to_integral_value()


def _grid_problems(cfg: Config) -> list[tuple[str, str]]:
    t, r = cfg.trading, cfg.risk
    problems: list[tuple[str, str]] = []
    if t.dynamic_interval:  # unset bounds are half and four times price_interval (settings/params.py)
        if r.min_interval is not None and t.price_interval < r.min_interval:
            problems.append(
                ("trading.price_interval", f"{t.price_interval} is below risk.min_interval {r.min_interval}")
            )
        if r.max_interval is not None and t.price_interval > r.max_interval:
            problems.append(
                ("trading.price_interval", f"{t.price_interval} is above risk.max_interval {r.max_interval}")
            )
    if r.max_inventory < t.order_quantity:
        problems.append(
            ("risk.max_inventory", f"{r.max_inventory} is below trading.order_quantity {t.order_quantity}")
        )
    windows = t.buy_window_size + t.sell_window_size
    if windows > cfg.cleanup.max_open_orders:
        problems.append(
            (
                "cleanup.max_open_orders",
                f"{cfg.cleanup.max_open_orders} is below buy_window_size + sell_window_size = {windows}",
            )
        )
    return problems


def _exchange_problems(cfg: Config) -> list[tuple[str, str]]:
    ex, problems = cfg.exchange, []
    if ex.leverage is not None and ex.leverage > cfg.risk.max_leverage:
        problems.append(
            ("exchange.leverage", f"{ex.leverage} exceeds risk.max_leverage {cfg.risk.max_leverage}")
        )
    if ex.market is Market.USDM and cfg.risk.atr_interval == "1s":
        problems.append(("risk.atr_interval", "1s klines do not exist on USD-M futures"))
    if ex.venue == "binance":
        explicit = cfg.trading.model_fields_set
        for key in ("symbol", "price_interval", "order_quantity"):
            if key not in explicit:
                problems.append(
                    (
                        f"trading.{key}",
                        "must be set explicitly for venue binance (defaults are for the simulator)",
                    )
                )
        for key in ("rest_url", "ws_url", "ws_api_url"):
            url = getattr(ex, key)
            if (
                url
                and urlsplit(url).scheme in ("http", "ws")
                and not is_loopback(urlsplit(url).hostname or "")
            ):
                problems.append((f"exchange.{key}", f"unencrypted {url} is only allowed to a loopback host"))
    return problems


def _sim_problems(cfg: Config) -> list[tuple[str, str]]:
    """The simulated symbol's filters against the grid: would the first orders be accepted at all?"""
    if cfg.exchange.venue != "sim":
        return []
    ex = cfg.exchange
    if (ex.rest_url is None) != (ex.ws_url is None):  # a sim-exchange elsewhere needs both
        missing = "exchange.ws_url" if ex.ws_url is None else "exchange.rest_url"
        return [(missing, "venue sim on a simulator of its own (sim-exchange) needs rest_url and ws_url")]
    s, t, problems = cfg.sim, cfg.trading, []
    if not _multiple(t.price_interval, s.tick_size):
        problems.append(
            ("trading.price_interval", f"{t.price_interval} is not a multiple of sim.tick_size {s.tick_size}")
        )
    if not _multiple(t.order_quantity, s.step_size):
        problems.append(
            ("trading.order_quantity", f"{t.order_quantity} is not a multiple of sim.step_size {s.step_size}")
        )
    if t.order_quantity < s.min_qty:
        problems.append(("trading.order_quantity", f"{t.order_quantity} is below sim.min_qty {s.min_qty}"))
    widest = t.price_interval
    if t.dynamic_interval:
        widest = cfg.risk.max_interval if cfg.risk.max_interval is not None else t.price_interval * 4
    lowest_buy = s.start_price - widest * t.buy_window_size
    if lowest_buy <= 0:
        problems.append(
            (
                "trading.buy_window_size",
                f"{t.buy_window_size} levels of {widest} below sim.start_price {s.start_price}"
                f" reach price {lowest_buy}",
            )
        )
    elif lowest_buy * t.order_quantity < s.min_notional:
        problems.append(
            (
                "trading.order_quantity",
                f"{t.order_quantity} at the lowest buy price {lowest_buy}"
                f" is below sim.min_notional {s.min_notional}",
            )
        )
    if s.assets_for(t.symbol) is None:
        problems.append(
            (
                "sim.quote_asset",
                f"cannot tell the quote asset of {t.symbol}: set sim.base_asset and sim.quote_asset",
            )
        )
    elif s.base_asset and s.quote_asset and s.base_asset + s.quote_asset != t.symbol:
        problems.append(
            ("sim.base_asset", f"{s.base_asset} + {s.quote_asset} does not spell trading.symbol {t.symbol}")
        )
    return problems


def problems(cfg: Config) -> list[tuple[str, str]]:
    """Every cross-section problem of ``cfg``; empty when it is consistent."""
    return _grid_problems(cfg) + _exchange_problems(cfg) + _sim_problems(cfg)


def warnings(cfg: Config) -> list[str]:
    """Valid-but-risky settings and what a run will still need (e.g. API credentials from the env)."""
    out: list[str] = []
    ex, creds = cfg.exchange, cfg.credentials
    if ex.venue == "binance":
        if creds.api_key is None:
            out.append(
                f"exchange: API key not set: a run needs env {ex.api_key_env} or exchange.secrets_file"
            )
        if creds.api_secret is None and creds.private_key is None:
            out.append(
                f"exchange: API secret not set: a run needs env {ex.api_secret_env} or exchange.secrets_file"
                f" (or, for an Ed25519 key, env {ex.private_key_env} or exchange.private_key_file)"
            )
    if cfg.ops.enabled and not is_loopback(cfg.ops.host) and creds.ops_token is None:
        out.append(
            f"ops.host: {cfg.ops.host} is reachable from other machines and no token is set"
            f" ({cfg.ops.token_env}): the status endpoint would be open to the network"
        )
    return out + money_sense.config_warnings(cfg)
