"""The configuration's ``sim`` section (plus the traded symbol) as the simulator's :class:`SimConfig`."""

from __future__ import annotations

from market_maker.core.model import Market
from market_maker.settings.errors import ConfigError
from market_maker.settings.models import Config
from market_maker.sim.config import SimConfig, SymbolSpec


def sim_config(config: Config, step_mode: bool = False) -> SimConfig:
    """The simulator settings for ``config``: its one symbol, listed on spot and USD-M."""
    s = config.sim
    symbol = config.trading.symbol
    assets = s.assets_for(symbol)
    if assets is None:
        raise ConfigError(
            [
                f"sim: cannot split symbol {symbol} into base and quote assets; "
                "set sim.base_asset and sim.quote_asset"
            ]
        )
    base, quote = assets
    spot_maker, spot_taker = s.fees_for(Market.SPOT)
    fut_maker, fut_taker = s.fees_for(Market.USDM)
    spec = SymbolSpec(
        symbol=symbol,
        base_asset=base,
        quote_asset=quote,
        tick_size=str(s.tick_size),
        step_size=str(s.step_size),
        min_qty=str(s.min_qty),
        min_price=str(s.tick_size),
        min_notional=str(s.min_notional),
        start_price=str(s.start_price),
    )
    return SimConfig(
        symbols=(spec,),
        seed=s.seed,
        step_mode=step_mode,
        speed=s.speed,
        volatility=s.volatility,
        volatile_multiplier=s.volatile_multiplier,
        regime_switch_per_hour=s.regime_switch_per_hour,
        jumps_per_day=s.jumps_per_day,
        jump_size=s.jump_size,
        volume_per_second=str(s.volume_per_second),
        replay_file=str(s.replay_file) if s.replay_file is not None else None,
        spot_maker_fee=str(spot_maker),
        spot_taker_fee=str(spot_taker),
        futures_maker_fee=str(fut_maker),
        futures_taker_fee=str(fut_taker),
    )


def sim_balances(config: Config) -> dict[str, str]:
    """The account's starting balances as decimal strings."""
    return {asset: str(amount) for asset, amount in config.sim.balances.items()}
