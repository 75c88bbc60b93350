"""The validated configuration: one frozen pydantic model per YAML section.

Every default lives here and nowhere else (config/default.yaml only overrides). Money and prices are
``Decimal``; unknown keys are rejected. Checks that involve several keys are in
:mod:`market_maker.settings.cross_checks` and run when a :class:`Config` is built.
docs/configuration.md documents every field; keep the two in step.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from market_maker.core.model import Market
from market_maker.settings import cross_checks
from market_maker.settings.errors import ConfigError, CrossFieldError

# Binance kline intervals (case-sensitive: 1m is a minute, 1M a month). USD-M has no 1s.
KlineInterval = Literal[
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M"
]
KLINE_INTERVALS: tuple[str, ...] = get_args(KlineInterval)

# Binance production endpoints per market (reference §A.1, §A.6, §B.6, §C.1). None: not used there.
PRODUCTION_URLS: dict[str, dict[str, str | None]] = {
    "spot": {
        "rest_url": "https://api.binance.com",
        "ws_url": "wss://stream.binance.com:9443",
        "ws_api_url": "wss://ws-api.binance.com:443/ws-api/v3",
    },
    "usdm": {
        "rest_url": "https://fapi.binance.com",
        "ws_url": "wss://fstream.binance.com",
        # order entry only (exchange.order_transport websocket): futures user data uses a listenKey on ws_url
        "ws_api_url": "wss://ws-fapi.binance.com/ws-fapi/v1",
    },
}

# Bounds keep every later computation inside Decimal's default context (no Overflow in the checks).
_MAX = Decimal("1e15")
_PLACES = 18
PositiveDecimal = Annotated[Decimal, Field(gt=0, lt=_MAX, decimal_places=_PLACES, allow_inf_nan=False)]
NonNegativeDecimal = Annotated[Decimal, Field(ge=0, lt=_MAX, decimal_places=_PLACES, allow_inf_nan=False)]
FeeRate = Annotated[Decimal, Field(ge=0, le=Decimal("0.1"), decimal_places=_PLACES, allow_inf_nan=False)]


def _off_or_above_one(value: Decimal) -> Decimal:
    if 0 < value <= 1:
        raise ValueError("must be 0 (the rule off) or greater than 1")
    return value


# a trigger's multiple of its reference: 0 turns the trigger off
SpikeMultiple = Annotated[
    Decimal,
    Field(ge=0, lt=_MAX, decimal_places=_PLACES, allow_inf_nan=False),
    AfterValidator(_off_or_above_one),
]
Share = Annotated[Decimal, Field(gt=0, le=1, decimal_places=_PLACES, allow_inf_nan=False)]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=100)]


MAX_PATH = 4096  # Linux's PATH_MAX: no longer path can be opened


def _plain_path(value: str) -> str:
    """A file path as the operating system can take it: no NUL or control character, not absurdly long."""
    if len(value) > MAX_PATH:
        raise ValueError(f"is {len(value)} characters long; a path has at most {MAX_PATH}")
    if not value.isprintable():
        raise ValueError("must not contain a NUL or another control character")
    return value


class Section(BaseModel):
    """Base of every section: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TradingConfig(Section):
    """What to trade and the grid's shape (the product spec's names)."""

    strategy_type: Literal["grid"] = "grid"
    symbol: Annotated[str, Field(pattern=r"^[A-Z0-9]{2,20}$")] = "BTCUSDT"
    price_interval: PositiveDecimal = Decimal("10")
    order_quantity: PositiveDecimal = Decimal("0.001")
    buy_window_size: Annotated[int, Field(ge=1, le=100)] = 5
    sell_window_size: Annotated[int, Field(ge=1, le=100)] = 5
    dynamic_interval: bool = False
    volatility_scale: PositiveDecimal = Decimal("1")
    inventory_skew_factor: Annotated[
        Decimal, Field(ge=0, le=1, decimal_places=_PLACES, allow_inf_nan=False)
    ] = Decimal("0")

    @field_validator("symbol", mode="before")
    @classmethod
    def _upper_symbol(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value


class BotConfig(Section):
    """Identity of this bot instance."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,12}$")] = "mm1"
    cancel_on_exit: bool = False
    # pin the process to this CPU (see market_maker/ops/cpu_pin.py); None: the OS places its threads
    cpu: Annotated[int, Field(ge=0)] | None = None


def _check_url(value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname or any(c.isspace() for c in value):
        raise ValueError(f"must be a {' or '.join(s + '://' for s in schemes)} URL with a host")
    if parts.username or parts.password:
        raise ValueError("must not carry a user name or password")
    return value.rstrip("/")


SPOT_ONLY_STP = ("DECREMENT", "TRANSFER")  # self-trade prevention modes USD-M does not have


class ExchangeConfig(Section):
    """Where orders go. API key and secret never live here: see ``api_key_env`` and ``secrets_file``."""

    venue: Literal["sim", "binance"] = "sim"
    market: Market = Market.SPOT
    rest_url: str | None = None
    ws_url: str | None = None
    ws_api_url: str | None = None
    api_key_env: EnvName = "MM_API_KEY"
    api_secret_env: EnvName = "MM_API_SECRET"
    secrets_file: Path | None = None
    # an Ed25519 (or RSA) API key: the PEM private key from this variable, else from this 0600 file
    private_key_env: EnvName = "MM_API_PRIVATE_KEY"
    private_key_file: Path | None = None
    # place and cancel over REST, or over the WebSocket API (falls back to REST while its socket is down)
    order_transport: Literal["rest", "websocket"] = "rest"
    # selfTradePreventionMode sent on every order (docs/exchanges.md, "Self-trade prevention")
    self_trade_prevention: Literal[
        "NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT", "TRANSFER"
    ] = "EXPIRE_TAKER"
    recv_window_ms: Annotated[int, Field(ge=1, le=60000)] = 5000
    timeout_seconds: Annotated[float, Field(gt=0, le=300, allow_inf_nan=False)] = 10.0
    leverage: Annotated[int, Field(ge=1, le=125)] | None = None
    margin_type: Literal["ISOLATED", "CROSSED"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_urls(cls, data: Any) -> Any:
        # Binance production by market unless overridden; the simulator picks its own (loopback) URLs.
        if not isinstance(data, dict) or data.get("venue") != "binance":
            return data
        defaults = PRODUCTION_URLS.get(str(data.get("market", "spot")))
        if defaults is None:
            return data
        filled = dict(data)
        for key, url in defaults.items():
            if filled.get(key) is None and url is not None:
                filled[key] = url
        return filled

    @field_validator("rest_url")
    @classmethod
    def _rest_url(cls, value: str | None) -> str | None:
        return _check_url(value, ("https", "http"))

    @field_validator("ws_url", "ws_api_url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        return _check_url(value, ("wss", "ws"))

    @field_validator("secrets_file", "private_key_file")
    @classmethod
    def _non_empty_path(cls, value: Path | None) -> Path | None:
        if value is not None and str(value) in ("", "."):
            raise ValueError("must be a file path")
        return value

    @model_validator(mode="after")
    def _futures_only(self) -> ExchangeConfig:
        if self.market is Market.SPOT:
            problems = [
                (key, f"only for market usdm (this is market spot); remove it (got {getattr(self, key)})")
                for key in ("leverage", "margin_type")
                if getattr(self, key) is not None
            ]
            if problems:
                raise CrossFieldError(problems)
        elif self.self_trade_prevention in SPOT_ONLY_STP:
            raise CrossFieldError(
                [
                    (
                        "self_trade_prevention",
                        f"{self.self_trade_prevention} is a spot mode; USD-M takes NONE, EXPIRE_TAKER,"
                        " EXPIRE_MAKER or EXPIRE_BOTH",
                    )
                ]
            )
        return self


class EngineConfig(Section):
    """Persistence: simple (peewee on SQLite) or durable (DBOS workflows)."""

    type: Literal["simple", "durable"] = "simple"
    database: Annotated[str, Field(min_length=1)] = "var/market_maker.sqlite"

    @field_validator("database")
    @classmethod
    def _database(cls, value: str) -> str:
        if "://" in value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a SQLite file path or a postgresql:// URL")
        return _plain_path(value)

    @property
    def is_postgres(self) -> bool:
        """True when ``database`` is a PostgreSQL URL rather than a SQLite path."""
        return self.database.startswith(("postgresql://", "postgres://"))

    @model_validator(mode="after")
    def _postgres_needs_durable(self) -> EngineConfig:
        if self.is_postgres and self.type != "durable":
            raise CrossFieldError([("database", "a postgresql:// database needs engine.type durable")])
        return self


class RiskConfig(Section):
    """Volatility triggers, inventory bounds, circuit breaker."""

    atr_period: Annotated[int, Field(ge=1, le=1000)] = 14
    atr_interval: KlineInterval = "1m"
    baseline_atr: Literal["rolling"] | PositiveDecimal = "rolling"
    baseline_window: Annotated[int, Field(ge=1, le=100000)] = 240
    min_interval: PositiveDecimal | None = None
    max_interval: PositiveDecimal | None = None
    target_inventory: NonNegativeDecimal = Decimal("0")
    max_inventory: PositiveDecimal = Decimal("0.05")
    atr_spike_multiple: SpikeMultiple = Decimal("3")
    volume_spike_multiple: SpikeMultiple = Decimal("5")
    stale_price_seconds: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 30.0
    max_price_jump_pct: Annotated[Decimal, Field(ge=0, le=100, decimal_places=2, allow_inf_nan=False)] = (
        Decimal("5")  # 0: off
    )
    price_jump_confirm_quotes: Annotated[int, Field(ge=1, le=100000)] = 20
    stale_after_dropped_quotes: Annotated[int, Field(ge=1, le=100000)] = 5
    max_consecutive_losses: Annotated[int, Field(ge=0)] = 5
    max_drawdown_pct: Annotated[Decimal, Field(ge=0, le=100, decimal_places=_PLACES, allow_inf_nan=False)] = (
        Decimal("10")  # 0: off
    )
    cooldown_seconds: Annotated[int, Field(ge=0)] = 300
    max_leverage: Annotated[int, Field(ge=1, le=125)] = 1
    max_position_drift: NonNegativeDecimal = Decimal("0.001")

    @field_validator("baseline_atr", mode="before")
    @classmethod
    def _baseline(cls, value: Any) -> Any:
        # One clear message instead of one per union member.
        if isinstance(value, str) and value.strip().lower() == "rolling":
            return "rolling"
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise ValueError("must be 'rolling' or a positive price distance")
        try:
            number = Decimal(str(value).strip())
        except ArithmeticError:
            raise ValueError("must be 'rolling' or a positive price distance") from None
        if not number.is_finite() or number <= 0 or number >= _MAX or number.as_tuple().exponent < -_PLACES:  # type: ignore[operator]
            raise ValueError("must be 'rolling' or a positive price distance")
        return number

    @model_validator(mode="after")
    def _ranges(self) -> RiskConfig:
        problems = []
        if (
            self.min_interval is not None
            and self.max_interval is not None
            and self.max_interval < self.min_interval
        ):
            problems.append(
                ("max_interval", f"{self.max_interval} is below min_interval {self.min_interval}")
            )
        if self.baseline_atr == "rolling" and self.baseline_window < self.atr_period:
            problems.append(
                ("baseline_window", f"{self.baseline_window} is shorter than atr_period {self.atr_period}")
            )
        if self.target_inventory > self.max_inventory:
            problems.append(
                ("target_inventory", f"{self.target_inventory} is above max_inventory {self.max_inventory}")
            )
        if problems:
            raise CrossFieldError(problems)
        return self


class ReconcileConfig(Section):
    """How often open orders and recent trades are compared with the exchange."""

    interval_seconds: Annotated[float, Field(gt=0, le=86400, allow_inf_nan=False)] = 30.0


class CleanupConfig(Section):
    """Stale-order sweeping and the open-order cap."""

    interval_seconds: Annotated[float, Field(gt=0, le=86400, allow_inf_nan=False)] = 60.0
    stale_order_age_seconds: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 3600.0
    max_open_orders: Annotated[int, Field(ge=2, le=200)] = 50


class OpsConfig(Section):
    """Health/status HTTP endpoint and logging. The bearer token comes from ``token_env`` only."""

    enabled: bool = True  # serve /, /metrics, /healthz, /status (false: no endpoint)
    host: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9.:\-\[\]]+$")] = "127.0.0.1"
    # 0: a free port the OS picks, recorded in the store so that `status` finds it
    port: Annotated[int, Field(ge=0, le=65535)] = 0
    token_env: EnvName = "MM_OPS_TOKEN"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    log_file: Path | None = None
    log_max_bytes: Annotated[int, Field(ge=1024)] = 10 * 1024 * 1024
    log_backups: Annotated[int, Field(ge=0, le=1000)] = 5
    heartbeat_seconds: Annotated[float, Field(gt=0, le=86400, allow_inf_nan=False)] = 60.0
    webhook_url: str | None = None  # alerts are POSTed here as JSON (None: no alerts)
    webhook_url_env: EnvName = "MM_OPS_WEBHOOK_URL"  # or from this variable (a chat webhook is a secret)
    alert_min_interval_seconds: Annotated[float, Field(ge=0, le=86400, allow_inf_nan=False)] = 60.0

    @field_validator("log_file", mode="before")
    @classmethod
    def _log_file(cls, value: Any) -> Any:
        return _plain_path(value) if isinstance(value, str) else value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        return _check_url(value, ("https", "http"))

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value


# Quote assets tried, longest first, to split a symbol like BTCUSDT into BTC / USDT for the simulator.
_KNOWN_QUOTES = ("FDUSD", "USDT", "USDC", "TUSD", "BUSD", "EUR", "TRY", "BTC", "ETH", "BNB")


class SimSection(Section):
    """The built-in exchange simulator (venue sim); ignored for venue binance."""

    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 1
    price_path: Literal["random_walk", "replay"] = "random_walk"
    start_price: PositiveDecimal = Decimal("100000")
    # Path parameters use the simulator's own names and units (market_maker/sim/config.py).
    volatility: Annotated[float, Field(gt=0, le=50, allow_inf_nan=False)] = 0.5  # annualised, calm regime
    volatile_multiplier: Annotated[float, Field(ge=1, le=100, allow_inf_nan=False)] = 3.0
    regime_switch_per_hour: Annotated[float, Field(ge=0, le=3600, allow_inf_nan=False)] = 2.0
    jumps_per_day: Annotated[float, Field(ge=0, le=86400, allow_inf_nan=False)] = 4.0
    jump_size: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.01  # stdev, fraction of price
    volume_per_second: NonNegativeDecimal = Decimal("2")  # mean base volume the market trades per second
    replay_file: Path | None = None
    speed: Annotated[float, Field(gt=0, le=100000, allow_inf_nan=False)] = 1.0
    balances: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,20}$")], NonNegativeDecimal] = Field(
        default_factory=lambda: {"USDT": Decimal("10000"), "BTC": Decimal("0")}
    )
    maker_fee: FeeRate | None = None  # None: the simulator's default for the market (see fees_for)
    taker_fee: FeeRate | None = None
    base_asset: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,20}$")] | None = None
    quote_asset: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,20}$")] | None = None
    tick_size: PositiveDecimal = Decimal("0.01")
    step_size: PositiveDecimal = Decimal("0.00001")
    min_qty: NonNegativeDecimal = Decimal("0.00001")
    min_notional: NonNegativeDecimal = Decimal("5")

    @field_validator("balances", mode="before")
    @classmethod
    def _upper_assets(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k.strip().upper() if isinstance(k, str) else k: v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _replay_needs_file(self) -> SimSection:
        if self.price_path == "replay" and self.replay_file is None:
            raise CrossFieldError([("replay_file", "required when sim.price_path is replay")])
        return self

    def fees_for(self, market: Market) -> tuple[Decimal, Decimal]:
        """(maker, taker) fee rates: the configured ones, else the simulator's defaults for the market."""
        maker, taker = (
            (Decimal("0.001"), Decimal("0.001"))
            if market is Market.SPOT
            else (
                Decimal("0.0002"),
                Decimal("0.0005"),
            )
        )
        return (
            self.maker_fee if self.maker_fee is not None else maker,
            self.taker_fee if self.taker_fee is not None else taker,
        )

    def assets_for(self, symbol: str) -> tuple[str, str] | None:
        """(base, quote) of ``symbol``: as configured, else split at a known quote asset; None if unknown."""
        if self.base_asset and self.quote_asset:
            return self.base_asset, self.quote_asset
        if self.quote_asset and symbol.endswith(self.quote_asset) and len(symbol) > len(self.quote_asset):
            return symbol[: -len(self.quote_asset)], self.quote_asset
        if self.base_asset and symbol.startswith(self.base_asset) and len(symbol) > len(self.base_asset):
            return self.base_asset, symbol[len(self.base_asset) :]
        for quote in _KNOWN_QUOTES:
            if symbol.endswith(quote) and len(symbol) > len(quote):
                return symbol[: -len(quote)], quote
        return None


class BacktestConfig(Section):
    """How the backtester fills orders (``python -m market_maker backtest``; see docs/backtesting.md).

    Everything else a backtest reads is the bot's own configuration: the grid and risk rules, and from
    the ``sim`` section the symbol's filters, the fees and the starting balance of the quote asset.
    """

    post_only: bool = True  # a crossing order is rejected (else it fills at once as a taker)
    # an order fills at most this share of a candle's volume per candle; None: whole when crossed
    volume_share: Share | None = None
    fill_on_touch: bool = False  # fill resting orders the price only reaches (else: trades through)


class Credentials(Section):
    """API key, secret and ops token, filled by the loader from the environment or the secrets file.

    ``SecretStr`` masks them in repr/str; call ``get_secret_value()`` only where they are used.
    """

    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    private_key: SecretStr | None = None  # PEM of an Ed25519 or RSA private key (checked when loaded)
    ops_token: SecretStr | None = None
    webhook_url: SecretStr | None = None  # alerts webhook from the environment or the secrets file
    api_key_source: str | None = None  # e.g. "env MM_API_KEY" or "file /etc/mm/secrets.yaml"
    api_secret_source: str | None = None
    private_key_source: str | None = None
    ops_token_source: str | None = None
    webhook_url_source: str | None = None

    @property
    def has_api_credentials(self) -> bool:
        """True when the API key and its secret or private key are present."""
        return self.api_key is not None and (self.api_secret is not None or self.private_key is not None)


class Config(Section):
    """The whole, validated configuration of one bot."""

    trading: TradingConfig = Field(default_factory=TradingConfig)
    bot: BotConfig = Field(default_factory=BotConfig)
    exchange: ExchangeConfig = Field(default_factory=ExchangeConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    reconcile: ReconcileConfig = Field(default_factory=ReconcileConfig)
    cleanup: CleanupConfig = Field(default_factory=CleanupConfig)
    ops: OpsConfig = Field(default_factory=OpsConfig)
    sim: SimSection = Field(default_factory=SimSection)
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)
    credentials: Credentials = Field(default_factory=Credentials)

    @model_validator(mode="after")
    def _cross_checks(self) -> Config:
        try:
            problems = cross_checks.problems(self)
        except ArithmeticError:  # values are bounded, so this is a bug guard, not a user path
            problems = [("", "numbers too large or too precise to check against each other")]
        if problems:
            raise CrossFieldError(problems)
        return self

    def warnings(self) -> list[str]:
        """Things that are valid now but will stop or weaken a run (missing secrets, exposed ops port)."""
        return cross_checks.warnings(self)

    def webhook_url(self) -> str | None:
        """The alerts webhook in clear: the environment or secrets file wins over ``ops.webhook_url``."""
        secret = self.credentials.webhook_url
        return secret.get_secret_value() if secret is not None else self.ops.webhook_url

    def api_credentials(self) -> tuple[str, str]:
        """(api_key, api_secret) in clear, for the exchange client only; raises ConfigError if unset.

        With a private key (Ed25519 or RSA) the second item is its PEM text, which wins over an HMAC
        secret: the exchange client signs with whichever it is given."""
        creds = self.credentials
        key, secret = creds.api_key, creds.private_key or creds.api_secret
        if key is None or secret is None:
            raise ConfigError(
                [
                    f"exchange: no API key/secret: set {self.exchange.api_key_env} and"
                    f" {self.exchange.api_secret_env} (or {self.exchange.private_key_env} or"
                    " exchange.private_key_file) or exchange.secrets_file"
                ]
            )
        return key.get_secret_value(), secret.get_secret_value()
