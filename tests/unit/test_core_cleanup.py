"""The stale-order cleanup (core/cleanup.py): old orders the trailing rule would cancel go; an order the
trailing rule keeps stays however old, so the cleanup never cancels what the strategy keeps."""

from __future__ import annotations

from dataclasses import replace

from core_fixtures import BTC, calm_risk, settle
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_core_properties import LENGTHS, PARAMS, SEEDS, World, run

from market_maker.core.actions import Cancel, Place
from market_maker.core.cleanup import stale_cancels
from market_maker.core.grid import GridParams, grid_window
from market_maker.core.model import Side
from market_maker.core.quiet import quiet_band, widen
from market_maker.core.slots import SlotBook, ack, submit
from market_maker.core.strategy import calculate_actions

GRID = GridParams(buy_window=3, sell_window=3, order_qty=100, max_inventory=10_000)
WIN = grid_window(10_000_000, 1000, 0, GRID)  # center 100000.00, buys 99970..99990


def _book(levels: list[int]) -> tuple[SlotBook, dict[str, int]]:
    book = SlotBook("t1")
    sent = {}
    for i, level in enumerate(levels):
        book, cid = submit(book, Place(level, Side.BUY, level, 100))
        book = ack(book, cid)
        sent[cid] = i * 1000  # placed one second apart
    return book, sent


def test_old_orders_the_trailing_rule_drops_go_and_the_slack_level_stays() -> None:
    # 99960 is one level below the window (kept by the trailing slack, about to fill); 99950 is two
    book, sent = _book([9_995_000, 9_996_000, 9_997_000, 9_998_000, 9_999_000])
    out = stale_cancels(book, WIN, sent, now_ms=60_000, stale_after_ms=10_000)
    assert [(c.level, c.reason.split(":")[0]) for c in out] == [(9_995_000, "stale")]
    assert stale_cancels(book, WIN, sent, now_ms=5_000, stale_after_ms=10_000) == []  # not old yet


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PARAMS, LENGTHS, SEEDS)
def test_every_stale_cancel_is_one_the_strategy_asks_for_too(
    params: GridParams, length: int, seed: int
) -> None:
    w = World(SlotBook("mm1"), params, calm_risk())
    run(w, length, seed, checked=False)
    win = grid_window(w.price, w.interval, w.book.held_total, params)
    stale = stale_cancels(w.book, win, {}, now_ms=w.now, stale_after_ms=-1)  # every order counts as old
    wanted = {
        a.client_id
        for a in calculate_actions(w.price, w.interval, w.book, calm_risk(), params, BTC, w.now)
        if isinstance(a, Cancel)
    }
    for c in stale:
        s = w.book.find(c.client_id)
        assert s is not None
        assert s.cancel_retry_ms <= w.now  # a refused cancel's back-off is waited out, as the strategy does
        assert c.client_id in wanted, (c, wanted)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    PARAMS,
    LENGTHS,
    SEEDS,
    st.integers(0, 10**9),
    st.integers(-6000, 6000),
    st.sampled_from(["calm", "buys blocked", "halted"]),
)
def test_the_cleanup_finds_nothing_inside_a_quiet_band(
    params: GridParams, length: int, seed: int, pick_: int, move: int, risk_kind: str
) -> None:
    # The backtester skips the cleanup's scan at a price inside a quiet band that still holds
    # (backtest/replay.py, Replay.cleanup): there the cleanup must find nothing, whatever the orders'
    # age, cancels in flight or in back-off, and risk state.
    w = World(SlotBook("mm1"), params, calm_risk())
    run(w, length, seed, checked=False)
    risk = {
        "calm": calm_risk(),
        "buys blocked": replace(calm_risk(), atr_spike=True),
        "halted": replace(calm_risk(), halt_reason="max drawdown"),
    }[risk_kind]
    price = max(1_000_000, w.price + move)
    book = settle(w.book, price, risk, params, w.interval, w.now)
    band = quiet_band(book, price, w.interval, params, risk, BTC, w.now)
    if band.empty:
        return
    # grown as the engine grows it when a candle leaves it
    band = widen(band, band.lo - 4 * w.interval, band.hi + 4 * w.interval, book, risk, params, BTC, w.now)
    lo, hi = band.lo + 1, min(band.hi - 1, band.lo + 10**7)
    for q in (lo, hi, lo + pick_ % (hi - lo + 1)):
        win = grid_window(q, w.interval, book.held_total, params)
        event(f"working orders: {min(sum(s.working for s in book), 4)}; risk: {risk_kind}")
        # every order counts as old (sent at an unknown time, stale age -1)
        assert stale_cancels(book, win, {}, now_ms=w.now, stale_after_ms=-1, halted=risk.halted) == []
