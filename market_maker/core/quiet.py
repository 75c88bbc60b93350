"""The quiet band: the price range in which nothing can happen, so a backtest may skip candles.

Rule: the strategy's decisions depend on the price only through the grid center. With the position
(hence the skew) fixed, the center ``c`` holds for every price ``P`` with
``c - I/2 <= P * k < c + I/2`` (``k`` the skew multiplier, rounding half up). A resting buy fills only
when the price reaches it and a resting sell likewise; a level skipped because its order would cross
the price becomes placeable only when the price passes it. So, for a book whose actions at the current
price have been carried out (no Place or Cancel left), every price strictly between ``lo`` and ``hi``
gives no Place, no Cancel and no fill, as long as the interval, the risk state and the clock before
``until_ms`` (a reject or cancel back-off expiring) stay the same. Skips may repeat; they change nothing.

The band is not limited to the current center: a neighbouring center whose whole cell of prices
gives no Place and no Cancel either (checked by one strategy pass, see :func:`_quiet_cell`) joins
it, so a backtest does not stop each time the price wobbles across a half level while nothing can
be done (e.g. at full inventory with no take-profit in reach).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

from market_maker.core.actions import Action, Skip
from market_maker.core.grid import (
    GridParams,
    GridWindow,
    center,
    grid_window,
    skew_multiplier,
    window_for_center,
)
from market_maker.core.model import Side
from market_maker.core.risk import RiskState
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook
from market_maker.core.strategy import actions_for_window

UNBOUNDED = 1 << 62
EXTEND_CELLS = 2  # neighbouring center cells tried per side; each costs a strategy pass (2 measured best)


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
    return Evaluation(actions, _band(win, actions, book, risk, params, rules, now_ms))


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
    risk: RiskState,
    params: GridParams,
    rules: SymbolRules,
    now_ms: int,
) -> QuietBand:
    """The band of a book with no Place or Cancel due at the price ``win`` was computed for.

    It starts as the prices that keep the center, and grows by whole neighbouring center cells that
    are quiet too (see :func:`_quiet_cell`), up to ``EXTEND_CELLS`` on each side.
    """
    interval = win.interval
    k = 1 if not params.skew_factor else skew_multiplier(book.held_total, params)
    resume_lo, resume_hi = 0, UNBOUNDED
    for a in actions:  # skips that only the price causes end where the price lets them through
        if isinstance(a, Skip):
            if a.resumes_above is not None:
                resume_hi = min(resume_hi, a.resumes_above + 1)
            if a.resumes_below is not None:
                resume_lo = max(resume_lo, a.resumes_below - 1)
    slots = book.slots
    ix = book.ix
    order_lo, order_hi = 0, UNBOUNDED
    for level in ix.working:  # a resting order fills when the price reaches it
        s = slots[level]
        if s.side is Side.BUY:
            order_lo = max(order_lo, s.order_price)
        else:
            order_hi = min(order_hi, s.order_price)
    floor, ceiling = max(resume_lo, order_lo), min(resume_hi, order_hi)
    c_lo = c_hi = win.center
    lo, hi = _price_bounds(c_lo, c_hi, interval, k)
    if k > 0:  # at full skew (k == 0) the center is the same for every price: one cell is everything
        for _ in range(EXTEND_CELLS):
            if hi >= ceiling or not _quiet_cell(
                hi, c_hi + interval, interval, book, risk, params, rules, now_ms
            ):
                break
            c_hi += interval
            hi = _price_bounds(c_lo, c_hi, interval, k)[1]
        for _ in range(EXTEND_CELLS):
            if lo <= floor or not _quiet_cell(
                lo, c_lo - interval, interval, book, risk, params, rules, now_ms
            ):
                break
            c_lo -= interval
            lo = _price_bounds(c_lo, c_hi, interval, k)[0]
    until: int | None = None
    for level in ix.backoff:  # a back-off (reject or refused cancel) that expires lets its level act again
        s = slots[level]
        for b in (s.backoff_until_ms, s.cancel_retry_ms):
            if b > now_ms:
                until = b if until is None else min(until, b)
    return QuietBand(max(lo, floor), min(hi, ceiling), until)


def _price_bounds(c_lo: int, c_hi: int, interval: int, k: Fraction | int) -> tuple[int, int]:
    """Open price bounds (ticks) of the prices whose center lies in ``c_lo..c_hi``."""
    if k == 1:  # unskewed: integer bounds of [c_lo - I/2, c_hi + I/2)
        return c_lo - interval // 2 - 1, c_hi + (interval + 1) // 2
    if k > 0:
        half = Fraction(interval, 2)
        return _ceil((c_lo - half) / k) - 1, _ceil((c_hi + half) / k)
    return 0, UNBOUNDED


def _quiet_cell(
    price: int,
    c: int,
    interval: int,
    book: SlotBook,
    risk: RiskState,
    params: GridParams,
    rules: SymbolRules,
    now_ms: int,
) -> bool:
    """True when every price whose center is ``c`` gives no Place and no Cancel; ``price`` is one of them.

    Why one price stands for all of them: the price enters the strategy only through the center and
    the crossing checks. Cancels depend on the window alone. With no crossing skip at ``price``, no
    sell and no buy was placed for a reason that does not involve the price (back-off, own orders,
    inventory budget, filters), and without a Place the budget and the lowest sell stay the same, so
    at another price of the cell each level fails for the same reason or for crossing it.
    """
    if price <= 0 or center(price, interval, book.held_total, params) != c:
        return False
    win = window_for_center(c, interval, params)
    for a in actions_for_window(win, book, risk, params, rules, now_ms, price):
        if type(a) is not Skip or a.resumes_above is not None or a.resumes_below is not None:
            return False
    return True
