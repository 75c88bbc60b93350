"""A decision's cancels go out before anything is written; its placements only once their intents are stored.

When the price moves, the order to pull is the one about to be run over: its cancel must not wait for
the disk (a cancel needs no intent: if the bot dies before its flag is stored, reconciliation finds the
order open or cancelled, as after any lost answer). A placement is the opposite: its intent must be on
disk before its request leaves, or a fill of it could not be matched to the grid after a crash.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from actor_waits import start_reconciled, wait_for

from actors import wiring as w
from actors.dispatch import Dispatcher
from actors.messages import CancelOrder, Decisions, Submit
from actors.wiring import Wiring
from market_maker.core import slots as coreslots
from market_maker.core.actions import Cancel, Place
from market_maker.core.grid import GridParams
from market_maker.core.model import OrderSnapshot, OrderStatus, Side
from market_maker.core.params import TradingParams
from market_maker.core.risk import RiskParams, on_market_data, start_risk
from market_maker.core.rules import SymbolRules
from market_maker.core.slots import SlotBook
from market_maker.store import open_store

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))
INTERVAL = 1000  # ticks: 10.00
PRICE = 10_000_000  # 100000.00
PARAMS = TradingParams(RULES, GridParams(5, 5, 100, 10_000), RiskParams(), INTERVAL)
RISK = on_market_data(start_risk(PARAMS.risk), 0)
OLD_BUY = PRICE - 6 * INTERVAL  # fell out of the window below
NEW_BUY = PRICE - INTERVAL


class GatedStore:
    """The real store, whose book writes wait at a gate while it is closed (a slow disk)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.open = threading.Event()
        self.open.set()
        self.waiting = threading.Event()  # a book write is held at the gate
        self.log: list[str] = []
        self.threads: list[str] = []  # where each intent was written

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def record_intent(self, client_id: str, *args: Any, **kwargs: Any) -> Any:
        self.log.append(f"intent {client_id}")
        self.threads.append(threading.current_thread().name)
        return self.store.record_intent(client_id, *args, **kwargs)

    def save_book_diff(self, old: SlotBook, new: SlotBook) -> None:
        if not self.open.is_set():
            self.waiting.set()
            assert self.open.wait(30), "the test never opened the gate"
        self.store.save_book_diff(old, new)
        self.log.append("book stored")


class Desk:
    """The exchange actor's order desk: records the requests it is handed."""

    def __init__(self, store: GatedStore) -> None:
        self.store = store
        self.requests: list[Submit | CancelOrder] = []
        self.threads: list[str] = []  # where each request was handed on
        self.decisions: Dispatcher | None = None  # the slot manager's dispatcher

    def tell(self, message: Any) -> None:
        self.store.log.append(f"{type(message).__name__} {message.client_id}")
        self.requests.append(message)
        self.threads.append(threading.current_thread().name)


@contextmanager
def slot_manager(tmp_path: Path) -> Iterator[tuple[Any, GatedStore, Desk, str]]:
    """A reconciled slot manager whose book holds one working buy below the window; its client id."""
    book, old = coreslots.submit_acked(SlotBook("t1"), Place(OLD_BUY, Side.BUY, OLD_BUY, 100))
    store = GatedStore(open_store(str(tmp_path / "db.sqlite"), "t1", "BTCUSDT"))
    store.store.save_book_diff(SlotBook("t1"), book)
    desk = Desk(store)
    wiring = Wiring()
    wiring.set(w.ORDERS, desk)
    working = OrderSnapshot(old, 1, Side.BUY, OLD_BUY, 100, 0, OrderStatus.NEW)
    desk.decisions = Dispatcher("decisions")
    slots = start_reconciled(wiring, store, PARAMS, book, RISK, (working,), dispatcher=desk.decisions)
    try:
        store.log.clear()  # what reconciliation wrote
        yield slots, store, desk, old
    finally:
        store.open.set()
        slots.stop()
        store.store.close()


def _decide(old: str) -> Decisions:
    actions = (Cancel(OLD_BUY, old, "outside window"), Place(NEW_BUY, Side.BUY, NEW_BUY, 100))
    return Decisions(actions, PRICE, PRICE, INTERVAL, False, False, 0)


def test_a_cancel_goes_out_while_the_disk_is_still_busy(tmp_path: Path) -> None:
    with slot_manager(tmp_path) as (slots, store, desk, old):
        store.open.clear()  # the disk stalls
        slots.tell(_decide(old))
        wait_for("the book write to reach the stalled disk", store.waiting.is_set)
        wait_for("the cancel to reach the order desk", lambda: len(desk.requests) == 1, seconds=10)
        assert isinstance(desk.requests[0], CancelOrder) and desk.requests[0].client_id == old
        assert "book stored" not in store.log  # it did not wait for the disk


def test_a_placement_goes_out_only_after_its_intent_and_the_book_are_stored(tmp_path: Path) -> None:
    with slot_manager(tmp_path) as (slots, store, desk, old):
        store.open.clear()
        slots.tell(_decide(old))
        wait_for("the book write to reach the stalled disk", store.waiting.is_set)
        assert not any(isinstance(r, Submit) for r in desk.requests)  # held while the disk is busy
        store.open.set()
        wait_for("the placement", lambda: any(isinstance(r, Submit) for r in desk.requests))
        new = next(r.client_id for r in desk.requests if isinstance(r, Submit))
        intent, sent = store.log.index(f"intent {new}"), store.log.index(f"Submit {new}")
        assert intent < sent and "book stored" in store.log[intent:sent]
        # and the store has both: the cancel's flag and the new order's intent
        after = store.store.load_book()
        assert after is not None
        flagged, placed = after.find(old), after.find(new)
        assert flagged is not None and flagged.cancel_requested
        assert placed is not None and placed.order_price == NEW_BUY


def test_a_decision_begun_on_the_stream_thread_sends_its_cancel_there_and_writes_at_home(
    tmp_path: Path,
) -> None:
    """The market-data stream decides on a price itself (Dispatcher.run_here): the cancel leaves from its
    thread, while the intent write and the placement wait for the slot manager's own thread, whose
    store connection they use."""
    with slot_manager(tmp_path) as (slots, store, desk, old):
        me = threading.current_thread().name
        assert desk.decisions is not None
        desk.decisions.run_here(lambda: slots.tell(_decide(old)))
        assert [type(r) for r in desk.requests] == [CancelOrder] and desk.threads == [
            me
        ]  # before it returned
        wait_for("the placement", lambda: any(isinstance(r, Submit) for r in desk.requests))
        home_thread = desk.decisions.thread
        assert home_thread is not None and desk.threads[1] == home_thread.name != me
        assert store.threads == [home_thread.name]
        new = next(r.client_id for r in desk.requests if isinstance(r, Submit))
        assert store.log.index(f"intent {new}") < store.log.index(f"Submit {new}")
