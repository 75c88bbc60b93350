"""A connector for the CLI's ops verbs (doctor, cancel-all), from the configuration.

Venue ``binance``, or venue ``sim`` with ``exchange.rest_url`` set (a simulator running on its own,
``python -m market_maker sim-exchange``), use the configured URLs and credentials (for ``sim`` without
configured credentials: sim-exchange's documented paper account, as ``run`` does). Venue ``sim``
without URLs means the simulator lives inside the bot's process; ``doctor`` then starts a private
in-process simulator from the ``sim`` section (so it can check default.yaml), with a throw-away key.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from market_maker.exchange.base import Exchange
from market_maker.exchange.factory import make_exchange
from market_maker.settings.models import Config


class VenueError(Exception):
    """The configuration does not say how to reach the exchange (one line, safe to print)."""


@dataclass(frozen=True)
class Venue:
    """A started connector and where it points."""

    exchange: Exchange
    description: str  # e.g. "binance spot https://api.binance.com" or "in-process simulator"
    embedded_sim: bool


def embedded(config: Config) -> bool:
    """True when the simulator lives inside the bot (venue sim without exchange.rest_url)."""
    return config.exchange.venue == "sim" and config.exchange.rest_url is None


@contextmanager
def open_venue(config: Config, *, allow_embedded_sim: bool) -> Iterator[Venue]:
    """A connector for ``config`` (not started); closes it, and any in-process simulator, on exit.

    Raises :class:`VenueError` when the venue cannot be reached from outside the bot, or when
    credentials are missing; ``ValueError`` from :func:`make_exchange` on bad URLs.
    """
    ex = config.exchange
    with ExitStack() as stack:
        if embedded(config):
            if not allow_embedded_sim:
                raise VenueError(
                    "venue sim without exchange.rest_url: the simulator runs inside the bot, so only the"
                    " bot can reach its orders (point exchange.rest_url/ws_url at a `sim-exchange`)"
                )
            from market_maker.settings.sim_config import sim_balances, sim_config
            from market_maker.sim.server import SimServer

            sim = SimServer(sim_config(config))
            stack.enter_context(sim)
            key, secret = secrets.token_hex(16), secrets.token_hex(32)
            sim.create_account(key, secret, sim_balances(config))
            rest_url, ws_url, ws_api_url = sim.rest_url, sim.ws_url, None
            description = "in-process simulator (a fresh one, from the sim section)"
        else:
            if ex.rest_url is None or ex.ws_url is None:
                raise VenueError("exchange.rest_url and exchange.ws_url must both be set for this venue")
            if config.credentials.has_api_credentials:
                key, secret = config.api_credentials()
            elif ex.venue == "sim":  # as `run` does: sim-exchange's documented paper account
                from market_maker.sim.config import PAPER_API_KEY, PAPER_API_SECRET

                key, secret = PAPER_API_KEY, PAPER_API_SECRET
            else:
                raise VenueError(
                    f"no API key/secret: set {ex.api_key_env} and {ex.api_secret_env}"
                    " or exchange.secrets_file"
                )
            rest_url, ws_url, ws_api_url = ex.rest_url, ex.ws_url, ex.ws_api_url
            description = f"{ex.venue} {ex.market.value} {rest_url}"
        exchange = make_exchange(
            ex.market,
            rest_url,
            ws_url,
            key,
            secret,
            ex.recv_window_ms,
            symbol=config.trading.symbol,
            ws_api_url=ws_api_url,
            timeout_s=(3.05, ex.timeout_seconds),
            order_transport=ex.order_transport,
            stp_mode=ex.self_trade_prevention,
        )
        stack.callback(exchange.close)
        yield Venue(exchange, description, embedded(config))
