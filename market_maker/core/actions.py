"""What the strategy asks the shell to do: place an order, cancel one, or skip a level (with why).

Actions are plain frozen values so the same list can be logged, persisted as intent, replayed in a
backtest and compared in tests. ``Skip`` is informational: it names a level the strategy wanted to
trade but could not (exchange filters, reject back-off, inventory cap, crossing its own order).
"""

from __future__ import annotations

from dataclasses import dataclass

from market_maker.core.model import Side


@dataclass(frozen=True, slots=True)
class Place:
    """Send a new post-only limit order for the slot at ``level``."""

    level: int  # ticks: the slot's key (its buy price)
    side: Side
    price: int  # ticks
    qty: int  # steps


@dataclass(frozen=True, slots=True)
class Cancel:
    """Cancel the working order ``client_id`` of the slot at ``level``."""

    level: int
    client_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Skip:
    """The strategy wanted to act on ``level`` but will not, for a visible ``reason``.

    A skip that only the market price causes (the order would cross it and a post-only order would be
    rejected) says from which price on it would be placed: ``resumes_above`` for a buy (the price must
    rise above it), ``resumes_below`` for a sell. The quiet band uses them.
    """

    level: int
    reason: str
    resumes_above: int | None = None
    resumes_below: int | None = None


Action = Place | Cancel | Skip


def is_order_action(action: Action) -> bool:
    """True for actions that change orders (Place, Cancel); False for informational Skips."""
    return not isinstance(action, Skip)
