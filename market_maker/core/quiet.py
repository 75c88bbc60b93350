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

from market_maker.core.actions import Skip, is_order_action
from market_maker.core.grid import GridParams, grid_window, skew_multiplier
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
    win = grid_window(price, interval, book.held_total, params)
    actions = actions_for_window(win, book, risk, params, rules, now_ms, price)
    if any(is_order_action(a) for a in actions):
        return QuietBand(price, price, now_ms)
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
    until: int | None = None
    for s in book.slots.values():
        if s.working:
            if s.side is Side.BUY:
                lo = max(lo, s.order_price)
            else:
                hi = min(hi, s.order_price)
        if s.backoff_until_ms > now_ms:
            until = s.backoff_until_ms if until is None else min(until, s.backoff_until_ms)
    return QuietBand(lo, hi, until)
