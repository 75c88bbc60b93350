"""The backtester's shortcuts through the strategy give the answers the full strategy pass gives.

- A *probe* pass (``actions_for_window(..., probe=True)``) finds a Place, Cancel or crossing Skip of
  the full pass (the first when the full pass places cancels and sells in scan order), and nothing
  when the full pass has none: what the quiet band relies on.
- A band grown lazily (:func:`widen`, with the cell memo) is as quiet as the eager one: no price
  strictly inside it gives a Place or a Cancel, and no resting order is reached there.
- Skips build their reason on demand; the text is the same as if it had been formatted at once.
"""

from __future__ import annotations

from core_fixtures import BTC, IV, calm_risk, settle
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_core_properties import LENGTHS, PARAMS, SEEDS, START, World, run

from market_maker.core.actions import Action, Place, Skip, is_order_action
from market_maker.core.grid import GridParams, grid_window
from market_maker.core.model import Side
from market_maker.core.quiet import CellMemo, evaluate, widen
from market_maker.core.slots import SlotBook
from market_maker.core.strategy import actions_for_window, calculate_actions


def _crossing_or_order(a: Action) -> bool:
    return not isinstance(a, Skip) or a.resumes_above is not None or a.resumes_below is not None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PARAMS, LENGTHS, SEEDS, st.integers(-6000, 6000))
def test_a_probe_finds_what_the_full_pass_finds(
    params: GridParams, length: int, seed: int, move: int
) -> None:
    w = World(SlotBook("mm1"), params, calm_risk())
    run(w, length, seed, checked=False)
    price = max(1_000_000, w.price + move)
    for book in (w.book, settle(w.book, price, w.risk, params, w.interval, w.now)):
        win = grid_window(price, w.interval, book.held_total, params)
        full = actions_for_window(win, book, w.risk, params, BTC, w.now, price)
        acting = [a for a in full if _crossing_or_order(a)]
        probe = actions_for_window(win, book, w.risk, params, BTC, w.now, price, probe=True)
        event(f"probe finds: {type(acting[0]).__name__ if acting else 'nothing'}")
        if not acting:
            assert probe == ()
        else:  # one of them: the first, unless a cap cancel for a later take-profit is listed ahead
            (found,) = probe
            assert found in acting
            placed_first = acting[0] != found
            assert not placed_first or (isinstance(found, Place) and "take-profit" in str(acting[0]))
        for a in full:  # lazily formatted reasons read like plain text and compare as plain text
            if isinstance(a, Skip):
                assert "{" not in a.reason and a.reason
                assert a == Skip(a.level, a.reason, a.resumes_above, a.resumes_below)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    PARAMS,
    LENGTHS,
    SEEDS,
    st.integers(-6000, 6000),
    st.integers(0, 40_000),
    st.integers(0, 40_000),
    st.integers(0, 10**9),
)
def test_nothing_happens_inside_a_lazily_widened_band(
    params: GridParams, length: int, seed: int, move: int, down: int, up: int, pick_: int
) -> None:
    w = World(SlotBook("mm1"), params, calm_risk())
    run(w, length, seed, checked=False)
    price = max(1_000_000, w.price + move)
    book = settle(w.book, price, w.risk, params, w.interval, w.now)
    memo = CellMemo()
    ev = evaluate(price, w.interval, book, w.risk, params, BTC, w.now, memo, 0)
    if ev.band.empty:
        return
    band = widen(ev.band, price - down, price + up, book, w.risk, params, BTC, w.now, memo)
    assert band.lo <= ev.band.lo and band.hi >= ev.band.hi
    # it never grows past its floor and ceiling (the backtester does not ask beyond them: Replay._widen)
    assert (band.floor, band.ceiling) == (ev.band.floor, ev.band.ceiling)
    assert band.floor <= band.lo and band.hi <= band.ceiling
    # a second evaluation at another price of the band walks the memo's proven cells at no cost
    again = evaluate(
        band.lo + 1 + pick_ % (band.hi - band.lo - 1), w.interval, book, w.risk, params, BTC, w.now, memo, 0
    )
    event(f"widened: {band != ev.band}; cells proven: {min(len(memo.cells), 6)}")
    for b in (band, again.band):
        if b.empty:
            continue
        lo, hi = b.lo + 1, min(b.hi - 1, b.lo + 10**7)
        for q in (lo, hi, lo + pick_ % (hi - lo + 1), price):
            if not b.contains(q):
                continue
            acts = calculate_actions(q, w.interval, book, w.risk, params, BTC, w.now)
            assert not [x for x in acts if is_order_action(x)], (q, b, acts)
            for s in book:  # no resting order is reached
                if s.working:
                    assert (q > s.order_price) if s.side is Side.BUY else (q < s.order_price)


def test_the_memo_forgets_its_proofs_when_the_book_changes() -> None:
    params = GridParams(buy_window=5, sell_window=5, order_qty=100, max_inventory=300)
    book = settle(SlotBook("mm1"), START, calm_risk(), params)
    memo = CellMemo()
    evaluate(START, IV, book, calm_risk(), params, BTC, 0, memo, 2)
    assert memo.cells  # neighbouring cells proven
    other = settle(book, START + 20 * IV, calm_risk(), params)  # the grid trailed: a new book
    assert other is not book
    memo.use(other, IV, calm_risk(), params, BTC, 0)
    assert memo.cells == {}
    memo.use(book, IV, calm_risk(), params, BTC, 0)
    assert memo.cells == {}  # nothing is kept for a book once another was used
