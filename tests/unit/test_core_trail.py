"""changed_since: the levels that differ between a book and one made from it, without comparing every
level (the slot manager's store writes only those). Whenever it answers, the answer must be exactly the
levels a full comparison finds; it may only say "not known" (None)."""

from __future__ import annotations

import random

from core_fixtures import BTC, calm_risk
from hypothesis import HealthCheck, given, settings
from test_core_properties import LENGTHS, OPS, PARAMS, SEEDS, World, step

from market_maker.core.actions import Place
from market_maker.core.grid import GridParams
from market_maker.core.model import Side
from market_maker.core.slots import TRAIL, SlotBook, changed_since, request_cancel, submit

BASE = BTC.price_to_ticks("99000")


def _full_diff(old: SlotBook, new: SlotBook) -> list[int]:
    return sorted(
        lv for lv in old.slots.keys() | new.slots.keys() if old.slots.get(lv) is not new.slots.get(lv)
    )


def _buys(n: int) -> list[SlotBook]:
    """The empty book, then one more buy submitted per book."""
    books = [SlotBook("mm1")]
    for i in range(n):
        lv = BASE - 1000 * i
        books.append(submit(books[-1], Place(lv, Side.BUY, lv, 100))[0])
    return books


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PARAMS, LENGTHS, SEEDS)
def test_the_answer_is_the_full_comparison_after_any_transitions(
    params: GridParams, length: int, seed: int
) -> None:
    w = World(SlotBook("mm1"), params, calm_risk())
    rng = random.Random(seed)
    kept = [w.book]  # earlier books stay alive, as the writer's last saved book does
    answered = 0
    for _ in range(length):
        step(w, rng.choice(OPS), rng.randrange(10**6), rng.randrange(10**6))
        for old in kept[-3:]:
            got = changed_since(old, w.book)
            if got is not None:
                answered += 1
                assert got == _full_diff(old, w.book)
        kept.append(w.book)
    assert answered  # it does answer (None always would pass the loop above)


def test_up_to_trail_transitions_back_are_known_and_further_ones_are_not() -> None:
    books = _buys(TRAIL + 2)
    last = books[-1]
    for back in range(1, TRAIL + 1):
        assert changed_since(books[-1 - back], last) == _full_diff(books[-1 - back], last)
    assert changed_since(books[-2 - TRAIL], last) is None
    assert changed_since(last, last) == []


def test_a_cancel_request_changes_its_level_only() -> None:
    books = _buys(3)
    s = next(iter(books[-1].slots.values()))
    after = request_cancel(books[-1], s.client_id)
    assert changed_since(books[-1], after) == [s.level]


def test_an_unrelated_or_rebuilt_book_is_not_known() -> None:
    a, b = _buys(2), _buys(2)
    assert changed_since(a[1], b[2]) is None  # another lineage
    rebuilt = a[2].replace(slots=dict(a[2].slots))  # a new mapping: its index (and link) starts afresh
    assert changed_since(a[1], rebuilt) is None
    renumbered = a[2].replace(next_gen=99)  # the same mapping: the slots did not change
    assert changed_since(a[2], renumbered) == []
    assert changed_since(a[1], renumbered) == _full_diff(a[1], renumbered)


def test_a_book_keeps_no_ancestor_alive_and_at_most_trail_mappings() -> None:
    books = _buys(3 * TRAIL)
    last = books[-1]
    assert len(last.ix.trail) == TRAIL  # bounded however long the lineage
    kept = [m for m, _ in last.ix.trail]
    assert kept[0] is books[-2].slots and kept[-1] is books[-1 - TRAIL].slots
    assert not any(isinstance(m, SlotBook) for m in kept)  # mappings only: no book, so no chain of books
