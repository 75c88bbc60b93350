"""The grid strategy: from a price, the slot book and the risk state to a list of actions.

Rules (ARCHITECTURE.md §4), evaluated against the window of the skewed center (see grid.py):

- Trailing, with one level of slack on each side: a working buy is cancelled when its level lies more
  than one interval below the buy window (the price ran away up), above the center (skew moved the
  window down), or off the current lattice (the interval changed); a working sell when its price lies
  more than one interval above the sell window or below the center. Why the slack: the center rounds
  to the nearest level, so as the price falls to within half an interval of the nearest buy the window
  moves down one level and that very buy would leave the window just before it can fill; and a price
  hovering around a half level would cancel and re-place the far end of the grid on every flip.
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
- Risk *triggered*: working buys are cancelled and no buy is placed; sells continue. Circuit breaker
  *halted*: working buys are cancelled and no order at all is placed (working sells are left working:
  cancelling them could not be followed by a better one).

Output order is stable: cancels (by level), then sells (by level), then buys (nearest the center first).
"""

from __future__ import annotations

from bisect import bisect_right

from market_maker.core.actions import Action, Cancel, Place, Skip
from market_maker.core.grid import GridParams, GridWindow, grid_window
from market_maker.core.model import Side, SlotState
from market_maker.core.risk import RiskState
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook

_NO_SELL = 1 << 62  # above any price


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
) -> tuple[Action, ...]:
    """The actions for an already computed grid window (see :func:`calculate_actions`).

    ``price`` is the market price the window was computed for; None skips the crossing check.
    """
    halted = risk.halted
    block_buys = risk.buys_blocked
    cancels: list[Action] = []
    max_buy = 0
    min_sell = _NO_SELL
    slots = book.slots
    ix = book.ix
    # Only working slots and FILLED slots whose take-profit is not above the sell window can act:
    # the book's index names them, so the cost is O(window + working), not O(book).
    for level in sorted(ix.working):
        s = slots[level]
        if s.side is Side.BUY:
            max_buy = max(max_buy, s.order_price)
        else:
            min_sell = min(min_sell, s.order_price)
        if s.state is not SlotState.LOCKED or s.cancel_requested:
            continue
        why: str | None = None
        if s.side is Side.BUY:
            if block_buys:
                why = "risk: " + (risk.halt_reason if halted else ", ".join(risk.reasons))
            else:
                why = _buy_trailing(level, win)
        elif not halted:
            why = _sell_trailing(s.order_price, win)
        if why is None:
            continue
        if s.cancel_retry_ms > now_ms:
            cancels.append(Skip(level, f"cancel ({why}) in back-off until {s.cancel_retry_ms}"))
        else:
            cancels.append(Cancel(level, s.client_id, why))
    # max(tp, sell_lo) lies in the sell window exactly when tp <= sell_hi (sell_lo <= sell_hi)
    upto = bisect_right(ix.filled, (win.sell_hi, _NO_SELL))
    filled = [slots[lv] for lv in sorted(lv for _, lv in ix.filled[:upto])]

    out: list[Action] = cancels
    if halted:
        return tuple(out)
    for s in filled:
        target = max(s.tp_price, win.sell_lo)  # in the sell window (see above)
        if s.backoff_until_ms > now_ms:
            out.append(Skip(s.level, f"sell in reject back-off until {s.backoff_until_ms}"))
        elif price is not None and target <= price:
            out.append(Skip(s.level, f"sell at {target} would cross the price {price}", resumes_below=target))
        elif target <= max_buy:
            out.append(Skip(s.level, f"sell at {target} would not stay above working buy {max_buy}"))
        elif (fail := rules.check(target, s.held)) is not None:
            out.append(Skip(s.level, f"sell {s.held} steps at {target} fails {fail}"))
        else:
            out.append(Place(s.level, Side.SELL, target, s.held))
            min_sell = min(min_sell, target)
    if block_buys:
        return tuple(out)

    budget = params.max_inventory - book.held_total - book.buy_working_total
    qty = params.order_qty
    for level in win.buy_levels():
        slot = book.slots.get(level)
        if slot is not None and slot.state is not SlotState.FREE:
            continue
        if slot is not None and slot.backoff_until_ms > now_ms:
            out.append(Skip(level, f"buy in reject back-off until {slot.backoff_until_ms}"))
        elif price is not None and level >= price:
            out.append(Skip(level, f"buy at {level} would cross the price {price}", resumes_above=level))
        elif level >= min_sell:
            out.append(Skip(level, f"buy would not stay below working sell {min_sell}"))
        elif qty > budget:
            out.append(Skip(level, f"max inventory: {budget} steps left, order needs {qty}"))
        elif (fail := rules.check(level, qty)) is not None:
            out.append(Skip(level, f"buy {qty} steps at {level} fails {fail}"))
        else:
            out.append(Place(level, Side.BUY, level, qty))
            budget -= qty
    return tuple(out)


def _buy_trailing(level: int, win: GridWindow) -> str | None:
    """Why a working buy at ``level`` must be cancelled for the window ``win``; None to keep it."""
    if level % win.interval:
        return "trailing: level is off the grid after an interval change"
    if level < win.buy_lo - win.interval:
        return "trailing: level fell behind the buy window"
    if level > win.center:
        return "trailing: level is above the grid center"
    return None


def _sell_trailing(price: int, win: GridWindow) -> str | None:
    """Why a working sell at ``price`` must be cancelled for the window ``win``; None to keep it."""
    if price > win.sell_hi + win.interval:
        return "trailing: price fell behind the sell window"
    if price <= win.center:
        return "trailing: price is at or below the grid center"
    return None
