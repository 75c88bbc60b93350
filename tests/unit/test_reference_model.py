"""The backtester and a plain reference grid, written from the docs, trade real candles alike.

Hypothesis picks a slice of real AVAXUSDT candles (a quiet stretch, a fast drop, fast spikes, and a
stretch with exchange outages: see tests/data/README.md) and the grid's settings: an interval of
0.1 %-2 % of the price on the tick, the windows, the order size, inventory skew and its target, the
inventory cap, the dynamic interval and its ATR inputs, fees, filters and a capital that is sometimes
too small for the whole buy window. The engine (with its quiet band and skipping) and
tests/unit/reference_grid.py (every waypoint, no shortcuts) must make the same fills (time, side,
price, quantity, fee, level and client id), the same realized PnL, fees and cash to the last unit,
the same number of orders, rejects and cancels, and show the same interval and position at every
close. The candle-driven risk rules and the circuit breaker are off (the reference does not model
them); the stale-data trigger is on and fires inside the outages; the open-order cap never binds and
the stale-order cleanup, as docs/backtesting.md says, finds nothing (both are checked by their counts).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal as D
from fractions import Fraction
from functools import cache
from pathlib import Path

import reference_grid as ref
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market_maker.backtest.candles import Candles
from market_maker.backtest.engine import run_backtest
from market_maker.backtest.loaders import load_klines
from market_maker.backtest.results import RunResult
from market_maker.backtest.settings import BacktestSettings

DATA = Path(__file__).resolve().parent.parent / "data"
SLICES = (
    "AVAXUSDT-1m-2026-06-01_03.csv",  # three ordinary days
    "AVAXUSDT-1m-2026-06-06_fast-drop.csv",  # the sharpest hours of June-July 2026: -11 % and back
    "AVAXUSDT-1m-2026-06-20_fast-spikes.csv",  # the sharpest hour, with 2-3 % one-minute candles
    "AVAXUSDT-1m-2026-07-08_outage-gaps.csv",  # 40 and 3 minutes of candles missing, mid-move
)
TICK, STEP = D("0.001"), D("1")  # AVAXUSDT on USD-M


@cache
def _candles(name: str) -> tuple[Candles, tuple[ref.Candle, ...]]:
    """The file as the engine loads it, and as the reference reads it (its own plain reader)."""
    return load_klines(DATA / name, TICK, STEP), tuple(ref.read_candles(DATA / name, TICK))


@dataclass(frozen=True)
class Case:
    """One hypothesis example: a slice of candles and the settings, for both models."""

    name: str
    start: int
    stop: int
    engine: dict[str, str]  # the engine's settings, as --set overrides of the default configuration
    reference: ref.Settings


@st.composite
def cases(draw: st.DrawFn) -> Case:
    name = draw(st.sampled_from(SLICES))
    _, rows = _candles(name)
    length = draw(st.integers(30, min(300, len(rows))))
    start = draw(st.integers(0, len(rows) - length))
    price = rows[start].open  # ticks
    interval = max(1, price * draw(st.integers(10, 200)) // 10_000)  # 0.1 %..2 % of the price
    qty = draw(st.integers(1, 20))  # steps (whole AVAX)
    max_inventory = qty * draw(st.integers(1, 12))
    target = draw(st.sampled_from([0, 0, max_inventory // 2]))
    skew = Fraction(draw(st.integers(0, 50)), 100) if draw(st.booleans()) else Fraction(0)
    buy_window, sell_window = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    maker = draw(st.sampled_from([D(0), D("0.0002"), D("0.001")]))
    taker = draw(st.sampled_from([D("0.0005"), D("0.001")]))
    # 12 USDT: one AVAX (6-9 USDT) never passes, two pass only above 6 USDT
    min_notional = draw(st.sampled_from([D(0), D(5), D(12)]))
    # sometimes too little quote for the whole buy window: buys are refused and back off
    order_value = TICK * STEP * price * qty
    capital = draw(st.sampled_from([D(100_000), order_value * 2, order_value * 5]))
    dynamic = draw(st.booleans())
    atr_period = draw(st.integers(2, 20))
    baseline_window = draw(st.integers(atr_period, 60))
    baseline_ticks = draw(st.none() | st.integers(1, 3 * interval))
    scale = Fraction(draw(st.sampled_from([50, 100, 150, 300])), 100)
    bounds = draw(st.booleans())
    lo = draw(st.integers(1, interval)) if bounds else None
    hi = draw(st.integers(interval, 6 * interval)) if bounds else None

    stale_price_seconds = draw(st.sampled_from([30, 600, 86_400]))  # the outages last 3 and 40 minutes
    overrides = {
        "price_interval": str(TICK * interval),
        "order_quantity": str(STEP * qty),
        "buy_window_size": str(buy_window),
        "sell_window_size": str(sell_window),
        "dynamic_interval": str(dynamic).lower(),
        "volatility_scale": str(D(scale.numerator) / D(scale.denominator)),
        "inventory_skew_factor": str(D(skew.numerator) / D(skew.denominator)),
        "atr_period": str(atr_period),
        "baseline_atr": "rolling" if baseline_ticks is None else str(TICK * baseline_ticks),
        "baseline_window": str(baseline_window),
        "target_inventory": str(STEP * target),
        "max_inventory": str(STEP * max_inventory),
        # the candle-driven risk rules and the circuit breaker off (0 turns them off); the stale-data
        # trigger stays on (it cannot be turned off) and fires inside the outages longer than it
        "atr_spike_multiple": "0",
        "volume_spike_multiple": "0",
        "max_consecutive_losses": "0",
        "max_drawdown_pct": "0",
        "stale_price_seconds": str(stale_price_seconds),
        # The open-order cap is not modelled: at most 8 buys and 12 take-profits work at once here,
        # far below 200. The stale-order cleanup is not modelled either: docs/backtesting.md says it
        # finds nothing in a backtest (it cancels only orders the trailing rule cancels too), which
        # the test checks with old orders counted stale after one minute.
        "max_open_orders": "200",
        "stale_order_age_seconds": str(draw(st.sampled_from([60, 3600]))),
        "cleanup.interval_seconds": str(draw(st.sampled_from([60, 300]))),
        "symbol": "AVAXUSDT",
        "base_asset": "AVAX",
        "quote_asset": "USDT",
        "tick_size": str(TICK),
        "step_size": str(STEP),
        "min_qty": str(STEP),
        "min_notional": str(min_notional),
        "sim.balances.USDT": str(capital),
        "maker_fee": str(maker),
        "taker_fee": str(taker),
        "bot.id": "bt",
    }
    if bounds:
        overrides.update(min_interval=str(TICK * lo), max_interval=str(TICK * hi))
    reference = ref.Settings(
        tick_size=TICK,
        step_size=STEP,
        interval=interval,
        order_qty=qty,
        buy_window=buy_window,
        sell_window=sell_window,
        max_inventory=max_inventory,
        target_inventory=target,
        skew=skew,
        min_qty=1,
        min_notional=min_notional,
        capital=capital,
        maker_fee=maker,
        taker_fee=taker,
        dynamic=dynamic,
        volatility_scale=scale,
        atr_period=atr_period,
        baseline_window=baseline_window,
        baseline_ticks=baseline_ticks,
        min_interval=lo,
        max_interval=hi,
        stale_price_ms=stale_price_seconds * 1000,
    )
    return Case(name, start, start + length, overrides, reference)


def _engine_fills(r: RunResult) -> list[tuple[object, ...]]:
    return [(f.time_ms, str(f.side), f.price, f.qty, f.fee, f.level, f.client_id) for f in r.fills]


def _reference_fills(out: ref.Outcome) -> list[tuple[object, ...]]:
    return [(f.time_ms, f.side, f.price, f.qty, f.fee, f.level, f.client_id) for f in out.fills]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_engine_and_reference_make_the_same_trades(case: Case) -> None:
    candles, rows = _candles(case.name)
    engine = BacktestSettings().with_overrides(case.engine)
    result = run_backtest(candles.slice(case.start, case.stop), engine)
    out = ref.ReferenceGrid(case.reference).run(list(rows[case.start : case.stop]))

    assert _engine_fills(result) == _reference_fills(out)
    assert result.realized_pnl == out.realized
    assert result.fees == out.fees
    assert result.final_cash == out.cash
    assert result.counters.cancels == len(out.cancels)
    assert result.counters.orders_placed == out.orders_placed
    assert result.counters.balance_rejects == out.balance_rejects
    assert result.counters.post_only_rejects == out.post_only_rejects
    assert (result.counters.cap_cancels, result.counters.stale_cancels) == (0, 0)
    assert result.interval.tolist() == out.interval_at_close
    assert result.position.tolist() == out.position_at_close
