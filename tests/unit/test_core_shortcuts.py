"""The backtester's one-step transitions give exactly the book of the live two-step protocol.

The backtester's exchange answers at once, so it places with ``submit_acked`` instead of ``submit``
then ``ack``, and settles a cancel with the reply alone (no ``request_cancel`` book first), passing
the slot it has read for the id. Along random operation sequences (the core property tests' exchange
model), both ways must give the same book (every slot, counter and index) and the same events, for
every order the strategy would place and every working order.
"""

from __future__ import annotations

import random

from core_fixtures import BTC, calm_risk
from hypothesis import HealthCheck, given, settings
from test_core_index import _same_index
from test_core_properties import LENGTHS, OPS, PARAMS, SEEDS, World, step

from market_maker.core.actions import Place
from market_maker.core.fills import cancelled
from market_maker.core.grid import GridParams
from market_maker.core.slots import SlotBook, ack, request_cancel, submit, submit_acked
from market_maker.core.strategy import calculate_actions


def _same(a: SlotBook, b: SlotBook) -> None:
    assert a == b
    _same_index(a)
    _same_index(b)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PARAMS, LENGTHS, SEEDS)
def test_one_step_transitions_equal_the_two_step_protocol(params: GridParams, length: int, seed: int) -> None:
    w = World(SlotBook("mm1"), params, calm_risk())
    rng = random.Random(seed)
    for _ in range(length):
        step(w, rng.choice(OPS), rng.randrange(10**6), rng.randrange(10**6))
        book = w.book
        for a in calculate_actions(w.price, w.interval, book, w.risk, params, BTC, w.now):
            if isinstance(a, Place):
                two, cid2 = submit(book, a)
                one, cid1 = submit_acked(book, a)
                assert cid1 == cid2
                _same(one, ack(two, cid2))
        for lv in book.ix.working:
            s = book.slots[lv]
            if s.cancel_requested:
                continue
            for filled in {s.order_filled, s.order_qty}:  # as the backtester replies, or filled meanwhile
                got = cancelled(book, s.client_id, filled, BTC, w.interval, w.now)
                asked = request_cancel(book, s.client_id)
                want = cancelled(asked, s.client_id, filled, BTC, w.interval, w.now)
                _same(got[0], want[0])
                assert got[1] == want[1]
                # the slot passed in (as the backtester does) instead of found from the id: the same
                passed = cancelled(book, s.client_id, filled, BTC, w.interval, w.now, s)
                _same(passed[0], got[0])
                assert passed[1] == got[1]
