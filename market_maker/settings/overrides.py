"""``NAME=VALUE`` overrides of a validated configuration (the backtest's ``--set`` and ``--sweep``).

A name is a configuration key path (``trading.price_interval``, ``sim.balances.USDT``) or, when only
one section has it, the key alone (``price_interval``, ``tick_size``). A value is read as a one-line
YAML scalar, like an ``MM_<SECTION>__<KEY>`` environment override, and the whole configuration is
validated again by the same models, so an override obeys every rule a configuration file does. Every
problem is one line of a :class:`ConfigError` naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_origin

from pydantic import BaseModel, ValidationError

from market_maker.settings.errors import ConfigError, format_validation_error
from market_maker.settings.models import Config
from market_maker.settings.yaml_exact import parse_scalar

__all__ = ["apply_overrides", "setting_path"]

_UNKNOWN = "unknown setting (a configuration key such as trading.price_interval: docs/configuration.md)"


def _sections() -> dict[str, type[BaseModel]]:
    out: dict[str, type[BaseModel]] = {}
    for name, field in Config.model_fields.items():
        model = field.annotation
        if name != "credentials" and isinstance(model, type) and issubclass(model, BaseModel):
            out[name] = model
    return out


def _is_mapping(annotation: Any) -> bool:
    return annotation is dict or get_origin(annotation) is dict


def setting_path(name: str) -> tuple[str, ...]:
    """The key path ``name`` means; ConfigError (one line) when it is unknown or ambiguous.

    A path may go one step into a mapping (``sim.balances.USDT``): its keys are free.
    """
    sections = _sections()
    parts = tuple(name.strip().split("."))
    if len(parts) == 1:
        homes = [s for s, model in sections.items() if parts[0] in model.model_fields]
        if len(homes) == 1:
            return (homes[0], parts[0])
        if homes:
            options = " or ".join(f"{s}.{parts[0]}" for s in homes)
            raise ConfigError([f"{name}: a key of several sections: say {options}"])
        raise ConfigError([f"{name}: {_UNKNOWN}"])
    model = sections.get(parts[0])
    if model is None or parts[1] not in model.model_fields:
        raise ConfigError([f"{name}: {_UNKNOWN}"])
    if len(parts) == 2:
        return parts
    if len(parts) == 3 and parts[2] and _is_mapping(model.model_fields[parts[1]].annotation):
        return parts
    raise ConfigError([f"{name}: {_UNKNOWN}"])


def apply_overrides(config: Config, overrides: Mapping[str, str], source: str = "--set") -> Config:
    """``config`` with every ``name -> value text`` of ``overrides`` applied, validated as a whole."""
    data: dict[str, Any] = config.model_dump(mode="python", exclude_unset=True, exclude={"credentials"})
    errors: list[str] = []
    for name, text in overrides.items():
        try:
            path = setting_path(name)
        except ConfigError as exc:
            errors += [f"{source}: {line}" for line in exc.errors]
            continue
        section = data.setdefault(path[0], {})
        value = parse_scalar(text)
        if len(path) == 3:  # a key of a mapping: the other keys stay as they are
            inner = section[path[1]] = dict(section.get(path[1], getattr(getattr(config, path[0]), path[1])))
            inner[path[2]] = value
        else:
            section[path[1]] = value
    if errors:
        raise ConfigError(errors)
    try:
        validated = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, Config, source, {})) from None
    return validated.model_copy(update={"credentials": config.credentials})
