"""The core's value types survive pickling in the build that is installed (compiled or not): the Durable
engine stores workflow outputs (an order's outcome with its OrderSnapshot) with pickle and reads them
back in the next process, after a restart."""

from __future__ import annotations

import pickle
from decimal import Decimal
from pathlib import Path

from market_maker.core.model import Fill, OrderSnapshot, OrderStatus, Side
from market_maker.durable.outcomes import PlaceOutcome


def test_an_order_outcome_with_its_snapshot_comes_back_from_pickle() -> None:
    snap = OrderSnapshot("mm1_B5x9gw_1", 42, Side.BUY, 9_998_000, 100, 0, OrderStatus.NEW, 1_780_000_000_000)
    outcome = PlaceOutcome(snap.client_id, "accepted", snap)
    assert pickle.loads(pickle.dumps(outcome)) == outcome


def test_a_fill_comes_back_from_pickle() -> None:
    fill = Fill(
        7, "mm1_B5x9gw_1", Side.SELL, 10_000, 3, 3, Decimal("0.0002"), "USDT", 1_780_000_000_000, True
    )
    assert pickle.loads(pickle.dumps(fill)) == fill


def test_a_snapshot_pickled_before_avg_price_existed_reads_back_without_one() -> None:
    snap = OrderSnapshot(
        "mm1_B5x9gw_1", 42, Side.BUY, 9_998_000, 100, 100, OrderStatus.FILLED, 1_780, Decimal(1)
    )
    # the state an older program wrote: the eight fields before avg_price
    old = pickle.loads(pickle.dumps(snap)).__getstate__()[:8]
    back = OrderSnapshot.__new__(OrderSnapshot)
    back.__setstate__(old)
    assert back == OrderSnapshot("mm1_B5x9gw_1", 42, Side.BUY, 9_998_000, 100, 100, OrderStatus.FILLED, 1_780)
    assert back.avg_price is None
    assert pickle.loads(pickle.dumps(snap)) == snap


def test_backtest_settings_come_back_from_pickle() -> None:
    # the optimizer ships them to Dask workers; in the compiled build the core's frozen value types
    # (SymbolRules, GridParams...) cannot be unpickled, so the settings travel as their configuration
    from market_maker.backtest.settings import BacktestSettings
    from market_maker.config import load_config

    root = Path(__file__).resolve().parents[2]
    settings = BacktestSettings(load_config(root / "config" / "optimize" / "avax-usdm.yaml"))
    back = pickle.loads(pickle.dumps(settings))
    assert back == settings and back.params == settings.params
