"""docs/configuration.md and the models agree: the same keys in every section, the same defaults.

Together with ``test_reference_documents_every_key`` (tests/unit/test_config_load.py) this makes the
models the one definition of a setting: a key or a default written only in the docs fails here.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from market_maker.config import Config

DOC = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
SECTIONS = {
    name: field.annotation
    for name, field in Config.model_fields.items()
    if name != "credentials"
    and isinstance(field.annotation, type)
    and issubclass(field.annotation, BaseModel)
}


def _rows(section: str) -> dict[str, list[str]]:
    """The section's table: key -> its cells (type, default, allowed, meaning)."""
    body = DOC.split(f"## `{section}`", 1)[1].split("\n## ", 1)[0]
    return {
        m.group(1): [cell.strip() for cell in m.group(2).split("|")]
        for m in re.finditer(r"^\| `([a-z_]+)` \|(.*)\|$", body, re.MULTILINE)
    }


def _shown(value: Any) -> str:
    """A default as the docs write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float):
        return format(value, "g")
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_shown(v)}" for k, v in value.items())
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_the_docs_list_exactly_the_models_keys(section: str) -> None:
    assert set(_rows(section)) == set(SECTIONS[section].model_fields)


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_the_docs_give_the_models_defaults(section: str) -> None:
    rows = _rows(section)
    for key, field in SECTIONS[section].model_fields.items():
        written = rows[key][1]
        if written == "see below":  # computed from other keys (the exchange URLs), explained below
            continue
        default = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
        assert written.strip("`") == _shown(default), f"{section}.{key}: docs say {written}"
