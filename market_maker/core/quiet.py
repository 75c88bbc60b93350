"""The quiet band: the price range in which nothing can happen, so a backtest may skip candles.

Rule: the strategy's decisions depend on the price only through the grid center. With the position
(hence the skew) fixed, the center ``c`` holds for every price ``P`` with
``c - I/2 <= P * k < c + I/2`` (``k`` the skew multiplier, rounding half up). A resting buy fills only
when the price reaches it and a resting sell likewise; a level skipped because its order would cross
the price becomes placeable only when the price passes it. So, for a book whose actions at the current
price have been carried out (no Place or Cancel left), every price strictly between ``lo`` and ``hi``
gives no Place, no Cancel and no fill, as long as the interval, the risk state and the clock before
``until_ms`` (a reject back-off expiring) stay the same. Skips may repeat; they change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

from market_maker.core.actions import Action, Skip
from market_maker.core.grid import GridParams, GridWindow, grid_window, skew_multiplier
from market_maker.core.model import Side
from market_maker.core.risk import RiskState
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook
from market_maker.core.strategy import actions_for_window

UNBOUNDED = 1 << 62


@dataclass(frozen=True, slots=True)
class QuietBand:
    """Open price interval ``(lo, hi)`` in ticks; valid before ``until_ms`` (None: no time limit)."""

    lo: int
    hi: int
    until_ms: int | None = None

    def contains(self, price: int) -> bool:
        """True when ``price`` lies strictly inside the band."""
        return self.lo < price < self.hi

    @property
    def empty(self) -> bool:
        """True when no price is quiet (the book has actions to carry out first)."""
        return self.hi - self.lo <= 1


def _ceil(x: Fraction) -> int:
    return -((-x.numerator) // x.denominator)


class Evaluation(NamedTuple):
    """One pass of the strategy: its actions, and the quiet band when they leave nothing to do."""

    actions: tuple[Action, ...]
    band: QuietBand  # empty (``lo == hi == price``) when ``actions`` holds a Place or a Cancel


def evaluate(
    price: int,
    interval: int,
    book: SlotBook,
    risk: RiskState,
    params: GridParams,
    rules: SymbolRules,
    now_ms: int,
) -> Evaluation:
    """The actions for ``price`` (as :func:`~market_maker.core.strategy.calculate_actions`) and, from
    the same pass, the quiet band (as :func:`quiet_band`): one strategy evaluation instead of two.

    A caller carries out the actions and evaluates again until the band is not empty.
    """
    win = grid_window(price, interval, book.held_total, params)
    actions = actions_for_window(win, book, risk, params, rules, now_ms, price)
    if any(type(a) is not Skip for a in actions):
        return Evaluation(actions, QuietBand(price, price, now_ms))
    return Evaluation(actions, _band(win, actions, book, interval, params, now_ms))


def quiet_band(
    book: SlotBook,
    price: int,
    interval: int,
    params: GridParams,
    risk: RiskState,
    rules: SymbolRules,
    now_ms: int,
) -> QuietBand:
    """The quiet band around ``price`` (ticks); empty (``lo == hi == price``) when actions are due now."""
    return evaluate(price, interval, book, risk, params, rules, now_ms).band


def _band(
    win: GridWindow,
    actions: tuple[Action, ...],
    book: SlotBook,
    interval: int,
    params: GridParams,
    now_ms: int,
) -> QuietBand:
    """The band of a book with no Place or Cancel due at the price ``win`` was computed for."""
    k = 1 if not params.skew_factor else skew_multiplier(book.held_total, params)
    if k == 1:  # unskewed: integer bounds of [c - I/2, c + I/2)
        lo = win.center - interval // 2 - 1
        hi = win.center + (interval + 1) // 2
    elif k > 0:
        half = Fraction(interval, 2)
        lo = _ceil((win.center - half) / k) - 1
        hi = _ceil((win.center + half) / k)
    else:  # full skew at full inventory: the center is 0 whatever the price
        lo, hi = 0, UNBOUNDED
    for a in actions:  # skips that only the price causes end where the price lets them through
        if isinstance(a, Skip):
            if a.resumes_above is not None:
                hi = min(hi, a.resumes_above + 1)
            if a.resumes_below is not None:
                lo = max(lo, a.resumes_below - 1)
    slots = book.slots
    ix = book.ix
    for level in ix.working:  # a resting order fills when the price reaches it
        s = slots[level]
        if s.side is Side.BUY:
            lo = max(lo, s.order_price)
        else:
            hi = min(hi, s.order_price)
    until: int | None = None
    for level in ix.backoff:  # a back-off that expires lets its level act again
        b = slots[level].backoff_until_ms
        if b > now_ms:
            until = b if until is None else min(until, b)
    return QuietBand(lo, hi, until)
