"""Which working orders the periodic cleanup cancels (pure: the slot manager carries it out).

- Stale: an order older than the stale age whose level (buy) or price (sell) is outside the current
  window. Orders inside the window stay, however old: they are exactly where the grid wants them.
- Cap: when more orders work than ``max_open_orders``, the buys farthest from the center go first
  (sells hold positions and are never cancelled for the cap).
"""

from __future__ import annotations

from collections.abc import Mapping

from market_maker.core.grid import GridWindow
from market_maker.core.model import Side, SlotState
from market_maker.core.slots import Slot, SlotBook


def _cancellable(s: Slot) -> bool:
    return s.state is SlotState.LOCKED and not s.cancel_requested


def cleanup_cancels(
    book: SlotBook,
    win: GridWindow,
    sent_ms: Mapping[str, int],
    now_ms: int,
    stale_after_ms: int,
    max_open_orders: int,
) -> list[tuple[str, str]]:
    """(client id, reason) of every order to cancel now, stale ones first, each at most once."""
    out: list[tuple[str, str]] = []
    for s in book:
        if not _cancellable(s):
            continue
        age = now_ms - sent_ms.get(s.client_id, now_ms)
        inside = win.in_buy_window(s.level) if s.side is Side.BUY else win.in_sell_window(s.order_price)
        if age > stale_after_ms and not inside:
            out.append((s.client_id, f"stale: {age // 1000} s old and outside the window"))
    chosen = {cid for cid, _ in out}
    excess = sum(1 for s in book if s.working and s.client_id not in chosen) - max_open_orders
    if excess > 0:
        buys = [s for s in book if _cancellable(s) and s.side is Side.BUY and s.client_id not in chosen]
        buys.sort(key=lambda s: abs(win.center - s.level), reverse=True)
        out += [(s.client_id, f"open-order cap {max_open_orders}") for s in buys[:excess]]
    return out
