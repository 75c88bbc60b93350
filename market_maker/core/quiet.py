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

from fractions import Fraction
from typing import Final

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
from market_maker.core.slots import SlotBook, working_slots
from market_maker.core.strategy import actions_for_window, backoff_until
from market_maker.core.values import Value

UNBOUNDED: Final = 1 << 62
_BUY: Final = Side.BUY  # a constant: the compiled build reads ``Side.BUY`` through the enum's class
EXTEND_CELLS = 2  # neighbouring center cells tried per side; each costs a strategy pass (2 measured best)


class QuietBand(Value):
    """Open price interval ``(lo, hi)`` in ticks; valid before ``until_ms`` (None: no time limit).

    Immutable (``Final`` fields) and compared by value (:class:`~market_maker.core.values.Value`): a
    backtest makes one per event, and a plain class builds cheapest in the compiled core.
    """

    __slots__ = ("c_hi", "c_lo", "ceiling", "floor", "hi", "interval", "lo", "until_ms")
    FIELDS = ("lo", "hi", "until_ms", "interval", "c_lo", "c_hi", "floor", "ceiling")

    def __init__(
        self,
        lo: int,
        hi: int,
        until_ms: int | None = None,
        # Where :func:`widen` may grow it: the centers it spans and the prices it can never pass (a
        # resting order, or a skip that only the price causes). ``interval`` 0: it cannot grow.
        interval: int = 0,
        c_lo: int = 0,
        c_hi: int = 0,
        floor: int = 0,
        ceiling: int = UNBOUNDED,
    ) -> None:
        self.lo: Final = lo
        self.hi: Final = hi
        self.until_ms: Final = until_ms
        self.interval: Final = interval
        self.c_lo: Final = c_lo
        self.c_hi: Final = c_hi
        self.floor: Final = floor
        self.ceiling: Final = ceiling

    def _key(self) -> tuple[object, ...]:
        return (
            self.lo,
            self.hi,
            self.until_ms,
            self.interval,
            self.c_lo,
            self.c_hi,
            self.floor,
            self.ceiling,
        )

    def contains(self, price: int) -> bool:
        """True when ``price`` lies strictly inside the band."""
        return self.lo < price < self.hi

    @property
    def empty(self) -> bool:
        """True when no price is quiet (the book has actions to carry out first)."""
        return self.hi - self.lo <= 1


class CellMemo:
    """Which neighbouring center cells were proven quiet (or not), for one book.

    A verdict of :func:`_quiet_cell` depends on the book, the parameters, the interval, whether buys
    are blocked or trading is halted, and the clock only through back-offs (a level in back-off is
    skipped until it expires). So verdicts are kept per (interval, halted, buys blocked) while the
    book and the parameters are the same objects and the clock is before the next back-off expiry,
    and all are forgotten as soon as one of those changes (the book is immutable: a transition makes
    a new one; holding it means its identity cannot pass to another book). Several states are kept
    because a risk trigger often flips on and off again while the book stays the same.
    """

    __slots__ = ("_book", "_by_state", "_params", "_rules", "_until", "cells", "runs")
    MAX_STATES = 8

    def __init__(self) -> None:
        self._book: SlotBook | None = None
        self._params: GridParams | None = None
        self._rules: SymbolRules | None = None
        self._until: int | None = None
        self._by_state: dict[tuple[int, bool, bool], tuple[dict[int, bool], dict[int, dict[int, int]]]] = {}
        self.cells: dict[int, bool] = {}  # center (ticks) -> quiet, for the state in use
        # per direction (1 up, -1 down): quiet center -> the farthest quiet center walked from it
        self.runs: dict[int, dict[int, int]] = {1: {}, -1: {}}

    def use(
        self,
        book: SlotBook,
        interval: int,
        risk: RiskState,
        params: GridParams,
        rules: SymbolRules,
        now_ms: int,
    ) -> None:
        """Select the verdicts that hold for these arguments (forgetting those that cannot)."""
        if (
            book is not self._book
            or params is not self._params
            or rules is not self._rules
            or (self._until is not None and now_ms >= self._until)
        ):
            self._book, self._params, self._rules = book, params, rules
            self._until = backoff_until(book, now_ms)
            self._by_state = {}
        state = (interval, risk.halted, risk.buys_blocked)
        got = self._by_state.get(state)
        if got is None:
            if len(self._by_state) >= self.MAX_STATES:
                self._by_state.clear()
            got = self._by_state[state] = ({}, {1: {}, -1: {}})
        self.cells, self.runs = got


class Evaluation(Value):
    """One pass of the strategy: its actions, and the quiet band when they leave nothing to do."""

    __slots__ = ("actions", "band")
    FIELDS = ("actions", "band")

    def __init__(
        self,
        actions: tuple[Action, ...],
        band: QuietBand,  # empty (``lo == hi == price``) when ``actions`` holds a Place or a Cancel
    ) -> None:
        self.actions: Final = actions
        self.band: Final = band

    def _key(self) -> tuple[object, ...]:
        return (self.actions, self.band)


def evaluate(
    price: int,
    interval: int,
    book: SlotBook,
    risk: RiskState,
    params: GridParams,
    rules: SymbolRules,
    now_ms: int,
    memo: CellMemo | None = None,
    extend: int = EXTEND_CELLS,
) -> Evaluation:
    """The actions for ``price`` (as :func:`~market_maker.core.strategy.calculate_actions`) and, from
    the same pass, the quiet band (as :func:`quiet_band`): one strategy evaluation instead of two.

    A caller carries out the actions and evaluates again until the band is not empty. A caller that
    evaluates many prices (a backtest) passes one :class:`CellMemo` to every call, so a neighbouring
    cell proven quiet is not proven again while nothing it depends on changed. ``extend`` is how many
    neighbouring cells per side are proven now; a caller that proves them only when the price gets
    there passes 0 and calls :func:`widen`.
    """
    win = grid_window(price, interval, book.held_total, params)
    actions = actions_for_window(win, book, risk, params, rules, now_ms, price)
    for a in actions:
        if type(a) is not Skip:  # a Place or a Cancel: carry it out first
            return Evaluation(actions, QuietBand(price, price, now_ms))
    if memo is not None:
        memo.use(book, interval, risk, params, rules, now_ms)
    return Evaluation(actions, _band(win, actions, book, risk, params, rules, now_ms, memo, extend))


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
    memo: CellMemo | None = None,
    extend: int = EXTEND_CELLS,
) -> QuietBand:
    """The band of a book with no Place or Cancel due at the price ``win`` was computed for.

    It starts as the prices that keep the center, and grows by whole neighbouring center cells that
    are quiet too (see :func:`_quiet_cell`): up to ``EXTEND_CELLS`` new proofs on each side, and
    through any number of cells ``memo`` already holds as proven.
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
    order_lo, order_hi = 0, UNBOUNDED
    for s in working_slots(book):  # a resting order fills when the price reaches it
        if s.side is _BUY:
            order_lo = max(order_lo, s.order_price)
        else:
            order_hi = min(order_hi, s.order_price)
    floor, ceiling = max(resume_lo, order_lo), min(resume_hi, order_hi)
    c_lo = c_hi = win.center
    if memo is not None and resume_lo == 0 and resume_hi == UNBOUNDED:
        memo.cells[win.center] = True  # what _quiet_cell would find: no Place, Cancel or crossing here
    lo, hi = _price_bounds(c_lo, c_hi, interval, k)
    if k > 0:  # at full skew (k == 0) the center is the same for every price: one cell is everything
        memo = memo if memo is not None else CellMemo()
        c_hi = _extend(c_hi, interval, ceiling, UNBOUNDED, extend, k, memo, book, risk, params, rules, now_ms)
        c_lo = _extend(c_lo, -interval, floor, 0, extend, k, memo, book, risk, params, rules, now_ms)
        lo, hi = _price_bounds(c_lo, c_hi, interval, k)
    until = backoff_until(book, now_ms)
    return QuietBand(max(lo, floor), min(hi, ceiling), until, interval, c_lo, c_hi, floor, ceiling)


def widen(
    band: QuietBand,
    low: int,
    high: int,
    book: SlotBook,
    risk: RiskState,
    params: GridParams,
    rules: SymbolRules,
    now_ms: int,
    memo: CellMemo | None = None,
) -> QuietBand:
    """``band`` grown over quiet neighbouring cells until it holds ``low`` and ``high`` strictly inside,
    or as far as the cells are quiet and the floor and ceiling allow (the same proofs as
    :func:`evaluate`'s band, made only for the cells a price actually reaches).

    Valid only with the book, risk state, interval and clock (``now_ms``) the band was made for.
    """
    interval = band.interval
    if not interval or band.empty:
        return band
    k = 1 if not params.skew_factor else skew_multiplier(book.held_total, params)
    if k <= 0:
        return band
    if memo is None:
        memo = CellMemo()
    memo.use(book, interval, risk, params, rules, now_ms)
    c_lo, c_hi = band.c_lo, band.c_hi
    if high >= band.hi:
        c_hi = _extend(
            c_hi, interval, band.ceiling, high, UNBOUNDED, k, memo, book, risk, params, rules, now_ms
        )
    if low <= band.lo:
        c_lo = _extend(
            c_lo, -interval, band.floor, low, UNBOUNDED, k, memo, book, risk, params, rules, now_ms
        )
    if (c_lo, c_hi) == (band.c_lo, band.c_hi):
        return band
    lo, hi = _price_bounds(c_lo, c_hi, interval, k)
    return QuietBand(
        max(lo, band.floor),
        min(hi, band.ceiling),
        band.until_ms,
        interval,
        c_lo,
        c_hi,
        band.floor,
        band.ceiling,
    )


def _extend(
    c0: int,
    step: int,
    limit: int,
    reach: int,
    max_proofs: int,
    k: Fraction | int,
    memo: CellMemo,
    book: SlotBook,
    risk: RiskState,
    params: GridParams,
    rules: SymbolRules,
    now_ms: int,
) -> int:
    """The farthest center from ``c0`` (in steps of ``step``: up when positive) up to which every cell
    is quiet.

    Stops at the price ``limit`` (a ceiling above, a floor below), once the band reaches past the
    price ``reach``, at a cell that is not quiet, or before a cell that would need more than
    ``max_proofs`` new proofs; cells the memo holds cost no proof, and a run of them walked once is
    remembered as a jump (``memo.runs``) so it is crossed in one step later.
    """
    up = step > 0
    interval = abs(step)
    cells, runs = memo.cells, memo.runs[1 if up else -1]
    proofs = 0
    c = c0
    walked: list[int] = []
    while True:
        edge = _price_bounds(c, c, interval, k)[1 if up else 0]  # the first price outside the cell
        if (edge >= limit or edge > reach) if up else (edge <= limit or edge < reach):
            break
        nxt = c + step
        quiet = cells.get(nxt)
        if quiet is None:
            if proofs == max_proofs:
                break
            proofs += 1
            quiet = cells[nxt] = _quiet_cell(edge, nxt, interval, book, risk, params, rules, now_ms)
        if not quiet:
            break
        walked.append(nxt)
        c = runs.get(nxt, nxt)
    for w in walked:
        runs[w] = c
    return c


def _price_bounds(c_lo: int, c_hi: int, interval: int, k: Fraction | int) -> tuple[int, int]:
    """Open price bounds (ticks) of the prices whose center lies in ``c_lo..c_hi``."""
    if k == 1:  # unskewed: integer bounds of [c_lo - I/2, c_hi + I/2)
        return c_lo - interval // 2 - 1, c_hi + (interval + 1) // 2
    if k > 0:  # ceil((c -+ I/2) / k) with k = n/d, in integers: (2c -+ I) * d / (2n)
        n2, d = 2 * k.numerator, k.denominator
        return -((interval - 2 * c_lo) * d // n2) - 1, -((-2 * c_hi - interval) * d // n2)
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
    return not actions_for_window(win, book, risk, params, rules, now_ms, price, probe=True)
