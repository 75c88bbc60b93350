"""The grid follows the market on the simulator: trailing, the dynamic interval, inventory skew."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path

from invariants import SYMBOL, bot_run


def _open(run, side: str) -> list[Decimal]:  # type: ignore[no-untyped-def]
    return sorted(Decimal(o["price"]) for o in run.own_open() if o["side"] == side)


def test_trailing_cancels_buys_left_behind_and_places_new_ones_as_the_price_rises(
    tmp_path: Path, engine: dict[str, str]
) -> None:
    with bot_run(tmp_path, engine=engine) as run:
        run.price("100000")
        first = _open(run, "BUY")
        assert first == [Decimal("99970"), Decimal("99980"), Decimal("99990")]
        run.price("100100")
        # the window moved ten levels up: every old buy was cancelled (not filled), three new ones work
        assert _open(run, "BUY") == [Decimal("100070"), Decimal("100080"), Decimal("100090")]
        assert run.venue_trades() == []
        run.price("100125")  # center 100130: window 100100..100120; 100090 is kept (one level of slack)
        buys = [Decimal("100090"), Decimal("100100"), Decimal("100110"), Decimal("100120")]
        assert _open(run, "BUY") == buys
        assert run.venue_trades() == []
        cancelled = [o for o in run.store_orders() if o.status == "CANCELED"]
        assert len(cancelled) == 5  # each cancel recorded, none left working


def test_dynamic_interval_widens_in_a_volatile_regime(tmp_path: Path, engine: dict[str, str]) -> None:
    with bot_run(
        tmp_path,
        engine=engine,
        trading={"dynamic_interval": True},
        risk={"atr_period": 2, "baseline_atr": 1000, "min_interval": 10, "max_interval": 100},
    ) as run:
        st = run.price("100000")
        assert st.interval == run.rules.price_to_ticks("10")  # calm history: the minimum
        for _ in range(3):  # three one-minute candles that swing 6000 USDT each
            run.control.set_price(SYMBOL, "103000")
            run.control.set_price(SYMBOL, "97000")
            run.control.set_price(SYMBOL, "100000")
            run.control.step(600)  # 60 s of market time: the candle closes
        run.wait_for(lambda s: s.interval >= 2 * run.rules.price_to_ticks("10"), "interval to widen")
        st = run.price(run.control.price(SYMBOL))  # settled on the interval in force now
        assert st.interval <= run.rules.price_to_ticks("100")
        width = run.rules.ticks_to_price(st.interval)
        buys = _open(run, "BUY")
        assert buys and all(b % width == 0 for b in buys), f"buys {buys} not on the {width} lattice"
        assert all(b - a == width for a, b in itertools.pairwise(buys))


def test_inventory_skew_lowers_the_grid_while_holding(tmp_path: Path, engine: dict[str, str]) -> None:
    with bot_run(
        tmp_path,
        engine=engine,
        trading={"inventory_skew_factor": "0.0005"},
        risk={"max_inventory": "0.003"},
    ) as run:
        st = run.price("100000")
        assert st.center == run.rules.price_to_ticks("100000")
        st = run.price("99979.99")  # the buys at 99990 and 99980 fill: 198 steps held of 300
        assert st.book.held_total == 198
        st = run.price("99999.99")
        # P_skewed = 99999.99 * (1 - 0.0005 * 198/300) = 99966.99: center 99970, not 100000
        assert st.center == run.rules.price_to_ticks("99970")
        # the whole grid sits lower: buys at or below C - I, take-profits at or above C + I
        assert _open(run, "BUY") and max(_open(run, "BUY")) <= Decimal("99960")
        assert min(_open(run, "SELL")) >= Decimal("99980")
