"""Bookkeeping queued together is stored in one transaction: a backlog of fills reported by the user
stream costs one commit, not one each, and the book stored afterwards is the book in memory."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from actor_waits import slot_status, wait_for

from actors import wiring as w
from actors.messages import ExchangeSnapshot, OrderEvent, RiskUpdate
from actors.slot_manager import SlotManagerActor, SlotSettings
from actors.wiring import Wiring
from market_maker.core.grid import GridParams
from market_maker.core.ids import encode
from market_maker.core.model import Fill, Market, OrderSnapshot, OrderStatus, Side, SlotState
from market_maker.core.params import TradingParams
from market_maker.core.risk import RiskParams, on_market_data, start_risk
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook
from market_maker.exchange.types import OrderUpdate
from market_maker.store import open_store

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))
BASE, IV, N = 10_000_000, 1000, 30


def test_a_backlog_of_fills_is_stored_in_one_transaction(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    store = open_store(str(path), "t1", "BTCUSDT", busy_timeout_s=120)
    transactions = 0
    atomic = store.atomic

    @contextmanager
    def counted() -> Iterator[None]:  # the real transaction, counted
        nonlocal transactions
        transactions += 1
        with atomic():
            yield

    store.atomic = counted  # type: ignore[method-assign]
    params = TradingParams(RULES, GridParams(5, 5, IV, 10_000), RiskParams(), IV)
    risk = on_market_data(start_risk(params.risk), 0)
    wiring = Wiring()
    slots = SlotManagerActor.start(
        wiring, store, params, SlotSettings(Market.SPOT, 3600, 3600), SlotBook("t1"), IV
    )
    wiring.set(w.SLOTS, slots)
    orders = [
        OrderSnapshot(
            encode("t1", BASE - i * IV, Side.BUY, i),
            100 + i,
            Side.BUY,
            BASE - i * IV,
            100,
            0,
            OrderStatus.NEW,
            1,
        )
        for i in range(1, N + 1)
    ]
    blocker = sqlite3.connect(path, isolation_level=None, timeout=60)
    try:
        slots.tell(RiskUpdate(risk, IV, 0))
        slots.tell(ExchangeSnapshot(tuple(orders), (), Decimal(0), 0, cash=Decimal(1_000_000)))
        wait_for("the open orders adopted", lambda: slot_status(slots).reconciled)
        assert sum(1 for s in slot_status(slots).book if s.state is SlotState.LOCKED) == N
        blocker.execute("BEGIN IMMEDIATE")  # the first fill's commit waits: the others queue behind it
        before = transactions
        for i, o in enumerate(orders, 1):
            done = OrderSnapshot(
                o.client_id, o.order_id, o.side, o.price, o.orig_qty, 100, OrderStatus.FILLED, 2
            )
            fill = Fill(
                1000 + i,
                o.client_id,
                Side.BUY,
                o.price,
                100,
                100,
                Decimal("0.0001"),
                "BTC",
                2,
                True,
                o.order_id,
            )
            slots.tell(OrderEvent(OrderUpdate("BTCUSDT", "TRADE", done, fill, 2)))
        time.sleep(0.5)
        blocker.execute("COMMIT")
        wait_for(
            "every fill applied",
            lambda: sum(1 for s in slot_status(slots).book if s.state is SlotState.FILLED) == N,
        )
        assert transactions - before <= 3  # 30 fills, each once its own transaction
        book = slot_status(slots).book
        assert store.load_book() == book
        assert len(store.fills()) == N
    finally:
        blocker.close()
        slots.stop()
