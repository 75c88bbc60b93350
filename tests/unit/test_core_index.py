"""The slot book's derived index (what the strategy reads instead of walking every slot).

Transitions update the index incrementally; it must always equal the index built from scratch, or the
strategy would miss a working order or a take-profit. Random operation sequences come from the core
property tests' exchange model.
"""

from __future__ import annotations

import random
from bisect import bisect_left

from core_fixtures import BTC, calm_risk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_core_properties import LENGTHS, OPS, PARAMS, SEEDS, World, step

from market_maker.core.actions import Place, Skip
from market_maker.core.grid import GridParams
from market_maker.core.model import Side
from market_maker.core.quiet import evaluate, quiet_band
from market_maker.core.slots import (
    Slot,
    SlotBook,
    _bisect_pair,
    _set_ordered,
    build_index,
    changed_since,
    owned,
    prune,
    submit,
    working_slots,
)
from market_maker.core.strategy import calculate_actions


def _same_index(book: SlotBook) -> None:
    fresh = build_index(book.slots)
    ix = book.ix
    assert (ix.working, ix.filled, ix.backoff) == (fresh.working, fresh.filled, fresh.backoff)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PARAMS, LENGTHS, SEEDS)
def test_index_matches_the_slots_after_every_transition(params: GridParams, length: int, seed: int) -> None:
    w = World(SlotBook("mm1"), params, calm_risk())
    rng = random.Random(seed)
    for _ in range(length):
        step(w, rng.choice(OPS), rng.randrange(10**6), rng.randrange(10**6))
        _same_index(w.book)
        ev = evaluate(w.price, w.interval, w.book, w.risk, params, BTC, w.now)
        assert ev.actions == calculate_actions(w.price, w.interval, w.book, w.risk, params, BTC, w.now)
        assert ev.band == quiet_band(w.book, w.price, w.interval, params, w.risk, BTC, w.now)
        if not ev.band.empty:
            assert all(isinstance(a, Skip) for a in ev.actions)
    _same_index(prune(w.book, w.now + 10**9))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PARAMS, LENGTHS, SEEDS)
def test_an_owned_book_goes_through_the_same_books(params: GridParams, length: int, seed: int) -> None:
    """The backtester's owned book (updated in place) equals, after every transition, the book the
    same transitions make by copying; its index too; and the strategy decides the same on both."""
    w = World(SlotBook("mm1"), params, calm_risk())
    o = World(owned(SlotBook("mm1")), params, calm_risk())
    rng, rng2 = random.Random(seed), random.Random(seed)
    for _ in range(length):
        before = o.book
        step(w, rng.choice(OPS), rng.randrange(10**6), rng.randrange(10**6))
        step(o, rng2.choice(OPS), rng2.randrange(10**6), rng2.randrange(10**6))
        assert o.book.owned and o.book == w.book and o.realized == w.realized
        fresh, ix = build_index(o.book.slots), o.book.ix
        assert (ix.working, list(ix.filled), ix.backoff) == (fresh.working, list(fresh.filled), fresh.backoff)
        # the owned index's working slots: the book's own slot objects, by level
        ordered = ix.ordered
        assert ordered is not None and w.book.ix.ordered is None
        assert [s.level for s in ordered] == sorted(fresh.working)
        assert all(s is o.book.slots[s.level] for s in ordered)
        assert working_slots(w.book) == ordered
        assert changed_since(before, o.book) is None  # its ancestors share its storage: unknown
        assert calculate_actions(
            o.price, o.interval, o.book, o.risk, params, BTC, o.now
        ) == calculate_actions(w.price, w.interval, w.book, w.risk, params, BTC, w.now)


def test_a_book_built_from_another_mapping_rebuilds_its_index() -> None:
    lv = BTC.price_to_ticks("99000")
    book, _ = submit(SlotBook("mm1"), Place(lv, Side.BUY, lv, 100))
    assert book.ix.working == {lv}
    emptied = book.replace(slots={})  # e.g. a caller swapping the mapping: the old index must not survive
    assert emptied.ix.working == frozenset()
    loaded = SlotBook("mm1", slots=dict(book.slots), next_gen=book.next_gen, buy_working_total=100)
    assert loaded.ix.working == {lv} and loaded == book


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=30),
    st.tuples(st.integers(-1, 41), st.integers(-1, 41)),
)
def test_the_owned_index_bisects_pairs_as_bisect_left(
    pairs: list[tuple[int, int]], key: tuple[int, int]
) -> None:
    """The owned index finds a take-profit key in its list with a native binary search: the same place as
    ``bisect_left`` (ties, ends and absent keys included)."""
    pairs.sort()
    assert _bisect_pair(pairs, key) == bisect_left(pairs, key)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 25), st.integers(0, 3)), max_size=60))
def test_the_owned_index_keeps_its_working_slots_by_level(ops: list[tuple[bool, int, int]]) -> None:
    """Putting a slot in (a new working order, or a new version of one: it replaces the old one) and
    taking one out keeps the list equal to the newest slot of each level in it, ascending by level."""
    ordered: list[Slot] = []
    model: dict[int, Slot] = {}
    for put_in, lv, gen in ops:
        new = Slot(lv, generation=gen) if put_in else None
        _set_ordered(ordered, lv, new)
        if new is not None:
            model[lv] = new
        else:
            model.pop(lv, None)
        assert len(ordered) == len(model)
        assert all(a is b for a, b in zip(ordered, (model[k] for k in sorted(model)), strict=True))
