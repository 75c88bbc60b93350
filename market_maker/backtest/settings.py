"""A backtest's settings: the bot's own configuration (with its ``backtest`` section), nothing besides.

The grid and risk rules are the configuration's, in core units through the one mapping the live bot
uses (:func:`market_maker.settings.params.trading_params`), against the ``sim`` section's symbol
filters. The fill model is the ``backtest`` section with the ``sim`` section's fees; the starting
capital is the ``sim`` balance of the quote asset; the client order ids carry ``bot.id``.
:meth:`BacktestSettings.with_overrides` applies ``NAME=VALUE`` texts (``--set``, ``--sweep``) through
:func:`market_maker.settings.overrides.apply_overrides`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from market_maker.backtest.fill_model import FillModel
from market_maker.core.params import TradingParams
from market_maker.settings.models import Config
from market_maker.settings.overrides import apply_overrides
from market_maker.settings.params import ParamsError, trading_params

__all__ = ["BacktestSettings", "ParamsError"]

# market_series builds longer risk candles from the data's, aligned on UTC days: up to one day
_LONGEST_RISK_CANDLE_MS = 86_400_000


@dataclass(frozen=True)
class BacktestSettings:
    """One backtest's configuration and what the backtester reads from it (built and checked at once)."""

    config: Config = field(default_factory=Config)
    params: TradingParams = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        params = trading_params(self.config)
        if not 0 < params.risk_candle_ms <= _LONGEST_RISK_CANDLE_MS:
            raise ParamsError(
                f"risk.atr_interval: {self.config.risk.atr_interval!r} is not a kline interval the"
                " backtester supports (1s..1d)"
            )
        object.__setattr__(self, "params", params)

    def __reduce__(self) -> tuple[Any, tuple[Config]]:
        # pickled as its configuration alone (the optimizer ships settings to Dask workers): the
        # compiled core's frozen value types in ``params`` cannot be unpickled, and are derived anyway
        return (BacktestSettings, (self.config,))

    def with_overrides(self, overrides: Mapping[str, str]) -> BacktestSettings:
        """A copy with ``name -> value text`` applied (ConfigError or ParamsError, one line per problem)."""
        return BacktestSettings(apply_overrides(self.config, overrides)) if overrides else self

    def fill_model(self) -> FillModel:
        """The fill model: the ``backtest`` section, with the simulated venue's fees for the market."""
        maker, taker = self.config.sim.fees_for(self.config.exchange.market)
        b = self.config.backtest
        return FillModel(maker, taker, b.post_only, b.volume_share, b.fill_on_touch)

    @property
    def initial_capital(self) -> Decimal:
        """Starting cash: the ``sim`` balance of the quote asset."""
        return self.config.sim.balances.get(self.params.rules.quote_asset, Decimal(0))

    @property
    def bot_id(self) -> str:
        """The client order ids' prefix (``bot.id``)."""
        return self.config.bot.id

    def as_strings(self) -> dict[str, str]:
        """Every setting the run reads, as text, for reports: the trading and risk keys by their names,
        then the symbol's filters, the fill model, the capital and the bot id as the backtest used them."""
        cfg, rules, fm = self.config, self.params.rules, self.fill_model()
        out = {
            k: v
            for section in (cfg.trading, cfg.risk, cfg.backtest)
            for k, v in section.model_dump(mode="json").items()
        }
        out.update(
            base_asset=rules.base_asset,
            quote_asset=rules.quote_asset,
            tick_size=rules.tick_size,
            step_size=rules.step_size,
            min_qty=rules.min_qty,
            min_notional=rules.min_notional,
            maker_fee=fm.maker_fee,
            taker_fee=fm.taker_fee,
            max_open_orders=cfg.cleanup.max_open_orders,
            stale_order_age_seconds=cfg.cleanup.stale_order_age_seconds,
            cleanup_interval_seconds=cfg.cleanup.interval_seconds,
            market=cfg.exchange.market.value,
            bot_id=self.bot_id,
            initial_capital=self.initial_capital,
        )
        return {k: "" if v is None else str(v) for k, v in out.items()}
