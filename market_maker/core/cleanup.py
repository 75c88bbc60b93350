"""The periodic stale-order cleanup: which working orders it cancels (the shells carry it out).

Rule: a working order that the trailing rule would cancel (``strategy.trailing_keeps`` is false for it)
and that has worked longer than the stale age is cancelled. An order the trailing rule keeps is never
cancelled for its age, however old: it is exactly where the grid wants it (a buy in the one-level slack
band below the window is about to fill when the price comes back).

What it is for: the strategy cancels such orders itself whenever it decides, but it decides only on a
price; while no price arrives (a stalled feed), or after a cancel that was lost or refused, an order the
grid no longer wants could stay working for good. The cleanup is that backstop. In a backtest it never
finds anything (the strategy decides at every price the path shows), and the summary says so.
The open-order cap is not a cleanup matter: the strategy keeps it (``strategy.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from market_maker.core.actions import Cancel
from market_maker.core.grid import GridWindow
from market_maker.core.model import SlotState
from market_maker.core.slots import SlotBook
from market_maker.core.strategy import trailing_keeps

_LOCKED: Final = SlotState.LOCKED  # a constant: the compiled build reads enum members through the class


def stale_cancels(
    book: SlotBook,
    win: GridWindow,
    sent_ms: Mapping[str, int],
    now_ms: int,
    stale_after_ms: int,
    halted: bool = False,
) -> list[Cancel]:
    """The cancels of every stale order (see the module docstring), by level.

    ``sent_ms`` maps a client id to the time its order was sent (unknown: not stale yet).
    """
    out: list[Cancel] = []
    slots = book.slots
    for level in sorted(book.ix.working):
        s = slots[level]
        if s.state is not _LOCKED or s.cancel_requested or trailing_keeps(s, win, halted):
            continue
        if s.cancel_retry_ms > now_ms:
            continue  # a refused cancel's back-off runs: the strategy asks again when it ends
        age = now_ms - sent_ms.get(s.client_id, now_ms)
        if age > stale_after_ms:
            out.append(Cancel(level, s.client_id, f"stale: {age // 1000} s old and outside the window"))
    return out
