"""A strategy that missed the slot manager's book is sent it again, so the grid never freezes on it.

The strategy decides on the book it was last told. On an older one, where a take-profit that has filled
since still works below every buy level, it skips every buy and asks only to cancel that sell, which no
longer works: the slot manager refuses, its book does not change, no SlotsChanged comes, and no order
goes out for as long as the bot runs (seen after a restart: the strategy started on the book as stored,
and every book told during reconciliation went to no one). Decisions name the book they were decided
on; the slot manager sends its own again when the strategy cannot have it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from actor_waits import slot_status, wait_for

from actors import wiring as w
from actors.dispatch import Dispatcher
from actors.latest import LatestBox
from actors.messages import ExchangeSnapshot, RiskUpdate, SlotsChanged
from actors.price_monitor import PriceFeed
from actors.slot_manager import SlotManagerActor, SlotSettings
from actors.strategy import StrategyActor
from actors.wiring import Wiring
from market_maker.core import fills as corefills
from market_maker.core import slots as coreslots
from market_maker.core.actions import Place
from market_maker.core.grid import GridParams
from market_maker.core.model import Fill, Market, Side
from market_maker.core.params import TradingParams
from market_maker.core.risk import RiskParams, on_market_data, start_risk
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook
from market_maker.store import open_store

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))
INTERVAL = 1000  # ticks: 10.00
PRICE = 10_000_000  # 100000.00: buy levels 99950.00 .. 99990.00, all above the take-profit
BUYS = [PRICE - k * INTERVAL for k in range(5, 0, -1)]
PARAMS = TradingParams(RULES, GridParams(5, 5, 100, 10_000), RiskParams(), INTERVAL)
RISK = on_market_data(start_risk(PARAMS.risk), 0)


def _fill(trade_id: int, client_id: str, side: Side, price: int) -> Fill:
    return Fill(trade_id, client_id, side, price, 100, 100, Decimal("0.09"), "USDT", 0)


def _books() -> tuple[SlotBook, SlotBook, Fill]:
    """A take-profit at 90000.00 working (its buy filled at 89990.00), the book after it filled, the fill."""
    level = 8_999_000
    book, buy = coreslots.submit_acked(SlotBook("t1"), Place(level, Side.BUY, level, 100))
    book, _ = corefills.apply_fill(book, _fill(1, buy, Side.BUY, level), RULES, INTERVAL)
    stale, sell = coreslots.submit_acked(book, Place(level, Side.SELL, 9_000_000, 100))
    fill = _fill(2, sell, Side.SELL, 9_000_000)
    current, _ = corefills.apply_fill(stale, fill, RULES, INTERVAL)
    assert not current.ix.working and not current.ix.filled
    return stale, current, fill


class Losing:
    """The strategy's reference, losing the SlotsChanged told through it while ``losing`` is set."""

    def __init__(self, ref: Any) -> None:
        self.ref = ref
        self.losing = True

    def tell(self, message: Any) -> None:
        if not (self.losing and isinstance(message, SlotsChanged)):
            self.ref.tell(message)


@dataclass
class Pair:
    wiring: Wiring
    slots: Any
    decisions: Dispatcher
    box: LatestBox[tuple[int, int]]

    def start_strategy(self, book: SlotBook) -> Any:
        return StrategyActor.start_on(self.decisions, self.wiring, self.box, PARAMS, book, RISK, INTERVAL)

    def price(self, price: int) -> None:
        """A price tick, and its decision carried out by the slot manager."""
        PriceFeed(self.wiring, self.box, "1m").on_price(price, 0)
        wait_for(f"a decision on price {price}", lambda: slot_status(self.slots).price == price)


@contextmanager
def pair(tmp_path: Path, book: SlotBook, strategy: Any = None) -> Iterator[Pair]:
    """A slot manager on ``book`` and, on its thread, the strategy given (wired later when None)."""
    wiring = Wiring()
    store = open_store(str(tmp_path / "db.sqlite"), "t1", "BTCUSDT")
    decisions = Dispatcher("decisions")
    slots = SlotManagerActor.start_on(
        decisions, wiring, store, PARAMS, SlotSettings(Market.SPOT, 3600, 3600), book, INTERVAL
    )
    wiring.set(w.SLOTS, slots)
    try:
        yield Pair(wiring, slots, decisions, LatestBox())
    finally:
        ref = wiring.get(w.STRATEGY)
        if ref is not None:
            getattr(ref, "ref", ref).stop()
        slots.stop()
        store.close()


def _grid_trades(p: Pair) -> None:
    wait_for("the grid's buys to go out", lambda: slot_status(p.slots).open_orders == len(BUYS), seconds=20)
    assert sorted(s.order_price for s in slot_status(p.slots).book if s.working) == BUYS


def test_a_strategy_wired_after_the_book_changed_gets_the_current_one_and_orders_go_out(
    tmp_path: Path,
) -> None:
    stale, current, _ = _books()
    with pair(tmp_path, current) as p:
        p.slots.tell(RiskUpdate(RISK, INTERVAL, 0))
        p.slots.tell(ExchangeSnapshot((), (), Decimal(0), 0, cash=Decimal(1_000_000)))
        wait_for("reconciliation", lambda: slot_status(p.slots).reconciled)
        # wired only now, on the older book: every book the slot manager told went to no one
        p.wiring.set(w.STRATEGY, p.start_strategy(stale))
        PriceFeed(p.wiring, p.box, "1m").on_price(PRICE, 0)
        _grid_trades(p)


def test_a_strategy_that_lost_a_book_on_the_way_gets_it_again_and_orders_go_out(tmp_path: Path) -> None:
    stale, _, fill = _books()
    with pair(tmp_path, stale) as p:
        losing = Losing(p.start_strategy(stale))
        p.wiring.set(w.STRATEGY, losing)
        p.slots.tell(RiskUpdate(RISK, INTERVAL, 1))  # the risk actor has seen the round trip to come
        # the take-profit filled: the book changes, and what tells the strategy so is lost
        p.slots.tell(ExchangeSnapshot((), (fill,), Decimal(0), 0, cash=Decimal(1_000_000)))
        wait_for("reconciliation", lambda: slot_status(p.slots).round_trips == 1)
        losing.losing = False
        p.price(PRICE)  # decided on the old book: the current one may still be on its way
        p.price(PRICE + 1)  # decided on the old book after the slot manager's answer: it was lost
        _grid_trades(p)
