"""Cancels the open-order cap must not make: of an order that filled meanwhile, or decided on an old book.

A cancel the exchange answers "unknown order" (-2011): the order filled or ended meanwhile.

Binance answers -2011 to the cancel of an order that is no longer open. Until the query by client id
says what became of it, the order is as good as a cancel in flight: it must not hold a place under
the open-order cap (counting it there made the cap cancel a buy the grid keeps, and the trailing rule
never places that buy back), and it is not cancelled again. Only an order the query still finds open
gets the failed cancel's back-off, after which it is cancelled again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from actor_waits import slot_status, start_reconciled, wait_for

from actors import wiring as w
from actors.messages import (
    CancelFailed,
    CancelOrder,
    Decisions,
    OrderQueried,
    QueryOrder,
    Submit,
)
from actors.slot_base import now_ms
from actors.wiring import Wiring
from market_maker.core import slots as coreslots
from market_maker.core.actions import Cancel, Place
from market_maker.core.fills import apply_fill
from market_maker.core.grid import GridParams
from market_maker.core.model import Fill, OrderSnapshot, OrderStatus, Side, SlotState
from market_maker.core.params import TradingParams
from market_maker.core.risk import RiskParams, on_market_data, start_risk
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook
from market_maker.core.strategy import calculate_actions
from market_maker.store import open_store

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))
INTERVAL = 1000  # ticks: 10.00
PRICE = 10_000_000  # 100000.00
CAP = 2
PARAMS = TradingParams(RULES, GridParams(3, 3, 100, 10_000, max_open_orders=CAP), RiskParams(), INTERVAL)
RISK = on_market_data(start_risk(PARAMS.risk), 0)
ABOVE = PRICE + INTERVAL  # a buy the price fell through: the trailing rule cancels it (it has filled)
KEPT = PRICE - INTERVAL  # a buy in the window
NEW = PRICE - 2 * INTERVAL  # the next buy of the window: room for it only once ABOVE is out


class Recorder:
    """An actor stand-in that records what it is told (the order desk, the exchange's query desk)."""

    def __init__(self) -> None:
        self.told: list[Any] = []

    def tell(self, message: Any) -> None:
        self.told.append(message)

    def of(self, kind: type) -> list[Any]:
        return [m for m in list(self.told) if isinstance(m, kind)]


def _two_buys() -> tuple[SlotBook, str, str]:
    book, above = coreslots.submit_acked(SlotBook("t1"), Place(ABOVE, Side.BUY, ABOVE, 100))
    book, kept = coreslots.submit_acked(book, Place(KEPT, Side.BUY, KEPT, 100))
    return book, above, kept


@contextmanager
def running(
    tmp_path: Path, book: SlotBook, open_now: tuple[OrderSnapshot, ...], position: Decimal = Decimal(0)
) -> Iterator[tuple[Any, Recorder, Recorder]]:
    """A slot manager on ``book``, reconciled with these open orders and position; order and query desks."""
    store = open_store(str(tmp_path / "db.sqlite"), "t1", "BTCUSDT")
    store.save_book_diff(SlotBook("t1"), book)
    orders, exchange = Recorder(), Recorder()
    wiring = Wiring()
    wiring.set(w.ORDERS, orders)
    wiring.set(w.EXCHANGE, exchange)
    slots = start_reconciled(wiring, store, PARAMS, book, RISK, open_now, position)
    try:
        yield slots, orders, exchange
    finally:
        slots.stop()
        store.close()


def _open(cid: str, level: int) -> OrderSnapshot:
    return OrderSnapshot(cid, level, Side.BUY, level, 100, 0, OrderStatus.NEW)


@contextmanager
def slot_manager(tmp_path: Path) -> Iterator[tuple[Any, Recorder, Recorder, str]]:
    """A reconciled slot manager with two working buys (the cap, 2, is full); ABOVE's client id."""
    book, above, kept = _two_buys()
    with running(tmp_path, book, (_open(above, ABOVE), _open(kept, KEPT))) as (slots, orders, exchange):
        yield slots, orders, exchange, above


def _slot(slots: Any, level: int) -> Any:
    return next(s for s in slot_status(slots).book if s.level == level)


def _cancel_answered_unknown(slots: Any, orders: Recorder, exchange: Recorder, above: str) -> None:
    slots.tell(Decisions((Cancel(ABOVE, above, "trailing"),), PRICE, PRICE, INTERVAL, False, False, 0))
    wait_for("the cancel", lambda: orders.of(CancelOrder))
    slots.tell(CancelFailed(above, "-2011 Unknown order sent.", not_found=True))
    wait_for("the query by client id", lambda: [q for q in exchange.of(QueryOrder) if q.client_id == above])


def test_an_order_whose_cancel_found_nothing_leaves_room_under_the_cap(tmp_path: Path) -> None:
    with slot_manager(tmp_path) as (slots, orders, exchange, above):
        _cancel_answered_unknown(slots, orders, exchange, above)
        # the next buy of the window goes out while the query is still unanswered
        slots.tell(Decisions((Place(NEW, Side.BUY, NEW, 100),), PRICE, PRICE, INTERVAL, False, False, 0))
        wait_for("the buy the cap has room for", lambda: orders.of(Submit), seconds=10)
        assert [m.price for m in orders.of(Submit)] == [NEW]
        s = _slot(slots, ABOVE)
        assert s.cancel_requested and s.cancel_retry_ms == 0  # out, not in a failed cancel's back-off
        # the query says it filled: its take-profit's slot, not a second cancel
        filled = OrderSnapshot(above, 1, Side.BUY, ABOVE, 100, 100, OrderStatus.FILLED)
        slots.tell(OrderQueried(above, filled))
        wait_for("the fill to be known", lambda: _slot(slots, ABOVE).state is SlotState.FILLED)
        assert len(orders.of(CancelOrder)) == 1


def test_an_order_the_query_finds_still_open_is_cancelled_again_after_the_back_off(tmp_path: Path) -> None:
    with slot_manager(tmp_path) as (slots, orders, exchange, above):
        _cancel_answered_unknown(slots, orders, exchange, above)
        still_open = OrderSnapshot(above, 1, Side.BUY, ABOVE, 100, 0, OrderStatus.NEW)
        slots.tell(OrderQueried(above, still_open))
        wait_for("the failed cancel's back-off", lambda: _slot(slots, ABOVE).cancel_retry_ms > 0)
        s = _slot(slots, ABOVE)
        assert s.state is SlotState.LOCKED and not s.cancel_requested  # it may be cancelled again
        wait_for("the back-off to end", lambda: now_ms() > s.cancel_retry_ms, seconds=30)
        slots.tell(Decisions((Cancel(ABOVE, above, "trailing"),), PRICE, PRICE, INTERVAL, False, False, 0))
        wait_for("the second cancel", lambda: len(orders.of(CancelOrder)) == 2)


def test_a_cap_cancel_decided_on_a_book_that_has_changed_since_is_not_carried_out(tmp_path: Path) -> None:
    """The strategy decided while two more buys still counted against the cap (their cancels refused,
    their fills on the way): the cap then cancels KEPT. By the time the slot manager takes the decision
    both have filled, so KEPT has its room: the core, asked again on the book as it is, keeps it."""
    base, above, kept = _two_buys()
    higher = (PRICE + 2 * INTERVAL, PRICE + 3 * INTERVAL)
    stale = current = base
    for level in higher:
        stale, cid = coreslots.submit_acked(stale, Place(level, Side.BUY, level, 100))
        stale = coreslots.cancel_failed(coreslots.request_cancel(stale, cid), cid, now_ms())
        current, same = coreslots.submit_acked(current, Place(level, Side.BUY, level, 100))
        assert same == cid
        fill = Fill(level, cid, Side.BUY, level, 100, 100, Decimal(0), "USDT", now_ms())
        current, _ = apply_fill(current, fill, RULES, INTERVAL)
    decided = calculate_actions(PRICE, INTERVAL, stale, RISK, PARAMS.grid, RULES, now_ms())
    assert Cancel(KEPT, kept, f"open-order cap {CAP}") in decided  # what the strategy asked for then
    snapshot = (_open(above, ABOVE), _open(kept, KEPT))
    with running(tmp_path, current, snapshot, position=Decimal("0.002")) as (slots, orders, _):
        slots.tell(Decisions(decided, PRICE, PRICE, INTERVAL, False, False, now_ms(), book=stale))
        # the trailing cancel of ABOVE, which the core still asks for, goes out; KEPT's does not
        wait_for("the cancel still wanted", lambda: orders.of(CancelOrder))
        assert [m.client_id for m in orders.of(CancelOrder)] == [above]
        assert _slot(slots, KEPT).state is SlotState.LOCKED and not _slot(slots, KEPT).cancel_requested
