"""The quiet band grows over neighbouring center cells where nothing can be done, and no further."""

from __future__ import annotations

import numpy as np
from core_fixtures import BTC, IV, buy_filled, calm_risk

from market_maker.backtest.candles import Candles
from market_maker.backtest.engine import run_backtest
from market_maker.backtest.settings import BacktestSettings
from market_maker.backtest.synthetic import synthetic_candles
from market_maker.core.actions import Place, Skip
from market_maker.core.grid import GridParams
from market_maker.core.model import Side
from market_maker.core.quiet import EXTEND_CELLS, evaluate
from market_maker.core.slots import SlotBook
from market_maker.core.strategy import calculate_actions

P0 = 10_000_000  # 100000.00, a center
FULL = GridParams(buy_window=5, sell_window=5, order_qty=100, max_inventory=200)


def _full_book(*levels: int) -> SlotBook:
    book = SlotBook("mm1")
    for i, lv in enumerate(levels):
        book = buy_filled(book, lv, trade_id=i + 1)
    return book


def test_at_full_inventory_with_no_take_profit_in_reach_the_band_spans_several_cells() -> None:
    book = _full_book(10_100_000, 10_101_000)  # take-profits far above the sell window
    ev = evaluate(P0, IV, book, calm_risk(), FULL, BTC, 0)
    assert all(isinstance(a, Skip) for a in ev.actions)  # buys skipped: max inventory
    reach = EXTEND_CELLS * IV + IV // 2  # the current cell and EXTEND_CELLS more on each side
    assert (ev.band.lo, ev.band.hi) == (P0 - reach - 1, P0 + reach)
    for q in (ev.band.lo + 1, ev.band.hi - 1, P0 + 2 * IV, P0 - 3 * IV):
        assert all(isinstance(a, Skip) for a in calculate_actions(q, IV, book, calm_risk(), FULL, BTC, 0))


def test_the_band_stops_at_the_cell_where_a_take_profit_comes_into_the_sell_window() -> None:
    book = _full_book(10_006_000, 10_100_000)  # take-profit 10 007 000: in the window from center +2 I
    ev = evaluate(P0, IV, book, calm_risk(), FULL, BTC, 0)
    assert ev.band.hi == P0 + IV + IV // 2  # the end of the cell of center + 1 I
    at_edge = calculate_actions(ev.band.hi, IV, book, calm_risk(), FULL, BTC, 0)
    assert Place(10_006_000, Side.SELL, 10_007_000, 100) in at_edge


def test_after_a_data_gap_the_fast_path_acts_at_the_previous_close_like_the_exhaustive_one() -> None:
    # found by the engine's fast-equals-exhaustive property once the band spanned several cells: the
    # stale-data watchdog acted at the price of the core's last evaluation, not the last close
    seed = 169
    full = synthetic_candles(1300, seed=seed)
    keep = np.random.default_rng(seed).random(len(full)) > 0.08
    c = Candles(
        *(getattr(full, k)[keep] for k in ("open_time_ms", "open", "high", "low", "close", "volume")),
        full.tick_size,
        full.step_size,
        "gappy",
    )
    s = BacktestSettings().with_overrides({"price_interval": "100"})
    fast, slow = run_backtest(c, s), run_backtest(c, s, exhaustive=True)
    assert fast.fills == slow.fills
    assert fast.counters.orders_placed == slow.counters.orders_placed
    assert fast.final_cash == slow.final_cash
