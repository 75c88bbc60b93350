"""The backtest engine: a hand-computed scenario, fill-model cases, and skip == exhaustive replay."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market_maker.backtest.candles import Candles
from market_maker.backtest.engine import run_backtest
from market_maker.backtest.metrics import summarize
from market_maker.backtest.settings import BacktestSettings
from market_maker.backtest.synthetic import synthetic_candles
from market_maker.core.model import Side

T0 = 1_780_272_000_000  # 2026-06-01T00:00:00Z
Q = 15_000  # a quarter of a 1-minute candle: waypoint k is at open + k * Q

# Price 100 +/- a few, tick 0.01, step 0.001; interval 1.00, windows 2 + 2, 0.5 per order, fee 0.1%.
# Risk rules off, so the scenario is about the grid, the fill model and the money.
HAND = BacktestSettings().with_overrides(
    {
        "price_interval": "1",
        "order_quantity": "0.5",
        "buy_window_size": "2",
        "sell_window_size": "2",
        "max_inventory": "10",
        "atr_spike_multiple": "0",
        "volume_spike_multiple": "0",
        "max_consecutive_losses": "0",
        "max_drawdown_pct": "0",
        "symbol": "TESTUSDT",
        "base_asset": "TEST",
        "quote_asset": "USDT",
        "tick_size": "0.01",
        "step_size": "0.001",
        "min_qty": "0",
        "min_notional": "0",
        "sim.balances.USDT": "10000",
        "maker_fee": "0.001",
        "taker_fee": "0.002",
    }
)

# (open, high, low, close) in price units. Rising or flat candles play open, low, high, close;
# falling ones open, high, low, close.
HAND_OHLC = [
    ("100.00", "100.20", "99.90", "100.10"),  # 1: buys at 99, 98; quiet band (99.49, 100.50)
    ("100.10", "100.40", "99.60", "99.70"),  # 2: quiet
    ("99.70", "99.80", "98.80", "99.00"),  # 3: low 98.80 fills buy 99; sell 100 + buy 97 placed
    ("99.00", "99.40", "98.60", "99.30"),  # 4: quiet in (98.49, 99.50)
    ("99.30", "100.30", "99.20", "100.20"),  # 5: high 100.30 fills sell 100; buy 99 (97 kept: slack)
    ("100.20", "100.45", "99.95", "100.00"),  # 6: quiet
    ("100.00", "101.60", "99.90", "101.50"),  # 7: center 102: cancel 97, 98 (99 within slack); buys 101, 100
    ("101.50", "101.70", "100.40", "100.50"),  # 8: low fills buy 101 (center 100: 100 kept); sell 102, buy 98
    ("100.50", "100.90", "100.55", "100.80"),  # 9: quiet in (100.49, 101.50)
    ("100.80", "102.20", "100.70", "102.00"),  # 10: high fills sell 102; cancel 98, buy 101
    ("102.00", "102.30", "101.60", "101.80"),  # 11: quiet in (101.49, 102.50)
    ("101.80", "101.90", "100.50", "100.60"),  # 12: low 100.50 fills buy 101; sell 102 (99, 100 work)
    *[("100.60", "100.90", "100.55", "100.90")] * 8,  # 13-20: quiet in (100.49, 101.50)
]


def _candles(rows: list[tuple[str, str, str, str]], volume: int = 1_000_000) -> Candles:
    cols = [[int(D(x) / D("0.01")) for x in col] for col in zip(*rows, strict=True)]
    n = len(rows)
    return Candles(
        T0 + 60_000 * np.arange(n, dtype=np.int64),
        *(np.asarray(c, dtype=np.int64) for c in cols),
        np.full(n, volume, dtype=np.int64),
        D("0.01"),
        D("0.001"),
        "hand",
    )


def _fill_rows(run):  # type: ignore[no-untyped-def]
    return [
        (
            f.candle + 1,
            (f.time_ms - T0) % 60_000 // Q,
            f.side.value,
            run.candles.price(f.price),
            run.candles.qty(f.qty),
            f.fee,
        )
        for f in run.fills
    ]


def test_hand_computed_twenty_candles() -> None:
    run = run_backtest(_candles(HAND_OHLC), HAND)
    # (candle, waypoint, side, price, qty, fee): every fill at its own price, maker fee 0.1% of notional
    assert _fill_rows(run) == [
        (3, 2, "BUY", D("99.00"), D("0.500"), D("0.0495")),
        (5, 2, "SELL", D("100.00"), D("0.500"), D("0.05")),
        (8, 2, "BUY", D("101.00"), D("0.500"), D("0.0505")),
        (10, 2, "SELL", D("102.00"), D("0.500"), D("0.051")),
        (12, 2, "BUY", D("101.00"), D("0.500"), D("0.0505")),
    ]
    assert all(f.is_maker for f in run.fills)
    # round trips: 50.00 - 49.50 - (0.0495 + 0.05) = 0.4005 and 51.00 - 50.50 - (0.0505 + 0.051) = 0.3985
    assert [t.pnl for t in run.round_trips] == [D("0.4005"), D("0.3985")]
    assert [t.fees for t in run.round_trips] == [D("0.0995"), D("0.1015")]
    assert run.realized_pnl == D("0.7990")
    assert run.fees == D("0.2515")
    # one open position: 0.5 bought at 101.00, marked at the last close 100.90
    assert run.final_position == 500
    assert run.unrealized_pnl == D("-0.05")
    # cash = 10000 - 49.5 + 50 - 50.5 + 51 - 50.5 - fees 0.2515
    assert run.final_cash == D("9950.2485")
    assert run.final_equity() == D("10000.6985")
    # orders placed at candles 1 (2), 3 (2), 5 (1), 7 (2), 8 (2), 10 (1), 12 (1); cancels at 7 (two), 10.
    # The trailing slack keeps the level one interval behind the window, so fewer cancels than a strict
    # window, and the same fills.
    assert run.counters.orders_placed == 11
    assert run.counters.cancels == 3
    assert run.counters.post_only_rejects == 0
    s = summarize(run)
    assert s["round_trips"] == 2 and s["wins"] == 2 and s["win_rate_pct"] == 100.0
    assert s["net_pnl"] == "0.6985"
    assert s["realized_pnl"] == "0.799" and s["unrealized_pnl"] == "-0.05" and s["fees"] == "0.2515"
    # position per candle close: bought in candle 3, sold in 5, bought in 8, sold in 10, bought in 12
    assert run.position.tolist() == [0, 0, 500, 500, 0, 0, 0, 500, 500, 0, 0] + [500] * 9


def test_skewed_grid_never_sends_an_order_that_would_cross() -> None:
    # Skewed center above the price (position below target): the top buys would sit above the market.
    # The strategy skips them (a post-only order there would only be rejected), with or without post-only.
    skew = HAND.with_overrides(
        {"inventory_skew_factor": "0.5", "target_inventory": "1", "max_inventory": "2"}
    )
    rows = [("100.00", "100.10", "99.95", "100.05")] * 3
    # P_skewed = 100 * (1 + 0.5 * 0.5) = 125: buys at 124 and 123 would take liquidity -> not sent
    for cfg in (skew, skew.with_overrides({"post_only": "false"})):
        run = run_backtest(_candles(rows), cfg)
        assert run.counters.post_only_rejects == 0
        assert run.fills == []


def test_partial_fills_by_volume_share() -> None:
    rows = [("100.00", "100.20", "99.90", "100.10"), ("99.70", "99.80", "98.80", "99.00")]
    rows += [("99.00", "99.30", "98.70", "99.20")] * 2 + [("99.20", "100.40", "99.10", "100.30")]
    # candle volume 1.000 base: with a 20% share the 0.5 buy at 99 fills 0.200 in candle 2; it stays
    # working at the new center (the trailing slack) and fills 0.200 more in candle 3 and the last
    # 0.100 in candle 4; its take-profit at 100 then sells 0.200 of the 0.500 in candle 5
    run = run_backtest(_candles(rows, volume=1000), HAND.with_overrides({"volume_share": "0.2"}))
    assert [(f.candle + 1, f.side.value, f.price, f.qty) for f in run.fills] == [
        (2, "BUY", 9900, 200),
        (3, "BUY", 9900, 200),
        (4, "BUY", 9900, 100),
        (5, "SELL", 10000, 200),
    ]
    assert run.round_trips == [] and run.final_position == 300
    whole = run_backtest(_candles(rows, volume=1000), HAND)
    assert [(f.candle + 1, f.qty) for f in whole.fills] == [(2, 500), (5, 500)]


def test_fill_on_touch_fills_at_the_exact_price() -> None:
    rows = [("100.00", "100.20", "99.90", "100.10"), ("99.70", "99.80", "99.00", "99.40")]
    strict = run_backtest(_candles(rows), HAND)
    touch = run_backtest(_candles(rows), HAND.with_overrides({"fill_on_touch": "true"}))
    assert strict.fills == []  # the low only touched the buy at 99.00
    assert [(f.price, f.qty) for f in touch.fills] == [(9900, 500)]


def test_accounting_matches_the_fills() -> None:
    c = synthetic_candles(3000, seed=11)
    run = run_backtest(c, BacktestSettings().with_overrides({"price_interval": "40"}))
    unit = c.tick_size * c.step_size
    buys = [f for f in run.fills if f.side is Side.BUY]
    sells = [f for f in run.fills if f.side is Side.SELL]
    assert run.final_position == sum(f.qty for f in buys) - sum(f.qty for f in sells)
    spent = sum((unit * f.price * f.qty for f in buys), D(0)) - sum(
        (unit * f.price * f.qty for f in sells), D(0)
    )
    assert run.final_cash == run.initial_capital - spent - run.fees
    assert run.fees == sum((f.fee for f in run.fills), D(0))
    assert len(run.round_trips) > 0


SCENARIOS = [
    {"price_interval": "100"},
    {"price_interval": "50", "inventory_skew_factor": "0.5", "target_inventory": "0.02"},
    {"price_interval": "30", "volume_share": "0.05"},
    {"price_interval": "40", "fill_on_touch": "true", "dynamic_interval": "true"},
    {
        "price_interval": "60",
        "post_only": "false",
        "inventory_skew_factor": "1",
        "target_inventory": "0.03",
        "max_drawdown_pct": "1",
        "cooldown_seconds": "120",
    },
    {"price_interval": "20", "max_consecutive_losses": "2", "cooldown_seconds": "600"},
    {"price_interval": "30", "sim.balances.USDT": "250", "stale_price_seconds": "10"},
    {"price_interval": "50", "atr_interval": "5m", "dynamic_interval": "true", "stale_price_seconds": "45"},
]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), scenario=st.sampled_from(SCENARIOS))
def test_skipping_quiet_candles_changes_nothing(seed: int, scenario: dict[str, str]) -> None:
    """The fast path (core asked only at events) equals asking the core at every waypoint and close."""
    full = synthetic_candles(1300, seed=seed)
    keep = np.random.default_rng(seed).random(len(full)) > 0.08  # missing candles: data gaps
    c = Candles(
        *(getattr(full, k)[keep] for k in ("open_time_ms", "open", "high", "low", "close", "volume")),
        full.tick_size,
        full.step_size,
        "gappy",
    )
    s = BacktestSettings().with_overrides(scenario)
    fast = run_backtest(c, s)
    slow = run_backtest(c, s, exhaustive=True)
    assert fast.fills == slow.fills
    assert fast.round_trips == slow.round_trips
    assert fast.final_cash == slow.final_cash
    assert np.array_equal(fast.position, slow.position)
    assert fast.counters.orders_placed == slow.counters.orders_placed


def test_candles_in_other_units_are_refused() -> None:
    c = synthetic_candles(10, tick_size="0.1")
    with pytest.raises(ValueError, match=r"tick 0\.1"):
        run_backtest(c, BacktestSettings())


def test_a_gap_in_the_data_trips_the_stale_price_watchdog() -> None:
    rows = [("100.00", "100.20", "99.90", "100.10")] * 4
    c = _candles(rows)
    times = c.open_time_ms.copy()
    times[2:] += 5 * 60_000  # five minutes without data between candles 2 and 3
    gapped = Candles(times, c.open, c.high, c.low, c.close, c.volume, c.tick_size, c.step_size, "gap")
    s = HAND.with_overrides({"stale_price_seconds": "30"})
    steady = run_backtest(c, s)
    run = run_backtest(gapped, s)
    assert steady.counters.cancels == 0 and steady.counters.orders_placed == 2
    # inside the gap the watchdog cancels both working buys; when data returns they are placed again
    assert run.counters.cancels == 2 and run.counters.orders_placed == 4
    assert run.fills == []


def test_a_volume_spike_on_a_falling_candle_pulls_the_buys_until_it_clears() -> None:
    calm = ("100.00", "100.20", "99.90", "100.10")
    rows = [calm] * 25 + [("100.10", "100.20", "99.80", "99.90")] + [calm] * 3
    c = _candles(rows, volume=1000)
    vol = c.volume.copy()
    vol[25] = 10_000  # ten times the average, on a falling candle
    spiky = Candles(c.open_time_ms, c.open, c.high, c.low, c.close, vol, c.tick_size, c.step_size, "spike")
    s = HAND.with_overrides({"volume_spike_multiple": "5"})
    run = run_backtest(spiky, s)
    # candle 26 closes with the trigger on: both buys cancelled; candle 27 clears it: both placed again
    assert run.counters.cancels == 2 and run.counters.orders_placed == 4
    assert run.counters.risk_triggered_candles == 1
    assert run_backtest(c, s).counters.cancels == 0


def test_buys_need_free_quote() -> None:
    # 60 quote buys one 0.5 @ 99 (49.5 + fee) but not the second at 98 as well
    poor = HAND.with_overrides({"sim.balances.USDT": "60"})
    run = run_backtest(_candles(HAND_OHLC[:3]), poor)
    assert run.counters.balance_rejects >= 1
    assert [(f.side, f.price) for f in run.fills] == [(Side.BUY, 9900)]
    assert run.final_cash >= 0
