"""The simulator's synthetic order book: what /depth, bookTicker and the depth streams show.

Users' orders never rest in it (they trade against the price path, see ``engine.py``). The book is a
pure function of the touch: bids at every tick from ``bid`` down, asks at every tick from ``ask = bid + 1``
up, :data:`LEVELS` each side. A level's size depends only on its price, never on its distance from the
touch, so when the touch moves only the levels it crosses (and the far ends of the window) change: a diff
stream stays small, and a client that applies it to a ``/depth`` snapshot keeps the same book.
"""

from __future__ import annotations

from collections.abc import Callable

from market_maker.core.rules import SymbolRules

LEVELS = 5000  # each side: the deepest REST snapshot Binance serves (spot limit=5000)
Level = list[str]  # [price, qty] as Binance writes them
Fmt = Callable[[SymbolRules, int], str]


def level_steps(price: int) -> int:
    """The size (steps) resting at ``price`` (ticks): 1 000 to 10 000 steps, fixed per price level."""
    return 1000 * (1 + (price * 7919) % 10)


def side(lo: int, hi: int, best_first_desc: bool) -> list[int]:
    """The prices of one side within [lo, hi], best first (bids descending, asks ascending)."""
    lo = max(lo, 1)
    return list(range(hi, lo - 1, -1)) if best_first_desc else list(range(lo, hi + 1))


def snapshot(
    r: SymbolRules, bid: int, ask: int, limit: int, price_fmt: Fmt, qty_fmt: Fmt
) -> tuple[list[Level], list[Level]]:
    """The best ``limit`` levels of each side, formatted."""
    bids = side(bid - limit + 1, bid, True)
    asks = side(ask, ask + limit - 1, False)
    return (
        [[price_fmt(r, p), qty_fmt(r, level_steps(p))] for p in bids],
        [[price_fmt(r, p), qty_fmt(r, level_steps(p))] for p in asks],
    )


def diff(
    r: SymbolRules, before: tuple[int, int], after: tuple[int, int], price_fmt: Fmt, qty_fmt: Fmt
) -> tuple[list[Level], list[Level]]:
    """The level changes from the book at touch ``before`` (bid, ask) to the book at ``after``: new levels
    with their size, levels gone with size "0" (Binance's removal), each side best first."""
    out: list[list[Level]] = []
    for is_bid in (True, False):
        old = _window(before, is_bid)
        new = _window(after, is_bid)
        changed = [(p, level_steps(p)) for p in _minus(new, old)] + [(p, 0) for p in _minus(old, new)]
        changed.sort(key=lambda x: -x[0] if is_bid else x[0])
        out.append([[price_fmt(r, p), qty_fmt(r, q) if q else "0"] for p, q in changed])
    return out[0], out[1]


def _window(touch: tuple[int, int], is_bid: bool) -> tuple[int, int]:
    bid, ask = touch
    lo, hi = (bid - LEVELS + 1, bid) if is_bid else (ask, ask + LEVELS - 1)
    return max(lo, 1), hi


def _minus(a: tuple[int, int], b: tuple[int, int]) -> list[int]:
    """Prices in the closed range ``a`` and not in ``b``."""
    below = range(a[0], min(a[1], b[0] - 1) + 1)
    above = range(max(a[0], b[1] + 1, below.stop), a[1] + 1)
    return [*below, *above]
