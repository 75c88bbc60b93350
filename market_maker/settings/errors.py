"""Configuration errors: one line each, naming where, the key path, the bad value and what is allowed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError


class ConfigError(Exception):
    """The configuration cannot be used; ``errors`` holds one human-readable line per problem."""

    def __init__(self, errors: Iterable[str]) -> None:
        self.errors: list[str] = list(errors)
        super().__init__("\n".join(self.errors))


class CrossFieldError(ValueError):
    """Raised inside a model validator: problems as (key path relative to that model, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{path}: {msg}" for path, msg in problems))


def show_value(value: Any) -> str:
    """A short, readable rendering of a bad input value for an error line."""
    if isinstance(value, Decimal):
        text = str(value)
    elif isinstance(value, str):
        text = repr(value)
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def key_text(part: Any) -> str:
    """A key as it appears in a path: plain when printable, else quoted so every message stays one line."""
    text = str(part)
    return text if text and text.isprintable() and " " not in text else repr(text)[:60]


def _join(loc: Iterable[Any]) -> str:
    return ".".join(key_text(part) for part in loc)


def _allowed_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """Field names of the model found at ``loc`` under ``root``, or None when it is not a model."""
    model: Any = root
    for part in loc:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None or not (
            isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
        ):
            return None
        model = field.annotation
    return [name for name in model.model_fields if name != "credentials"]  # credentials: never from input


def _where(path: str, sources: Mapping[str, str], default: str) -> str:
    """Which input a key path came from: an environment variable for overridden keys, else the file."""
    for prefix, env_name in sources.items():
        # The override set this key, something inside it, or the mapping that contains it.
        if path == prefix or path.startswith(prefix + ".") or prefix.startswith(path + "."):
            return f"env {env_name}"
    return default


def format_validation_error(
    exc: ValidationError,
    root: type[BaseModel],
    source: str,
    env_sources: Mapping[str, str],
    hidden: frozenset[str] = frozenset(),
) -> list[str]:
    """Turn pydantic's errors into our one-line messages; values of ``hidden`` paths are never shown."""
    lines: list[str] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        ctx = err.get("ctx") or {}
        cross = ctx.get("error")
        if isinstance(cross, CrossFieldError):
            for rel, msg in cross.problems:
                path = _join((*loc, rel)) if rel else _join(loc)
                lines.append(f"{_where(path, env_sources, source)}: {path}: {msg}")
            continue
        path = _join(loc) or "(top level)"
        where = _where(path, env_sources, source)
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(root, loc[:-1])
            hint = f" (allowed here: {', '.join(allowed)})" if allowed else ""
            lines.append(f"{where}: {path}: unknown key{hint}")
            continue
        msg = str(err["msg"])
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        shown = "" if path in hidden else f" (got {show_value(err.get('input'))})"
        lines.append(f"{where}: {path}: {msg}{shown}")
    return lines
