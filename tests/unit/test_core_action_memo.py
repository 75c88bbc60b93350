"""The live strategy's memo of actions per center (decided ahead of the price) gives exactly what the
core computes for that price and time, for any book, risk state, interval, skew and back-offs."""

from __future__ import annotations

import random

from core_fixtures import BTC, calm_risk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_core_properties import LENGTHS, PARAMS, SEEDS, World, run

from market_maker.core.actions import Place
from market_maker.core.grid import GridParams, grid_window
from market_maker.core.model import Side
from market_maker.core.slots import SlotBook, reject, submit
from market_maker.core.strategy import ActionMemo, actions_for_window


def direct(w: World, price: int, now: int) -> tuple[object, object]:
    win = grid_window(price, w.interval, w.book.held_total, w.params)
    return win, actions_for_window(win, w.book, w.risk, w.params, BTC, now, price)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PARAMS, LENGTHS, SEEDS, st.integers(0, 2**32))
def test_the_memo_answers_as_the_core_does(params: GridParams, length: int, seed: int, seed2: int) -> None:
    w = World(SlotBook("mm1"), params, calm_risk())
    run(w, length, seed, checked=False)
    memo = ActionMemo()
    rng = random.Random(seed2)
    price, now = w.price, w.now
    for _ in range(60):
        price = max(1_000_000, price + rng.randrange(-2 * w.interval, 2 * w.interval + 1))
        now += rng.choice((0, 1, 300, 2_000, 40_000, -5))  # back-offs expire; the wall clock may step back
        if rng.random() < 0.05:
            run(w, 3, rng.randrange(2**32), checked=False)  # the book, risk or interval changes
        memo.use(w.book, w.risk, w.interval, params, BTC, now)
        if rng.random() < 0.5:
            memo.ahead(price)
        assert memo.actions(price) == direct(w, price, now)


def test_a_center_decided_ahead_is_a_look_up_until_a_back_off_ends() -> None:
    params = GridParams(3, 3, 100, 10_000)
    iv, price = 1000, 10_000_000
    book, cid = submit(SlotBook("mm1"), Place(price - 2 * iv, Side.BUY, price - 2 * iv, 100))
    book, _ = reject(book, cid, 0, "post-only would cross")  # in back-off until 1 000
    risk, memo = calm_risk(), ActionMemo()
    memo.use(book, risk, iv, params, BTC, 10)
    assert memo.ahead(price - iv) == 2  # centers price and price - 2 I
    memo.use(book, risk, iv, params, BTC, 20)
    got = memo.actions(price + 7)
    assert memo.hits == 1 and got[1] == actions_for_window(got[0], book, risk, params, BTC, 20, price + 7)
    memo.use(book, risk, iv, params, BTC, 1_000)  # the back-off has ended
    late = memo.actions(price + 7)
    assert memo.hits == 1 and late != got and Place(price - 2 * iv, Side.BUY, price - 2 * iv, 100) in late[1]
