"""Decisions coalesce: while the slot manager is busy the strategy keeps one Decisions in flight, so the
slot manager's mailbox stays small under a burst and it ends up acting on the newest price."""

from __future__ import annotations

import sqlite3
import threading
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from actor_waits import slot_status, wait_for

from actors import wiring as w
from actors.latest import LatestBox
from actors.messages import ExchangeSnapshot, RiskUpdate
from actors.price_monitor import PriceFeed
from actors.slot_manager import SlotManagerActor, SlotSettings
from actors.strategy import StrategyActor
from actors.wiring import Wiring
from market_maker.core.grid import GridParams
from market_maker.core.model import Market
from market_maker.core.params import TradingParams
from market_maker.core.risk import RiskParams, on_market_data, start_risk
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook
from market_maker.store import open_store

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))


def _price_is(strategy: Any, price: int) -> bool:
    return bool(strategy.proxy().price.get() == price)


def test_a_burst_while_the_slot_manager_is_stuck_queues_one_decision_then_the_newest(tmp_path: Path) -> None:
    wiring = Wiring()
    box: LatestBox[tuple[int, int]] = LatestBox()
    params = TradingParams(RULES, GridParams(5, 5, 100, 10_000), RiskParams(), 1000)
    risk = on_market_data(start_risk(params.risk), 0)
    path = tmp_path / "db.sqlite"
    store = open_store(str(path), "t1", "BTCUSDT", busy_timeout_s=120)
    book = SlotBook("t1")
    slots = SlotManagerActor.start(wiring, store, params, SlotSettings(Market.SPOT, 3600, 3600), book, 1000)
    strategy = StrategyActor.start(wiring, box, params, book, risk, 1000)
    wiring.set(w.SLOTS, slots)
    wiring.set(w.STRATEGY, strategy)
    feed = PriceFeed(wiring, box, "1m")
    blocker = sqlite3.connect(path, isolation_level=None, timeout=60)
    n = 500
    prices = [10_000_000 + 7 * i for i in range(1, n + 1)]
    inbox: list[int] = []
    try:
        slots.tell(RiskUpdate(risk, 1000, 0))
        slots.tell(ExchangeSnapshot((), (), Decimal(0), 0, cash=Decimal(1_000_000)))
        wait_for("reconciliation", lambda: slot_status(slots).reconciled)
        # Another writer holds the database: the slot manager's first order commit waits for it.
        blocker.execute("BEGIN IMMEDIATE")
        feed.on_price(prices[0], 0)
        wait_for("the first decision to reach the slot manager", lambda: strategy.proxy().decisions.get() > 0)

        def burst() -> None:
            for p in prices[1:]:  # each price seen by the strategy before the next: no tick coalescing here
                feed.on_price(p, 0)
                wait_for("the strategy to take a price", partial(_price_is, strategy, p))
                inbox.append(slots.actor_inbox.qsize())  # type: ignore[attr-defined]

        t = threading.Thread(target=burst)
        t.start()
        t.join()
        inbox.append(slots.actor_inbox.qsize())  # type: ignore[attr-defined]
        blocker.execute("ROLLBACK")
        wait_for("a decision on the newest price", lambda: slot_status(slots).price == prices[-1])
        status = slot_status(slots)
        assert max(inbox) <= 3, f"slot manager mailbox grew to {max(inbox)} during the burst"
        assert status.open_orders > 0  # it did carry decisions out once the database was free
    finally:
        blocker.close()
        strategy.stop()
        slots.stop()
        store.close()
