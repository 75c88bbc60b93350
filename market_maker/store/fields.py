"""Exact decimals in the database: TEXT, never REAL (peewee's DecimalField loses digits on SQLite)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from peewee import TextField

from market_maker.store.errors import StoreError


def exact_text(value: Any) -> str:
    """The exact text form of a decimal value; floats are refused (money is never a float)."""
    if isinstance(value, bool | float):
        raise StoreError(
            f"refusing to store {value!r} ({type(value).__name__}) as an exact decimal: use Decimal"
        )
    return str(Decimal(value))


class ExactDecimalField(TextField):
    """A ``Decimal`` stored as its ``str()``: every digit and the scale survive (``1.10000000`` stays)."""

    def db_value(self, value: Any) -> str | None:
        return None if value is None else exact_text(value)

    def python_value(self, value: Any) -> Decimal | None:
        return None if value is None else Decimal(value)
