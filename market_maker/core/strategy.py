"""The grid strategy: from a price, the slot book and the risk state to a list of actions.

Rules (ARCHITECTURE.md §4), evaluated against the window of the skewed center (see grid.py):

- Trailing, with one level of slack on each side: a working buy is cancelled when its level lies more
  than one interval below the buy window (the price ran away up), above the center (skew moved the
  window down), or off the current lattice (the interval changed); a working sell (a take-profit) only
  when its price lies more than one interval above the sell window (the price fell away) or strictly
  below the center (skew moved the window). Why the slack: the center rounds to the nearest level, so
  as the price rises to within half an interval of a take-profit the center rounds onto it; cancelling
  it there (the window read literally) re-placed it one interval higher again and again, so it ran
  half an interval ahead of the price and filled only on jumps. Buys mirror this: as the price falls
  to within half an interval of the nearest buy, that buy sits at the center and is kept. A price
  hovering around a half level would also cancel and re-place the far end of the grid on every flip.
  (A cancel is asked once: a slot with a cancel in flight is left alone; after a refused cancel the
  slot waits out its cancel back-off, a visible :class:`Skip`, before it is asked again.)
- A FREE level of the buy window gets a buy at its level for ``order_qty`` steps, nearest the center
  first, unless: buys are blocked by risk; the level is in reject back-off; held + working buys would
  exceed ``max_inventory``; the order fails an exchange filter (minQty, minNotional, price); or it would
  not stay strictly below every working sell. Each of these is a visible :class:`Skip`, never an error,
  and a quantity is never rounded to zero.
- A FILLED slot gets a take-profit sell of its whole sellable quantity at ``max(tp_price, C + I)`` when
  that price is inside the sell window; otherwise it holds ("HODL until profitable"). Slots holding a
  position are never dropped.
- A post-only order must not cross the market: a buy at or above the price, or a sell at or below it,
  is skipped (only inventory skew can move a window across the price) and placed once the price moves.
- The open-order cap (``max_open_orders``, 0: none) bounds the orders that work at once, as Binance's
  MAX_NUM_ORDERS filter does (orders being cancelled do not count). A take-profit goes before a buy:
  when the cap is full, the working buy farthest from the center is cancelled to make room for it
  (the sell follows once the cancel is done). Buys fill the room nearest the center first, and under
  a full cap a free level nearer the center than the farthest working buy takes that buy's place:
  which buys work is a function of the book and the center, whatever order fills and prices arrive
  in, so a capped buy is never placed back while nearer ones work (no churn, and a price flipping
  between two centers moves nothing). More orders than the cap (adopted at start-up, or a lowered
  cap) cancels the farthest buys down to it.
- Risk *triggered*: working buys are cancelled and no buy is placed; sells continue. Circuit breaker
  *halted*: working buys are cancelled and no order at all is placed (working sells are left working:
  cancelling them could not be followed by a better one).

Output order is stable: cancels (trailing and risk by level, then the cap's), then sells (by level), then
buys (nearest the center first).
"""

from __future__ import annotations

from typing import Final

from market_maker.core.actions import Action, Cancel, Place, Skip
from market_maker.core.grid import GridParams, GridWindow, center, grid_window, window_for_center
from market_maker.core.model import Side, SlotState
from market_maker.core.risk import RiskState
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import Slot, SlotBook, working_slots

_NO_SELL: Final = 1 << 62  # above any price
SELL_BELOW_CENTER: Final = "trailing: price is below the grid center"  # a take-profit the center passed
# enum members as module constants: reading ``Side.BUY`` goes through the enum's metaclass each time,
# several times the cost of a global, and the loops below read them for every working slot and level
# (``Final``: the compiled build keeps them in C statics, not in the module's dict)
_BUY: Final = Side.BUY
_SELL: Final = Side.SELL
_LOCKED: Final = SlotState.LOCKED
_FREE: Final = SlotState.FREE


def calculate_actions(
    price: int,
    interval: int,
    book: SlotBook,
    risk: RiskState,
    params: GridParams,
    rules: SymbolRules,
    now_ms: int,
) -> tuple[Action, ...]:
    """The actions for market ``price`` (ticks) with grid ``interval`` (ticks) at time ``now_ms``."""
    win = grid_window(price, interval, book.held_total, params)
    return actions_for_window(win, book, risk, params, rules, now_ms, price)


def actions_for_window(
    win: GridWindow,
    book: SlotBook,
    risk: RiskState,
    params: GridParams,
    rules: SymbolRules,
    now_ms: int,
    price: int | None = None,
    probe: bool = False,
) -> tuple[Action, ...]:
    """The actions for an already computed grid window (see :func:`calculate_actions`).

    ``price`` is the market price the window was computed for; None skips the crossing check.

    ``probe`` asks only "would this pass change an order, or skip one because of the price?": it
    returns the first Place, Cancel or crossing Skip (``resumes_above``/``resumes_below`` set) it meets
    as a one-tuple, or ``()`` when there is none, without building the other skips. Same rules, same
    order of checks; the quiet band uses it to prove neighbouring cells quiet. The one it meets first
    need not be the full pass's first: the full pass lists cancels ahead of placements, and a later
    take-profit's cancel (room under the open-order cap) is met after an earlier one's placement.
    """
    halted = risk.halted
    block_buys = risk.buys_blocked
    risk_why = ""
    cancels: list[Action] = []
    max_buy = 0
    min_sell = _NO_SELL
    # a dict (every book's, in practice): typed so, the lookups below are the dict's own, not the
    # generic Mapping protocol's
    slots: dict[int, Slot] = book.slots if isinstance(book.slots, dict) else dict(book.slots)
    ix = book.ix
    cap = params.max_open_orders
    counted = 0  # working orders that count against the cap (those not on their way out)
    kept_buys: list[Slot] = []  # working buys the trailing rule keeps: what the cap may cancel
    # the trailing bounds, as plain integers: a working order inside them is kept without more ado
    iv, c = win.interval, win.center
    buy_floor, sell_ceiling = win.buy_lo - iv, win.sell_hi + iv
    # Only working slots and FILLED slots whose take-profit is not above the sell window can act:
    # the book's index names them, so the cost is O(window + working), not O(book).
    for s in working_slots(book):  # by level ascending
        level = s.level
        order_price = s.order_price
        is_buy = s.side is _BUY
        if is_buy:
            if order_price > max_buy:
                max_buy = order_price
        elif order_price < min_sell:
            min_sell = order_price
        if s.cancel_requested:
            continue  # on its way out: it no longer counts against the cap
        if s.state is not _LOCKED:
            counted += 1
            continue
        if is_buy:
            if block_buys:
                risk_why = risk_why or "risk: " + (risk.halt_reason if halted else ", ".join(risk.reasons))
                why = risk_why
            elif level % iv or level < buy_floor or level > c:
                why = _buy_trailing(level, win)
            else:
                counted += 1
                if cap and s.cancel_retry_ms <= now_ms:
                    kept_buys.append(s)
                continue
        elif not halted and (order_price > sell_ceiling or order_price < c):
            why = _sell_trailing(order_price, win)
        else:
            counted += 1
            continue
        if s.cancel_retry_ms > now_ms:
            counted += 1  # it keeps working until its cancel may be asked again
            if not probe:
                cancels.append(
                    Skip(level, "cancel ({}) in back-off until {:time}", args=(why, s.cancel_retry_ms))
                )
        elif probe:
            return (Cancel(level, s.client_id, why),)
        else:
            cancels.append(Cancel(level, s.client_id, why))
    room = cap - counted if cap else _NO_SELL  # orders the open-order cap still allows
    # The cap's victims come farthest from the center first (they are the least likely to fill): a kept
    # buy lies at or below the center, so farthest first is lowest level first, the order in which the
    # loop above (levels ascending) appended them. No sort needed.
    while room < 0 and kept_buys:  # more orders work than the cap allows (e.g. adopted at start-up)
        b = kept_buys.pop(0)
        if probe:
            return (Cancel(b.level, b.client_id, f"open-order cap {cap}"),)
        cancels.append(Cancel(b.level, b.client_id, f"open-order cap {cap}"))
        room += 1
    # max(tp, sell_lo) lies in the sell window exactly when tp <= sell_hi (sell_lo <= sell_hi)
    # the FILLED slots whose take-profit is at most sell_hi, by level: ``filled`` is ascending by
    # take-profit, so they are its first entries (a native scan: usually none or a few)
    sell_hi = win.sell_hi
    in_reach: list[int] = []
    for tp, lv in ix.filled:
        if tp > sell_hi:
            break
        in_reach.append(lv)
    if len(in_reach) > 1:
        in_reach.sort()
    filled = [slots[lv] for lv in in_reach]

    if halted:
        return tuple(cancels)
    sells: list[Action] = []
    # A probe builds no skip that the price does not cause: nobody would read it.
    for s in filled:
        target = max(s.tp_price, win.sell_lo)  # in the sell window (see above)
        if s.backoff_until_ms > now_ms:
            if not probe:
                sells.append(
                    Skip(s.level, "sell in reject back-off until {:time}", args=(s.backoff_until_ms,))
                )
        elif price is not None and target <= price:
            a: Action = Skip(
                s.level,
                "sell at {:price} would cross the price {:price}",
                resumes_below=target,
                args=(target, price),
            )
            if probe:
                return (a,)
            sells.append(a)
        elif target <= max_buy:
            if not probe:
                sells.append(
                    Skip(
                        s.level,
                        "sell at {:price} would not stay above working buy {:price}",
                        args=(target, max_buy),
                    )
                )
        elif (fail := rules.check(target, s.held)) is not None:
            if not probe:
                sells.append(Skip(s.level, "sell {:qty} at {:price} fails {}", args=(s.held, target, fail)))
        elif room <= 0:
            # A take-profit closes a position: it goes before a buy. The farthest buy makes room for it
            # (cancelled now, the sell placed once the cancel is done); that buy, the farthest, gets no
            # room back while the cap is full, so this cannot churn.
            if kept_buys:
                b = kept_buys.pop(0)
                why = f"open-order cap {cap}: room for the take-profit of {s.level}"
                a = Cancel(b.level, b.client_id, why)
                if probe:
                    return (a,)
                cancels.append(a)  # the room it makes is this sell's: no buy may take it
            if not probe:
                sells.append(Skip(s.level, "sell waits for room under the open-order cap {}", args=(cap,)))
        else:
            a = Place(s.level, _SELL, target, s.held)
            if probe:
                return (a,)
            sells.append(a)
            min_sell = min(min_sell, target)
            room -= 1
    out: list[Action] = cancels + sells if sells else cancels
    if block_buys:
        return tuple(out)

    budget = params.max_inventory - book.held_total - book.buy_working_total
    qty = params.order_qty
    # A probe places nothing, so the budget and the room stay put: once either is short (and no working
    # buy could give up its room) and the levels (descending) are below the price, no later level can be
    # placed or cross the price: "nothing".
    probe_done = probe and (qty > budget or (room <= 0 and not kept_buys))
    # win.buy_levels(), nearest the center first, as a loop over native integers: a range with a step
    # that is not a constant is built and iterated as a Python object, each level boxed
    level = win.buy_hi + iv
    buy_lo = win.buy_lo
    while level - iv >= buy_lo:
        level -= iv
        if probe_done and (price is None or level < price):
            break
        slot = slots.get(level)
        if slot is not None and slot.state is not _FREE:
            continue
        if slot is not None and slot.backoff_until_ms > now_ms:
            if not probe:
                out.append(Skip(level, "buy in reject back-off until {:time}", args=(slot.backoff_until_ms,)))
        elif price is not None and level >= price:
            a = Skip(
                level,
                "buy at {:price} would cross the price {:price}",
                resumes_above=level,
                args=(level, price),
            )
            if probe:
                return (a,)
            out.append(a)
        elif level >= min_sell:
            if not probe:
                out.append(Skip(level, "buy would not stay below working sell {:price}", args=(min_sell,)))
        elif qty > budget:
            if not probe:
                out.append(Skip(level, "max inventory: {:qty} left, order needs {:qty}", args=(budget, qty)))
        elif (fail := rules.check(level, qty)) is not None:
            if not probe:
                out.append(Skip(level, "buy {:qty} at {:price} fails {}", args=(qty, level, fail)))
        elif room <= 0:
            # Under a full cap the buys nearest the center work: a free level nearer than the farthest
            # working buy takes its place (cancelled now, this level placed once the cancel is done).
            # Which buys work is then a function of the book and the center alone, not of the order in
            # which fills and prices arrived, so the live bot and the backtester end up alike; and a
            # price flipping between two centers moves no order (the nearest levels stay the nearest).
            if kept_buys and kept_buys[0].level < level:  # buys lie below the center: lower is farther
                b = kept_buys.pop(0)
                a = Cancel(b.level, b.client_id, f"open-order cap {cap}: room for the nearer buy at {level}")
                if probe:
                    return (a,)
                out.append(a)
            if not probe:
                out.append(Skip(level, "open-order cap {}: no room for a buy", args=(cap,)))
        else:
            a = Place(level, _BUY, level, qty)
            if probe:
                return (a,)
            out.append(a)
            budget -= qty
            room -= 1
    return tuple(out)


def trailing_keeps(s: Slot, win: GridWindow, halted: bool = False) -> bool:
    """True when the trailing rule keeps the working order of slot ``s`` for the window ``win``.

    The same bounds :func:`actions_for_window` applies inline (there, as plain integers, for speed):
    a buy on the lattice from one interval below the buy window up to the center; a sell from the
    center up to one interval above the sell window, or any sell while trading is halted.
    """
    iv = win.interval
    if s.side is _BUY:
        return not s.level % iv and win.buy_lo - iv <= s.level <= win.center
    return halted or win.center <= s.order_price <= win.sell_hi + iv


def _buy_trailing(level: int, win: GridWindow) -> str:
    """Why a working buy at ``level`` must be cancelled for the window ``win`` (the caller has found that
    it is off the grid, more than one interval below the buy window, or above the center)."""
    if level % win.interval:
        return "trailing: level is off the grid after an interval change"
    if level < win.buy_lo - win.interval:
        return "trailing: level fell behind the buy window"
    return "trailing: level is above the grid center"


def _sell_trailing(price: int, win: GridWindow) -> str:
    """Why a working sell at ``price`` must be cancelled for the window ``win`` (the caller has found that
    it is more than one interval above the sell window, or strictly below the center)."""
    if price > win.sell_hi + win.interval:
        return "trailing: price fell behind the sell window"
    return SELL_BELOW_CENTER


def backoff_until(book: SlotBook, now_ms: int) -> int | None:
    """The earliest back-off (reject or refused cancel) of ``book`` still running at ``now_ms``."""
    until: int | None = None
    slots = book.slots
    for level in book.ix.backoff:  # a back-off that expires lets its level act again
        s = slots[level]
        for b in (s.backoff_until_ms, s.cancel_retry_ms):
            if b > now_ms:
                until = b if until is None else min(until, b)
    return until


class ActionMemo:
    """The actions per grid center for one book, decided ahead of the price (the live strategy's memo).

    Why a center's actions can be kept and reused exactly: :func:`actions_for_window` reads the clock
    only by comparing back-off ends with it, and the price only in the crossing checks (a buy at or
    above it, a sell at or below it). Buy levels lie at or below ``C - I`` and sell targets at or above
    ``C + I``, so for every price strictly between ``C - I`` and ``C + I`` nothing crosses and the
    actions depend on the center alone (without inventory skew the price is always within ``I / 2`` of
    its center); and from the time the memo was started until the book's earliest running back-off
    ends, every back-off compares the same. Everything else they read (book, risk, interval, params,
    rules) is the same objects, all immutable: the memo forgets all as soon as one of them changes.

    Call :meth:`use` with the current state, then :meth:`actions` and :meth:`ahead`.
    """

    __slots__ = ("_args", "_by_center", "_now", "_since", "_until", "hits")
    MAX_CENTERS = 16

    def __init__(self) -> None:
        self._args: tuple[SlotBook, RiskState, int, GridParams, SymbolRules] | None = None
        self._now = self._since = 0
        self._until: int | None = None
        self._by_center: dict[int, tuple[GridWindow, tuple[Action, ...]]] = {}
        self.hits = 0  # decisions answered from the memo (tests, metrics)

    def use(
        self,
        book: SlotBook,
        risk: RiskState,
        interval: int,
        params: GridParams,
        rules: SymbolRules,
        now_ms: int,
    ) -> None:
        """Decide for this state at ``now_ms`` (forgetting what cannot hold for it)."""
        args = self._args
        self._now = now_ms
        if (
            args is None
            or args[0] is not book
            or args[1] is not risk
            or args[2] != interval
            or args[3] is not params
            or args[4] is not rules
            or now_ms < self._since  # the wall clock stepped back
            or (self._until is not None and now_ms >= self._until)
            or len(self._by_center) >= self.MAX_CENTERS
        ):
            self._args = (book, risk, interval, params, rules)
            self._since, self._until = now_ms, backoff_until(book, now_ms)
            self._by_center = {}

    def actions(self, price: int) -> tuple[GridWindow, tuple[Action, ...]]:
        """The window and the actions for ``price``, as ``grid_window`` + :func:`actions_for_window`."""
        assert self._args is not None, "use() first"
        book, _, interval, params, _ = self._args
        c = center(price, interval, book.held_total, params)
        near = c - interval < price < c + interval
        got = self._by_center.get(c) if near else None
        if got is not None:
            self.hits += 1
            return got
        got = self._decide(c, price)
        if near:
            self._by_center[c] = got
        return got

    def ahead(self, price: int) -> int:
        """Decide now for the centers one level above and below ``price``'s, where the next prices most
        likely fall; how many were not known yet."""
        assert self._args is not None, "use() first"
        book, _, interval, params, _ = self._args
        c = center(price, interval, book.held_total, params)
        todo = [cc for cc in (c + interval, c - interval) if cc > 0 and cc not in self._by_center]
        for cc in todo:
            self._by_center[cc] = self._decide(cc, cc)
        return len(todo)

    def _decide(self, c: int, price: int) -> tuple[GridWindow, tuple[Action, ...]]:
        assert self._args is not None
        book, risk, interval, params, rules = self._args
        win = window_for_center(c, interval, params)
        return win, actions_for_window(win, book, risk, params, rules, self._now, price)


def open_orders(book: SlotBook) -> int:
    """The working orders that count against the open-order cap: all but those being cancelled."""
    slots = book.slots
    return sum(1 for lv in book.ix.working if not slots[lv].cancel_requested)
