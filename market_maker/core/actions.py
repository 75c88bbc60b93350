"""What the strategy asks the shell to do: place an order, cancel one, or skip a level (with why).

Actions are plain frozen values so the same list can be logged, persisted as intent, replayed in a
backtest and compared in tests. ``Skip`` is informational: it names a level the strategy wanted to
trade but could not (exchange filters, reject back-off, inventory cap, crossing its own order).
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Final

from market_maker.core.model import Side
from market_maker.core.values import Value

_TEMPLATE = string.Formatter()  # only its template parser is used


class Place(Value):
    """Send a new post-only limit order for the slot at ``level``."""

    __slots__ = ("level", "price", "qty", "side")
    FIELDS = ("level", "side", "price", "qty")

    def __init__(
        self,
        level: int,  # ticks: the slot's key (its buy price)
        side: Side,
        price: int,  # ticks
        qty: int,  # steps
    ) -> None:
        self.level: Final = level
        self.side: Final = side
        self.price: Final = price
        self.qty: Final = qty

    def _key(self) -> tuple[object, ...]:
        return (self.level, self.side, self.price, self.qty)


class Cancel(Value):
    """Cancel the working order ``client_id`` of the slot at ``level``."""

    __slots__ = ("client_id", "level", "reason")
    FIELDS = ("level", "client_id", "reason")

    def __init__(
        self,
        level: int,
        client_id: str,
        reason: str,
    ) -> None:
        self.level: Final = level
        self.client_id: Final = client_id
        self.reason: Final = reason

    def _key(self) -> tuple[object, ...]:
        return (self.level, self.client_id, self.reason)


class Skip(Value):
    """The strategy wanted to act on ``level`` but will not, for a visible ``reason``.

    A skip that only the market price causes (the order would cross it and a post-only order would be
    rejected) says from which price on it would be placed: ``resumes_above`` for a buy (the price must
    rise above it), ``resumes_below`` for a sell. The quiet band uses them.

    The reason is built on demand: ``why`` is a ``str.format`` template filled with ``args`` when
    ``reason`` is read (a plain text when ``args`` is empty). A field's format spec names its unit
    (``{:price}`` ticks, ``{:qty}`` steps, ``{:time}`` epoch ms): ``reason`` shows the core's integers,
    :meth:`text` lets the shell show prices, quantities and times as a person reads them.

    Why on demand: a backtest makes tens of thousands of skips that nobody reads, and formatting them
    was a measurable part of each strategy pass (for the same reason this is a plain class with
    ``Final`` fields, see :mod:`.values`). Two skips are equal when their level, reason and resume
    prices are.
    """

    __slots__ = ("args", "level", "resumes_above", "resumes_below", "why")
    FIELDS = ("level", "why", "resumes_above", "resumes_below", "args")

    def __init__(
        self,
        level: int,
        why: str,
        resumes_above: int | None = None,
        resumes_below: int | None = None,
        args: tuple[object, ...] = (),
    ) -> None:
        self.level: Final = level
        self.why: Final = why
        self.resumes_above: Final = resumes_above
        self.resumes_below: Final = resumes_below
        self.args: Final = args

    @property
    def reason(self) -> str:
        """Why the level was skipped, as one line of text (prices in ticks, quantities in steps)."""
        return self.text(None)

    def text(self, units: Callable[[str, object], object] | None) -> str:
        """The reason with each field shown by ``units(unit, value)`` (unit: "price", "qty", "time"
        or "" for a plain value); None shows the values as they are."""
        if not self.args:
            return self.why
        out: list[str] = []
        n = 0
        for literal, field, unit, _conversion in _TEMPLATE.parse(self.why):
            out.append(literal)
            if field is None:
                continue
            value = self.args[int(field)] if field else self.args[n]
            n += 1
            if units is not None:
                out.append(str(units(unit or "", value)))
            else:
                out.append(f"{value} steps" if unit == "qty" else str(value))
        return "".join(out)

    def _key(self) -> tuple[object, ...]:
        return (self.level, self.reason, self.resumes_above, self.resumes_below)

    def __repr__(self) -> str:
        return (
            f"Skip(level={self.level!r}, reason={self.reason!r}, "
            f"resumes_above={self.resumes_above!r}, resumes_below={self.resumes_below!r})"
        )


Action = Place | Cancel | Skip


def is_order_action(action: Action) -> bool:
    """True for actions that change orders (Place, Cancel); False for informational Skips."""
    return not isinstance(action, Skip)
