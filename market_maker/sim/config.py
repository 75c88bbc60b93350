"""Simulator configuration: markets, price path, fees, limits, accounts.

Every field has a realistic default (BTCUSDT on spot and USD-M with Binance's filters); a YAML or dict
mapping can override any of them through :meth:`SimConfig.from_mapping`, which rejects unknown keys.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from market_maker.core.rules import SymbolRules

SYMBOL_STATUSES = ("TRADING", "BREAK", "HALT", "END_OF_DAY", "CANCEL_ONLY")


class SimConfigError(ValueError):
    """A simulator configuration value is missing, unknown or malformed."""


@dataclass(frozen=True)
class SymbolSpec:
    """One tradable symbol, listed on spot and on USD-M with the same filters."""

    symbol: str = "BTCUSDT"
    base_asset: str = "BTC"
    quote_asset: str = "USDT"
    tick_size: str = "0.01"
    step_size: str = "0.00001"
    min_qty: str = "0.00001"
    max_qty: str = "9000"
    min_price: str = "0.01"
    max_price: str = "1000000"
    min_notional: str = "5"
    max_notional: str = "9000000"
    start_price: str = "100000"
    # TRADING, or a status in which new orders are refused and cancels still work (and resting orders do
    # not fill): BREAK, HALT, END_OF_DAY, CANCEL_ONLY (Binance spot's, from 2026-07); see also
    # Control.set_symbol_status
    status: str = "TRADING"

    def rules(self) -> SymbolRules:
        """The symbol's filters as core rules."""
        return SymbolRules(
            symbol=self.symbol,
            base_asset=self.base_asset,
            quote_asset=self.quote_asset,
            tick_size=Decimal(self.tick_size),
            step_size=Decimal(self.step_size),
            min_price=Decimal(self.min_price),
            max_price=Decimal(self.max_price),
            min_qty=Decimal(self.min_qty),
            max_qty=Decimal(self.max_qty),
            min_notional=Decimal(self.min_notional),
            max_notional=Decimal(self.max_notional),
        )


# The paper account ``sim-exchange`` serves when its configuration names none (docs/exchanges.md). Paper
# only: a simulator on loopback, no money behind it; printed at start, and ``run`` uses it for venue
# sim with exchange.rest_url set and no key configured.
PAPER_API_KEY = "paper-account-key"
PAPER_API_SECRET = "paper-account-secret"


@dataclass(frozen=True)
class AccountSpec:
    """An account created at start: API key, secret and starting balances (spot and futures wallets).

    ``api_secret`` is an HMAC secret, or the PEM public key of an Ed25519 or RSA API key
    (``-----BEGIN PUBLIC KEY-----``): requests are then verified against it (see :mod:`sim.auth`)."""

    api_key: str
    api_secret: str = field(repr=False)
    balances: dict[str, str] = field(default_factory=lambda: {"USDT": "100000", "BTC": "1"})


@dataclass(frozen=True)
class SimConfig:
    """Everything the simulator needs; defaults give a realistic BTCUSDT venue."""

    symbols: tuple[SymbolSpec, ...] = (SymbolSpec(),)
    accounts: tuple[AccountSpec, ...] = ()
    # price path
    seed: int = 1
    step_mode: bool = False  # True: the path advances only on control.step()
    speed: float = 1.0  # market time runs this many times faster than wall time
    tick_interval_ms: int = 100  # wall-clock ms between path steps (clock-driven mode)
    step_ms: int = 100  # market-time ms per path step in step mode
    volatility: float = 0.5  # annualised, calm regime
    volatile_multiplier: float = 3.0  # volatility factor of the volatile regime
    regime_switch_per_hour: float = 2.0  # expected regime switches per market hour
    jumps_per_day: float = 4.0  # expected jumps per market day
    jump_size: float = 0.01  # standard deviation of a jump, as a fraction of price
    volume_per_second: str = "0.25"  # mean base volume the market trades per market second (BTCUSDT-like)
    replay_file: str | None = None  # kline CSV (Binance public layout) or JSON (12-field arrays)
    replay_symbol: str | None = None  # which symbol the replay drives (default: the first)
    # fees
    spot_maker_fee: str = "0.001"
    spot_taker_fee: str = "0.001"
    futures_maker_fee: str = "0.0002"
    futures_taker_fee: str = "0.0005"
    default_leverage: int = 20
    # limits
    spot_weight_limit: int = 6000  # REQUEST_WEIGHT per minute
    futures_weight_limit: int = 2400
    spot_order_limit_10s: int = 100  # ORDERS per 10 s, per account
    futures_order_limit_10s: int = 300
    spot_order_limit_1d: int = 200_000  # ORDERS per day (UTC), per account
    futures_order_limit_1m: int = 1200  # ORDERS per minute, per account
    max_open_orders: int = 200  # MAX_NUM_ORDERS per account and symbol
    ban_seconds: int = 120  # first 418 ban; doubles on each repeat
    listen_key_ttl_s: int = 3600
    ws_ping_interval_s: float = 20.0  # server pings on every WebSocket
    timeout_hold_s: float = 10.0  # how long a "timeout after accept" holds the answer (then -1007)
    # faults from the start (the control API changes them at run time)
    latency_ms: float = 0.0  # added to every REST answer
    error_rate: float = 0.0  # probability that a REST request answers 503 without being executed
    clock_skew_ms: int = 0  # server clock offset
    force_partial_fills: bool = False  # every resting order's first fill takes half of it
    drop_streams_every_s: float = 0.0  # cut every WebSocket this often (0: never)
    # a WebSocket connection is cut after this many seconds, as Binance cuts every connection at 24 hours
    # (0: never)
    ws_max_connection_s: float = 86_400.0
    # least market time between two updates of a still-open kline on its stream; Binance documents
    # 2000 ms (spot, 1000 for 1s candles) and 250 ms (USD-M). 0: an update on every path step. A kline's
    # closing update always goes out.
    kline_push_ms: int = 0

    def __post_init__(self) -> None:
        if self.kline_push_ms < 0:
            raise SimConfigError(f"sim config: kline_push_ms must be >= 0, got {self.kline_push_ms}")
        if not self.symbols:
            raise SimConfigError("sim config: symbols must list at least one symbol")
        if self.ws_max_connection_s < 0:
            raise SimConfigError("sim config: ws_max_connection_s must not be negative")
        for spec in self.symbols:
            if spec.status not in SYMBOL_STATUSES:
                raise SimConfigError(
                    f"sim config: symbols[{spec.symbol}].status {spec.status!r} is not one of "
                    + ", ".join(SYMBOL_STATUSES)
                )
            for name in (
                "tick_size",
                "step_size",
                "min_qty",
                "max_qty",
                "min_price",
                "max_price",
                "min_notional",
                "max_notional",
                "start_price",
            ):
                _decimal(getattr(spec, name), f"symbols[{spec.symbol}].{name}")
            spec.rules()
        for name in (
            "spot_maker_fee",
            "spot_taker_fee",
            "futures_maker_fee",
            "futures_taker_fee",
            "volume_per_second",
        ):
            if _decimal(getattr(self, name), name) < 0:
                raise SimConfigError(f"sim config: {name} must not be negative")
        if self.speed <= 0 or self.tick_interval_ms <= 0 or self.step_ms <= 0:
            raise SimConfigError("sim config: speed, tick_interval_ms and step_ms must be positive")
        if not 0 <= self.error_rate <= 1:
            raise SimConfigError("sim config: error_rate must be within 0..1")
        if self.latency_ms < 0 or self.drop_streams_every_s < 0:
            raise SimConfigError("sim config: latency_ms and drop_streams_every_s must not be negative")
        if not 1 <= self.default_leverage <= 125:
            raise SimConfigError("sim config: default_leverage must be within 1..125")
        if self.replay_symbol and self.replay_symbol not in {s.symbol for s in self.symbols}:
            raise SimConfigError(f"sim config: replay_symbol {self.replay_symbol!r} is not a listed symbol")

    @classmethod
    def from_mapping(cls, data: dict[str, Any], where: str = "sim config") -> SimConfig:
        """Build from a plain mapping (e.g. parsed YAML); unknown keys raise :class:`SimConfigError`."""
        if not isinstance(data, dict):
            raise SimConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SimConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
        kwargs: dict[str, Any] = dict(data)
        if "symbols" in kwargs:
            kwargs["symbols"] = tuple(
                _build(SymbolSpec, s, f"{where}.symbols[{i}]") for i, s in enumerate(kwargs["symbols"])
            )
        if "accounts" in kwargs:
            kwargs["accounts"] = tuple(
                _build(AccountSpec, a, f"{where}.accounts[{i}]") for i, a in enumerate(kwargs["accounts"])
            )
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise SimConfigError(f"{where}: {exc}") from None

    def symbol(self, name: str) -> SymbolSpec | None:
        """The spec of ``name``, or None."""
        for spec in self.symbols:
            if spec.symbol == name:
                return spec
        return None


def _build(kind: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise SimConfigError(f"{where}: expected a mapping")
    known = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SimConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    clean = {k: (str(v) if k != "balances" else {a: str(b) for a, b in v.items()}) for k, v in data.items()}
    try:
        return kind(**clean)
    except TypeError as exc:
        raise SimConfigError(f"{where}: {exc}") from None


def _decimal(value: str, where: str) -> Decimal:
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise SimConfigError(f"sim config: {where} = {value!r} is not a decimal number") from None
    if not d.is_finite():
        raise SimConfigError(f"sim config: {where} = {value!r} is not finite")
    return d
