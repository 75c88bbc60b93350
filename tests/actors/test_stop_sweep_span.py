"""The stop's last read of the account's trades goes back to the last stored fill, but never more than
12 h: on Binance one request, where a bot idle for weeks would otherwise read a day per request."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

from actors.messages import FillsSwept, SweepFills
from actors.slot_reconcile import SWEEP_SPAN_MS, Reconciliation
from market_maker.core.model import Fill, Side
from market_maker.store import open_store

DAY_MS = 86_400_000


def _swept_since(tmp_path: Path, last_fill_ms: int | None) -> tuple[int | None, FillsSwept]:
    store = open_store(str(tmp_path / "db.sqlite"), "t1", "BTCUSDT")
    try:
        if last_fill_ms is not None:
            store.record_fill(
                Fill(
                    7,
                    "t1_B5x9gw_1",
                    Side.BUY,
                    9_999_000,
                    100,
                    100,
                    Decimal("0.01"),
                    "USDT",
                    last_fill_ms,
                    True,
                )
            )
        manager = Reconciliation.__new__(Reconciliation)  # only its store is read before the fetch
        manager.store = store
        asked: list[int | None] = []

        def fetch(since: int | None) -> tuple[int, list[Fill]]:
            asked.append(since)
            return 1_234, []

        swept = manager._on_sweep_fills(SweepFills(fetch))
        return asked[0], swept
    finally:
        store.close()


def test_a_recent_last_fill_is_read_back_from_a_minute_before_it(tmp_path: Path) -> None:
    last = int(time.time() * 1000) - 3_600_000
    since, swept = _swept_since(tmp_path, last)
    assert since == last - 60_000
    assert swept == FillsSwept(1_234, 0)


def test_a_bot_idle_for_weeks_reads_back_half_a_day_only(tmp_path: Path) -> None:
    before = int(time.time() * 1000)
    since, _ = _swept_since(tmp_path, before - 30 * DAY_MS)
    assert since is not None and before - SWEEP_SPAN_MS <= since <= int(time.time() * 1000) - SWEEP_SPAN_MS
    assert SWEEP_SPAN_MS <= DAY_MS // 2


def test_no_fill_yet_reads_the_exchanges_recent_trades(tmp_path: Path) -> None:
    since, _ = _swept_since(tmp_path, None)
    assert since is None
