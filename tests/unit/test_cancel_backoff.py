"""A refused cancel backs off: exponential, capped, on the slot, cleared when the order fills or ends.

Why: the strategy asks for a cancel on every price tick while the order should go; without a back-off a
cancel that the exchange (or the bot's own rate limiter) refuses was re-sent 672 times in one second
(bench/results/reliability_long_run2.md).
"""

from __future__ import annotations

import random

from core_fixtures import BTC, IV, PARAMS, calm_risk, fill, settle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_core_properties import LENGTHS, OPS, SEEDS, World, step

from market_maker.core.actions import Cancel, Skip
from market_maker.core.fills import apply_fill, cancelled
from market_maker.core.grid import GridParams
from market_maker.core.model import Side, SlotState
from market_maker.core.quiet import evaluate
from market_maker.core.slots import (
    CANCEL_BACKOFF_MAX_MS,
    SlotBook,
    cancel_backoff_ms,
    cancel_failed,
    request_cancel,
)
from market_maker.core.strategy import calculate_actions

P = 10_000_000  # 100000.00
RISK = calm_risk()


def _cancels(book: SlotBook, price: int, now: int) -> list[Cancel]:
    return [a for a in calculate_actions(price, IV, book, RISK, PARAMS, BTC, now) if isinstance(a, Cancel)]


def _runaway_book() -> tuple[SlotBook, int, Cancel]:
    """A book with working buys below ``P``, and a price so far above that the lowest must be cancelled."""
    book = settle(SlotBook("mm1"), P, RISK)
    up = P + 3 * IV
    first = _cancels(book, up, 0)[0]
    return book, up, first


def test_a_refused_cancel_waits_its_back_off_then_is_asked_again() -> None:
    book, up, c = _runaway_book()
    book = cancel_failed(request_cancel(book, c.client_id), c.client_id, now_ms=10_000)
    s = book.slot(c.level)
    assert s is not None and s.state is SlotState.LOCKED and s.cancel_fails == 1
    assert s.cancel_retry_ms == 10_000 + cancel_backoff_ms(1)
    acts = calculate_actions(up, IV, book, RISK, PARAMS, BTC, 10_001)
    assert c.level not in [a.level for a in acts if isinstance(a, Cancel)]
    assert any(isinstance(a, Skip) and a.level == c.level and "back-off" in a.reason for a in acts)
    assert c.level in [a.level for a in _cancels(book, up, s.cancel_retry_ms)]


def test_a_cancel_refused_on_every_tick_is_sent_a_handful_of_times_per_second_not_hundreds() -> None:
    book, up, c = _runaway_book()
    sent = 0
    for now in range(0, 1_000):  # a tick every millisecond for one second, every cancel refused at once
        for a in _cancels(book, up, now):
            if a.level == c.level:
                sent += 1
                book = cancel_failed(request_cancel(book, a.client_id), a.client_id, now)
    assert sent <= 3  # t = 0, 500, 1500 (> 1 s): base 500 ms, doubling


def test_the_back_off_doubles_up_to_its_cap() -> None:
    waits = [cancel_backoff_ms(n) for n in range(1, 20)]
    assert waits[:4] == [500, 1_000, 2_000, 4_000]
    assert max(waits) == CANCEL_BACKOFF_MAX_MS and waits == sorted(waits)


def test_a_fill_ends_the_back_off_and_the_cancel_goes_out_at_once() -> None:
    book, up, c = _runaway_book()
    book = cancel_failed(request_cancel(book, c.client_id), c.client_id, now_ms=0)
    book = cancel_failed(request_cancel(book, c.client_id), c.client_id, now_ms=600)
    s = book.slot(c.level)
    assert s is not None and s.cancel_fails == 2
    book, _ = apply_fill(book, fill(c.client_id, Side.BUY, c.level, 10, 10, 99), BTC, IV)
    s = book.slot(c.level)
    assert s is not None and s.working and (s.cancel_fails, s.cancel_retry_ms) == (0, 0)
    assert c.level in [a.level for a in _cancels(book, up, 601)]


def test_a_cancel_that_finally_succeeds_leaves_no_back_off_for_the_next_order() -> None:
    book, _, c = _runaway_book()
    book = cancel_failed(request_cancel(book, c.client_id), c.client_id, now_ms=0)
    book = request_cancel(book, c.client_id)
    book, _ = cancelled(book, c.client_id, 0, BTC, IV, 700)
    assert book.slot(c.level) is None  # FREE, nothing held, no back-off: not stored at all
    assert c.level not in book.ix.backoff


def test_a_stale_refusal_changes_nothing() -> None:
    book, _, c = _runaway_book()
    assert cancel_failed(book, c.client_id, 0) is book  # no cancel in flight
    assert cancel_failed(book, "mm1_nope", 0) is book


def test_the_quiet_band_ends_when_the_cancel_back_off_expires() -> None:
    book, up, c = _runaway_book()
    book = cancel_failed(request_cancel(book, c.client_id), c.client_id, now_ms=0)
    book = settle(book, up, RISK, now_ms=0)  # every other action carried out; this cancel waits
    s = book.find(c.client_id)
    assert s is not None and s.working and s.cancel_retry_ms == 500
    ev = evaluate(up, IV, book, RISK, PARAMS, BTC, 1)
    assert all(isinstance(a, Skip) for a in ev.actions) and not ev.band.empty
    assert ev.band.until_ms == 500  # a backtest may skip candles only until the cancel is due again
    assert c.level in [
        a.level for a in evaluate(up, IV, book, RISK, PARAMS, BTC, 500).actions if isinstance(a, Cancel)
    ]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 5_000), min_size=1, max_size=40))
def test_waits_grow_and_are_capped_whatever_the_timing(gaps: list[int]) -> None:
    book, up, c = _runaway_book()
    now, last_wait = 0, 0
    for g in gaps:
        now += g
        s = book.find(c.client_id)
        assert s is not None
        due = c.level in [a.level for a in _cancels(book, up, now)]
        assert due == (now >= s.cancel_retry_ms)  # never asked inside the back-off, always after it
        if due:
            book = cancel_failed(request_cancel(book, c.client_id), c.client_id, now)
            s = book.find(c.client_id)
            assert s is not None
            wait = s.cancel_retry_ms - now
            assert last_wait <= wait <= CANCEL_BACKOFF_MAX_MS
            last_wait = wait


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LENGTHS, SEEDS)
def test_no_cancel_inside_a_back_off_and_the_band_never_outlives_one(length: int, seed: int) -> None:
    params = GridParams(buy_window=4, sell_window=4, order_qty=100, max_inventory=2_000)
    w = World(SlotBook("mm1"), params, calm_risk())
    rng = random.Random(seed)
    ops = [*OPS, "cancel_refused", "cancel_refused"]  # refusals often, so streaks build up
    for _ in range(length):
        step(w, rng.choice(ops), rng.randrange(10**6), rng.randrange(10**6))
        ev = evaluate(w.price, w.interval, w.book, w.risk, params, BTC, w.now)
        waiting = {s.level: s.cancel_retry_ms for s in w.book if s.cancel_retry_ms > w.now}
        for a in ev.actions:
            assert not (isinstance(a, Cancel) and a.level in waiting), (a, waiting)
        if waiting and not ev.band.empty:
            assert ev.band.until_ms is not None and ev.band.until_ms <= min(waiting.values())
