"""The recommended configuration: the base configuration with the chosen trial's values, as YAML that
``check-config`` accepts and ``run`` uses as is.

Only what the base file set plus the searched keys are written (the rest keeps its defaults), and
``sim.start_price`` becomes the last close of the history: paper trading on the simulator then starts
where the market was, and ``check-config``'s fee check measures the interval at today's price. On
USD-M without ``exchange.leverage`` it is set to ``risk.max_leverage``: the backtest funds every buy with
cash, and left unset the venue's default leverage (20 on Binance and the simulator) is above the limit,
so ``run`` would refuse to trade.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

from market_maker.settings.models import Config
from market_maker.settings.overrides import apply_overrides
from market_maker.settings.yaml_exact import dump_yaml


def recommended_config(base: Config, overrides: Mapping[str, str], last_close: Decimal) -> Config:
    """``base`` with the chosen values and the simulator's start price at ``last_close``."""
    values = dict(overrides)
    values["sim.start_price"] = format(last_close.normalize(), "f")
    if base.exchange.market.value == "usdm" and base.exchange.leverage is None:
        values["exchange.leverage"] = str(base.risk.max_leverage)
    return apply_overrides(base, values, source="recommended")


def recommended_yaml(config: Config, header: Sequence[str]) -> str:
    """The configuration as YAML (the keys that were set), after ``header`` comment lines."""
    data = config.model_dump(mode="json", exclude_unset=True, exclude={"credentials"})
    return "".join(f"# {line}\n" for line in header) + dump_yaml(data)


def write_recommended(config: Config, path: Path, header: Sequence[str]) -> None:
    """Write the YAML to ``path`` (its directory created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(recommended_yaml(config, header), encoding="utf-8")


def plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros."""
    return format(value.normalize(), "f")
