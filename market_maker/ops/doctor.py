"""``doctor``'s checks: is it safe to start this bot? Each check gives one line, ok / WARN / FAIL.

Read-only towards the exchange: nothing is placed, cancelled or re-configured (futures leverage and
margin type are compared, not set). The database is opened (created if missing, as the bot would)
and a write is tried inside a transaction that is rolled back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from market_maker.core.model import Market
from market_maker.exchange.base import Exchange, FuturesExchange
from market_maker.exchange.errors import ExchangeError
from market_maker.settings.models import Config

CLOCK_WARN_MS = 1000  # Binance rejects requests stamped more than 1 s ahead of its clock
LOCK_STALE_MS = 30_000  # matches the bot's lock heartbeat staleness (actors/system.py)


class Status(StrEnum):
    """How one check went."""

    OK = "ok"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One line of the doctor's report."""

    name: str
    status: Status
    detail: str

    def line(self) -> str:
        """``FAIL  clock skew: ...``."""
        return f"{self.status.value:<5} {self.name}: {self.detail}"


class _Rollback(Exception):
    """Raised inside the probe transaction so nothing it wrote stays."""


def _plain(value: Decimal) -> str:
    """A decimal without trailing zeros and never in exponent form."""
    return format(value.normalize(), "f")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def check_database(config: Config, now_ms: int) -> Iterator[CheckResult]:
    """Database reachable and writable, its file and tables sound; the trading lock not left stale by a
    crashed bot."""
    from market_maker.store import StoreDamagedError, StoreError, open_store, verify_store

    where = "database"
    try:
        store = open_store(config.engine.database, config.bot.id, config.trading.symbol)
    except StoreError as exc:
        yield CheckResult(where, Status.FAIL, _one_line(exc))
        return
    try:
        try:
            with store.atomic():
                store.set_control("doctor_probe", str(now_ms))
                raise _Rollback
        except _Rollback:
            pass
        yield CheckResult(where, Status.OK, f"{store!r} is reachable and writable")
    except StoreError as exc:
        yield CheckResult(where, Status.FAIL, f"not writable: {_one_line(exc)}")
        store.close()
        return
    try:
        verify_store(store)
        yield CheckResult("store integrity", Status.OK, "file, tables and slot book are sound")
    except StoreDamagedError as exc:
        yield CheckResult("store integrity", Status.FAIL, _one_line(exc))
    try:
        yield _lock_result(store.lock_holder(), now_ms)
    except StoreError as exc:
        yield CheckResult("lock", Status.FAIL, f"cannot read the trading lock: {_one_line(exc)}")
    finally:
        store.close()


def _lock_result(holder: Any, now_ms: int) -> CheckResult:
    from market_maker.store.lock import process_gone, this_process

    if holder is None:
        return CheckResult("lock", Status.OK, "free (no bot holds this bot id and symbol)")
    who = f"{holder.owner} (pid {holder.pid} on {holder.host})"
    age_s = max(0, now_ms - holder.heartbeat_ms) / 1000
    if process_gone(holder.pid, holder.host):
        return CheckResult(
            "lock", Status.WARN, f"stale: held by {who}, which no longer runs; the next start takes it over"
        )
    if age_s * 1000 > LOCK_STALE_MS:
        if holder.host == this_process()[1]:
            return CheckResult("lock", Status.WARN, f"stale: held by {who}, last heartbeat {age_s:.0f}s ago")
        # Another host: its bot may be alive with a stuck heartbeat; two bots on one account is the risk.
        return CheckResult(
            "lock",
            Status.FAIL,
            f"stale: held by {who}, last heartbeat {age_s:.0f}s ago; make sure that bot is stopped",
        )
    return CheckResult(
        "lock",
        Status.WARN,
        f"held by a running bot {who} (heartbeat {age_s:.0f}s ago): a second start is refused",
    )


def _account(exchange: Exchange) -> dict[str, Any]:
    rest: Any = getattr(exchange, "rest", None)
    if rest is None:
        return {}
    path = "/api/v3/account" if exchange.market is Market.SPOT else "/fapi/v2/account"
    weight = 20 if exchange.market is Market.SPOT else 5
    body = rest.request("GET", path, signed=True, weight=weight)
    return body if isinstance(body, dict) else {}


def check_exchange(config: Config, exchange: Exchange, description: str) -> Iterator[CheckResult]:
    """Exchange reachable, symbol trading, clock skew, key permissions, balance vs the worst-case grid."""
    from market_maker.settings.params import ParamsError, trading_params
    from market_maker.startup.safety import symbol_status, worst_case_notional

    try:
        exchange.start()
        rules = exchange.symbol_rules()
        status = symbol_status(exchange) or "unknown"
    except ExchangeError as exc:
        yield CheckResult("exchange", Status.FAIL, f"{description}: {_one_line(exc)}")
        return
    sym_ok = status in ("TRADING", "unknown")
    yield CheckResult(
        "exchange", Status.OK if sym_ok else Status.FAIL, f"{description}: {rules.symbol} is {status}"
    )
    yield from _guarded("clock skew", lambda: _clock(config, exchange))
    yield from _guarded("API key", lambda: _permissions(config, exchange))
    if isinstance(exchange, FuturesExchange) and exchange.market is Market.USDM:
        yield from _guarded("futures", lambda: _futures(config, exchange))
    try:
        params = trading_params(config, rules)
    except ParamsError as exc:
        yield CheckResult("grid", Status.FAIL, str(exc))
        return
    yield from _guarded("balance", lambda: _balance(config, exchange, params, worst_case_notional))
    if config.exchange.venue != "sim":  # on the simulator the config's own warnings said it already
        yield from _guarded("fees and minimums", lambda: _money(config, exchange, rules))


def _guarded(name: str, check: Callable[[], CheckResult]) -> Iterator[CheckResult]:
    try:
        yield check()
    except ExchangeError as exc:
        yield CheckResult(name, Status.FAIL, _one_line(exc))


def _clock(config: Config, exchange: Exchange) -> CheckResult:
    offset = exchange.sync_time()
    window = config.exchange.recv_window_ms
    text = f"local clock is {offset:+d} ms off the exchange's (recv window {window} ms)"
    if abs(offset) > window:
        return CheckResult("clock skew", Status.FAIL, text + ": requests would be rejected; fix NTP")
    if abs(offset) > CLOCK_WARN_MS:
        return CheckResult("clock skew", Status.WARN, text + ": compensated, but fix NTP")
    return CheckResult("clock skew", Status.OK, text)


def _permissions(config: Config, exchange: Exchange) -> CheckResult:
    account = _account(exchange)
    if not account:
        return CheckResult("API key", Status.WARN, "the connector cannot read account permissions")
    if not account.get("canTrade", False):
        return CheckResult("API key", Status.FAIL, "the key may not trade (canTrade false): enable trading")
    detail = "can trade"
    if "permissions" in account:
        detail += f" (account permissions {', '.join(map(str, account['permissions'])) or 'none'})"
    return CheckResult("API key", Status.OK, detail)


def _futures(config: Config, exchange: FuturesExchange) -> CheckResult:
    """One-way mode and leverage within risk.max_leverage; compared only, never changed here."""
    max_lev, wanted = config.risk.max_leverage, config.exchange.leverage
    if exchange.position_mode():
        return CheckResult(
            "futures", Status.FAIL, "the account is in hedge mode: a long grid needs one-way mode"
        )
    now = exchange.position().leverage
    if wanted is not None:
        if wanted > max_lev:
            return CheckResult(
                "futures", Status.FAIL, f"exchange.leverage {wanted} is above risk.max_leverage {max_lev}"
            )
        return CheckResult("futures", Status.OK, f"one-way mode; leverage {now} now, {wanted} set at start")
    if now > max_lev:
        return CheckResult(
            "futures",
            Status.FAIL,
            f"{exchange.symbol} leverage is {now}, above risk.max_leverage {max_lev}: set exchange.leverage",
        )
    return CheckResult("futures", Status.OK, f"one-way mode; leverage {now}")


def _balance(
    config: Config, exchange: Exchange, params: Any, worst_case: Callable[..., Decimal]
) -> CheckResult:
    rules = params.rules
    candles = exchange.klines("1m", limit=1)
    if not candles:
        return CheckResult("balance", Status.FAIL, "no price: the exchange returned no candle")
    price = candles[-1].close
    need = worst_case(params, price)
    balances = exchange.balances()
    quote = balances.get(rules.quote_asset)
    free = quote.free if quote is not None else Decimal(0)
    have, how = free, f"{_plain(free)} {rules.quote_asset} free"
    if isinstance(exchange, FuturesExchange) and exchange.market is Market.USDM:
        leverage = config.exchange.leverage or exchange.position().leverage or 1
        have, how = free * leverage, f"{_plain(free)} {rules.quote_asset} free x leverage {leverage}"
    text = (
        f"{how} vs worst-case grid {_plain(need)} {rules.quote_asset} ({params.grid.buy_window} buys of"
        f" {rules.steps_to_qty(params.grid.order_qty)} at {rules.ticks_to_price(price)})"
    )
    return CheckResult("balance", Status.OK if have >= need else Status.FAIL, text)


def _money(config: Config, exchange: Exchange, rules: Any) -> CheckResult:
    """The interval against the round-trip fees at today's price; the order size against the filters."""
    from market_maker.settings import money_sense

    candles = exchange.klines("1m", limit=1)
    if not candles:
        return CheckResult("fees and minimums", Status.WARN, "no price: the exchange returned no candle")
    price = rules.ticks_to_price(candles[-1].close)
    rates = _account(exchange).get("commissionRates") or {}
    default, _ = config.sim.fees_for(exchange.market)  # Binance's base-tier rates
    maker = Decimal(str(rates.get("maker", default)))
    key, interval = money_sense.grid_interval(config)
    lines = [money_sense.interval_warning(key, interval, price, maker, rules.tick_size, rules.quote_asset)]
    lowest = price - interval * config.trading.buy_window_size
    if lowest > 0:
        lines += money_sense.size_warnings(
            config.trading.order_quantity,
            lowest,
            rules.min_qty,
            rules.min_notional,
            rules.base_asset,
            rules.quote_asset,
        )
    found = [line for line in lines if line]
    if found:
        return CheckResult("fees and minimums", Status.WARN, "; ".join(found))
    need = money_sense.break_even_interval(price, maker, rules.tick_size)
    return CheckResult(
        "fees and minimums",
        Status.OK,
        f"{key} {_plain(interval)} beats the break-even {_plain(need)} {rules.quote_asset}"
        f" (maker fee {_plain(maker)}, price {_plain(price)})",
    )


def now_ms() -> int:
    """Wall-clock time in ms (the lock's heartbeat is wall-clock)."""
    return int(time.time() * 1000)


def environment_note(config: Config) -> str:
    """What is checked and where the API key comes from (never the key), for the report's header."""
    creds = config.credentials
    if config.exchange.venue == "sim" and config.exchange.rest_url is None:
        src = "a throw-away key of the in-process simulator"
    else:
        src = creds.api_key_source or (
            "sim-exchange's paper account"
            if config.exchange.venue == "sim"
            else f"nowhere: {config.exchange.api_key_env} is not set"
        )
    return f"config ok: bot {config.bot.id}, {config.trading.symbol} on {config.exchange.venue} " + (
        f"{config.exchange.market.value}; API key from {src}"
    )
