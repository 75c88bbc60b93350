"""Start-up account safety checks: refuse to trade (exit code 4) rather than trade an unsafe account.

Checked before the first order: the symbol is TRADING; the local clock is within the receive window of
the exchange's; the free balance covers the worst-case grid notional (every buy level filled, capped
by max_inventory); on USD-M the configured leverage and margin type are applied, the leverage is within
``risk.max_leverage`` and the account is in one-way mode (a long grid needs one net position).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from market_maker.config import Config
from market_maker.core.model import Market
from market_maker.core.params import TradingParams
from market_maker.exchange import parse
from market_maker.exchange.base import Exchange, FuturesExchange
from market_maker.exchange.errors import ExchangeError

log = logging.getLogger(__name__)


class UnsafeError(RuntimeError):
    """Trading this account now would be unsafe; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class AccountCheck:
    """What the checks measured (logged at start, used for the equity baseline)."""

    quote_free: Decimal
    base_total: Decimal
    worst_case_notional: Decimal
    clock_offset_ms: int
    equity: Decimal  # quote + base valued at ``price``
    price: int


def symbol_status(exchange: Exchange) -> str:
    """The symbol's ``status`` in exchangeInfo ("TRADING", "BREAK", ...); "" when the connector cannot tell.

    The connector's interface exposes only the filters, so this reads exchangeInfo through its REST
    client when it has one (Binance spot and USD-M both do).
    """
    rest: Any = getattr(exchange, "rest", None)
    api: Any = getattr(exchange, "api", None)
    if rest is None or api is None:
        return ""
    params = {"symbol": exchange.symbol} if exchange.market is Market.SPOT else None
    info = rest.request("GET", api.exchange_info.path, params, weight=api.exchange_info.weight)
    if not isinstance(info, dict):
        return ""
    return str(parse.symbol_info(info, exchange.symbol).get("status", ""))


def worst_case_notional(params: TradingParams, price: int) -> Decimal:
    """Quote needed if every buy level fills at once (capped by max_inventory), at ``price``."""
    steps = min(params.grid.buy_window * params.grid.order_qty, params.grid.max_inventory)
    return params.rules.notional(price, steps)


def check_account(
    config: Config, exchange: Exchange, params: TradingParams, price: int, own_locked: Decimal = Decimal(0)
) -> AccountCheck:
    """Run every check; raises :class:`UnsafeError` (one line) on the first that fails.

    ``own_locked`` is the quote the bot's own open buys already hold (after a restart): it counts as
    available, since those buys are part of the grid being checked.
    """
    rules = params.rules
    try:
        status = symbol_status(exchange)
        if status and status != "TRADING":
            raise UnsafeError(f"symbol {rules.symbol} is {status}, not TRADING: refusing to trade")
        offset = exchange.sync_time()
        if abs(offset) > config.exchange.recv_window_ms:
            raise UnsafeError(
                f"local clock is {offset} ms off the exchange's, beyond recv_window_ms "
                f"{config.exchange.recv_window_ms}: fix the system clock (NTP) first"
            )
        if isinstance(exchange, FuturesExchange) and exchange.market is Market.USDM:
            _check_futures(config, exchange)
        balances = exchange.balances()
    except ExchangeError as exc:
        raise UnsafeError(f"account check failed: {exc}") from None
    quote = balances.get(rules.quote_asset)
    base = balances.get(rules.base_asset)
    quote_free = quote.free if quote is not None else Decimal(0)
    base_total = base.total if base is not None else Decimal(0)
    need = worst_case_notional(params, price)
    have = quote_free + own_locked
    if exchange.market is Market.USDM:
        lev = config.exchange.leverage or 1
        have = quote_free * lev
    if have < need:
        raise UnsafeError(
            f"{rules.quote_asset} available {have} does not cover the worst-case grid notional {need} "
            f"({params.grid.buy_window} buy levels x {rules.steps_to_qty(params.grid.order_qty)} at "
            f"{rules.ticks_to_price(price)}): lower the order size or windows, or fund the account"
        )
    equity = (quote.total if quote is not None else Decimal(0)) + base_total * rules.tick_size * price
    return AccountCheck(quote_free, base_total, need, offset, equity, price)


def _check_futures(config: Config, exchange: FuturesExchange) -> None:
    ex, risk = config.exchange, config.risk
    if ex.leverage is not None and ex.leverage > risk.max_leverage:
        raise UnsafeError(f"exchange.leverage {ex.leverage} is above risk.max_leverage {risk.max_leverage}")
    if exchange.position_mode():
        raise UnsafeError("the futures account is in hedge mode: switch it to one-way mode for a long grid")
    if ex.margin_type is not None:
        exchange.set_margin_type(ex.margin_type)
    if ex.leverage is not None:
        applied = exchange.set_leverage(ex.leverage)
        if applied > risk.max_leverage:
            raise UnsafeError(
                f"exchange applied leverage {applied}, above risk.max_leverage {risk.max_leverage}"
            )
    pos = exchange.position()
    if pos.leverage > risk.max_leverage:
        raise UnsafeError(
            f"{exchange.symbol} leverage is {pos.leverage}, above risk.max_leverage {risk.max_leverage}: "
            "set exchange.leverage"
        )
    if ex.margin_type is not None and pos.margin_type and pos.margin_type[:5] != ex.margin_type.lower()[:5]:
        raise UnsafeError(f"{exchange.symbol} margin type is {pos.margin_type}, not {ex.margin_type}")
