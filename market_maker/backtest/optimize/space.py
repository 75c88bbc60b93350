"""The search space file of ``optimize``: which configuration keys to search, over which ranges, for
which objectives, under which constraints. Parsed and checked before anything runs.

    parameters:
      price_interval: {low: "0.02", high: "0.3", log: true}   # a price: searched on the tick
      buy_window_size: {low: 2, high: 10}                     # an integer key: integers
      inventory_skew_factor: {low: "0", high: "0.5", step: "0.05"}
      dynamic_interval: {choices: [false, true]}
    objectives: [return_pct, max_drawdown_pct]    # one: TPE; several: NSGA-II (a Pareto front)
    constraints:
      max_drawdown_pct: 8              # a trial is feasible only at or under this drawdown (%)
      min_round_trips: 30              # ... with at least this many closed round trips
      interval_above_break_even: true  # ... and an interval above the fee break-even (the default)

A decimal key is searched as an integer count of its quantum, so every value is exact and lies on the
exchange's grid: the tick for prices (``price_interval``, ``min_interval``, ``max_interval``,
``baseline_atr``), the step for quantities (``order_quantity``, ``max_inventory``, ...), else the
``step`` the file gives. ``log: true`` searches the count on a log scale. Each bound and choice is
applied to the base configuration and validated like ``--set``, so a value the bot would refuse is
refused here, with the file and key named.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import yaml

from market_maker.settings.errors import ConfigError
from market_maker.settings.models import Config
from market_maker.settings.overrides import apply_overrides, setting_path
from market_maker.settings.yaml_exact import load_yaml

PRICE_KEYS = frozenset({"price_interval", "min_interval", "max_interval", "baseline_atr"})
QTY_KEYS = frozenset({"order_quantity", "max_inventory", "target_inventory", "max_position_drift"})
# summary metrics an objective may name; True where lower is better
METRICS: dict[str, bool] = {
    "return_pct": False,
    "net_pnl": False,
    "realized_pnl": False,
    "sharpe": False,
    "sortino": False,
    "win_rate_pct": False,
    "round_trips": False,
    "max_drawdown_pct": True,
    "fees": True,
    "turnover_ratio": False,
}
_TOP = ("parameters", "objectives", "constraints")
_PARAM_KEYS = ("low", "high", "log", "step", "choices")
_CONSTRAINT_KEYS = ("max_drawdown_pct", "min_round_trips", "interval_above_break_even")


class SpaceError(ValueError):
    """A problem in the space file; the message is one line naming the file and the key."""


@dataclass(frozen=True, slots=True)
class Param:
    """One searched key. ``int``: integers ``low..high`` by ``step``; ``decimal``: ``low..high`` counts
    of ``unit``; ``choice``: one of ``choices`` (value texts)."""

    name: str
    kind: Literal["int", "decimal", "choice"]
    low: int = 0
    high: int = 0
    step: int = 1
    log: bool = False
    unit: Decimal = Decimal(1)
    choices: tuple[str, ...] = ()

    def text(self, raw: Any) -> str:
        """The configuration value text of a sampled value (an integer count, or a choice)."""
        if self.kind == "decimal":
            return _plain(self.unit * int(raw))
        return str(raw)


@dataclass(frozen=True, slots=True)
class Objective:
    """A summary metric to optimize, and its direction."""

    metric: str
    minimize: bool


@dataclass(frozen=True, slots=True)
class Constraints:
    """What makes a trial feasible (None: no bound)."""

    max_drawdown_pct: float | None = None
    min_round_trips: int | None = None
    interval_above_break_even: bool = True


@dataclass(frozen=True, slots=True)
class SearchSpace:
    """The whole space file."""

    params: tuple[Param, ...]
    objectives: tuple[Objective, ...]
    constraints: Constraints

    def overrides(self, raw: Mapping[str, Any]) -> dict[str, str]:
        """``NAME=VALUE`` texts for a trial's sampled values (keys as the file names them)."""
        return {p.name: p.text(raw[p.name]) for p in self.params}


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def load_space(path: Path, config: Config) -> SearchSpace:
    """Read and check ``path`` against the base ``config`` (its tick and step, its validation rules)."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpaceError(f"{path}: cannot read: {exc.strerror or type(exc).__name__}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SpaceError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from None
    return parse_space(data, config, str(path))


def parse_space(data: Any, config: Config, where: str = "<space>") -> SearchSpace:
    """Check the parsed space file ``data`` (``where`` names it in errors); SpaceError on the first
    problem."""
    if not isinstance(data, dict):
        raise SpaceError(f"{where}: the top level must be a mapping with parameters:, objectives:")
    for key in data:
        if key not in _TOP:
            raise SpaceError(f"{where}: {key}: unknown key (use {', '.join(_TOP)})")
    raw_params = data.get("parameters")
    if not isinstance(raw_params, dict) or not raw_params:
        raise SpaceError(f"{where}: parameters: a mapping of at least one configuration key to its range")
    params = tuple(_param(where, str(name), spec, config) for name, spec in raw_params.items())
    seen: dict[tuple[str, ...], str] = {}
    for p in params:
        key = setting_path(p.name)
        if key in seen:
            raise SpaceError(f"{where}: parameters.{p.name}: the same key as {seen[key]}")
        seen[key] = p.name
    return SearchSpace(params, _objectives(where, data.get("objectives")), _constraints(where, data))


def _field(config: Config, path: tuple[str, ...]) -> Any:
    section = type(getattr(config, path[0]))
    return section.model_fields[path[1]].annotation if len(path) == 2 else None


def _kind(annotation: Any) -> str | None:
    """'int', 'bool', 'decimal' or None from a field's type (Optional and Literal unions looked into)."""
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if annotation in (Decimal, float):
        return "decimal"
    if get_origin(annotation) in (Union, UnionType):
        kinds = {_kind(a) for a in get_args(annotation)} - {None}
        return kinds.pop() if len(kinds) == 1 else None
    return None


def _number(where: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise SpaceError(f"{where}: {value!r} is not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise SpaceError(f"{where}: {value!r} is not a number") from None
    if not number.is_finite():
        raise SpaceError(f"{where}: {value!r} is not a finite number")
    return number


def _check_value(where: str, name: str, text: str, config: Config) -> None:
    try:
        apply_overrides(config, {name: text}, source=where)
    except ConfigError as exc:
        raise SpaceError(exc.errors[0]) from None
    except ValueError as exc:  # ParamsError and the like
        raise SpaceError(f"{where}: {exc}") from None


def _param(file: str, name: str, spec: Any, config: Config) -> Param:
    where = f"{file}: parameters.{name}"
    try:
        path = setting_path(name)
    except ConfigError as exc:
        raise SpaceError(f"{file}: parameters.{exc.errors[0]}") from None
    if not isinstance(spec, dict):
        raise SpaceError(f"{where}: a mapping such as {{low: 1, high: 5}} or {{choices: [a, b]}}")
    for key in spec:
        if key not in _PARAM_KEYS:
            raise SpaceError(f"{where}.{key}: unknown key (use {', '.join(_PARAM_KEYS)})")
    kind = _kind(_field(config, path))
    if "choices" in spec:
        return _choice(where, name, spec, config)
    if kind == "bool":
        return _choice(where, name, {"choices": [False, True]}, config)
    if kind is None:
        raise SpaceError(f"{where}: not a number or a switch: give its values as choices: [...]")
    if "low" not in spec or "high" not in spec:
        raise SpaceError(f"{where}: needs low: and high:")
    low, high = _number(f"{where}.low", spec["low"]), _number(f"{where}.high", spec["high"])
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise SpaceError(f"{where}.log: true or false, not {log!r}")
    if low >= high:
        raise SpaceError(f"{where}: low {_plain(low)} must be below high {_plain(high)}")
    if log and low <= 0:
        raise SpaceError(f"{where}.low: {_plain(low)}: a log range starts above 0")
    if kind == "int":
        step = _number(f"{where}.step", spec.get("step", 1))
        for key, v in (("low", low), ("high", high), ("step", step)):
            if v != v.to_integral_value():
                raise SpaceError(f"{where}.{key}: {_plain(v)} is not an integer ({path[1]} is one)")
        if step < 1 or (log and step != 1):
            raise SpaceError(f"{where}.step: {_plain(step)}: at least 1, and 1 with log: true")
        p = Param(name, "int", int(low), int(high), int(step), log)
    else:
        unit = _unit(where, path[1], spec, config)
        for key, v in (("low", low), ("high", high)):
            if v % unit:
                raise SpaceError(f"{where}.{key}: {_plain(v)} is not a multiple of {_plain(unit)}")
        p = Param(name, "decimal", int(low / unit), int(high / unit), 1, log, unit)
    for key, count in (("low", p.low), ("high", p.high)):
        _check_value(f"{where}.{key}", name, p.text(count), config)
    return p


def _unit(where: str, key: str, spec: dict[str, Any], config: Config) -> Decimal:
    """The quantum of a decimal key: the tick for prices, the step for quantities, else ``step``."""
    grid = config.sim.tick_size if key in PRICE_KEYS else config.sim.step_size if key in QTY_KEYS else None
    if "step" in spec:
        step = _number(f"{where}.step", spec["step"])
        if step <= 0:
            raise SpaceError(f"{where}.step: {_plain(step)} must be above 0")
        if grid is not None and step % grid:
            raise SpaceError(f"{where}.step: {_plain(step)} is not a multiple of {_plain(grid)}")
        return step
    if grid is None:
        raise SpaceError(f"{where}: needs step: (the smallest change worth trying)")
    return grid


def _choice(where: str, name: str, spec: dict[str, Any], config: Config) -> Param:
    choices = spec["choices"]
    if set(spec) - {"choices"}:
        raise SpaceError(f"{where}: choices: goes alone (no low/high/log/step)")
    if not isinstance(choices, list) or not choices:
        raise SpaceError(f"{where}.choices: a non-empty list")
    texts = tuple(
        ("true" if c else "false") if isinstance(c, bool) else _plain(c) if isinstance(c, Decimal) else str(c)
        for c in choices
    )
    if len(set(texts)) != len(texts):
        raise SpaceError(f"{where}.choices: a value is given twice")
    for text in texts:
        _check_value(f"{where}.choices", name, text, config)
    return Param(name, "choice", choices=texts)


def _objectives(where: str, raw: Any) -> tuple[Objective, ...]:
    if raw is None:
        raw = ["return_pct"]
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise SpaceError(f"{where}: objectives: a list of metrics, e.g. [return_pct, max_drawdown_pct]")
    out: list[Objective] = []
    for item in raw:
        if item not in METRICS:
            raise SpaceError(f"{where}: objectives: {item!r}: choose among {', '.join(METRICS)}")
        if any(o.metric == item for o in out):
            raise SpaceError(f"{where}: objectives: {item} is given twice")
        out.append(Objective(str(item), METRICS[item]))
    return tuple(out)


def _constraints(where: str, data: dict[str, Any]) -> Constraints:
    raw = data.get("constraints") or {}
    if not isinstance(raw, dict):
        raise SpaceError(f"{where}: constraints: a mapping, e.g. {{max_drawdown_pct: 8}}")
    for key in raw:
        if key not in _CONSTRAINT_KEYS:
            raise SpaceError(f"{where}: constraints.{key}: unknown (use {', '.join(_CONSTRAINT_KEYS)})")
    dd = raw.get("max_drawdown_pct")
    rt = raw.get("min_round_trips")
    be = raw.get("interval_above_break_even", True)
    if dd is not None:
        dd_n = _number(f"{where}: constraints.max_drawdown_pct", dd)
        if not 0 < dd_n <= 100:
            raise SpaceError(f"{where}: constraints.max_drawdown_pct: {dd} must be in (0, 100]")
    if rt is not None and (isinstance(rt, bool) or not isinstance(rt, int) or rt < 0):
        raise SpaceError(f"{where}: constraints.min_round_trips: {rt!r} must be an integer >= 0")
    if not isinstance(be, bool):
        raise SpaceError(f"{where}: constraints.interval_above_break_even: true or false, not {be!r}")
    return Constraints(None if dd is None else float(dd), rt, be)
