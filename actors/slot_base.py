"""The slot manager's state and persistence: what every part of the SlotManagerActor shares.

Changes are committed through the store *before* the side effect they cause and published after
(the book adopted, events logged, the strategy and the risk actor told). The parts (slot_orders.py,
slot_replies.py, slot_reconcile.py) and the actor itself (slot_manager.py) build on this class.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from actors import wiring as w
from actors.dispatch import DispatchedActor
from actors.messages import (
    CancelOrder,
    DecisionsTaken,
    QueryOrder,
    RoundTripDone,
    SlotsChanged,
    Submit,
)
from actors.observer import Observer
from actors.timers import Timers
from actors.wiring import Wiring
from market_maker.core.model import Market, SlotState
from market_maker.core.params import TradingParams
from market_maker.core.risk import RiskState
from market_maker.core.slot_events import (
    Filled,
    Ignored,
    OrderClosed,
    OrderRejected,
    RoundTripClosed,
    SlotEvent,
)
from market_maker.core.slots import Slot, SlotBook
from market_maker.ops.heartbeat import Totals, heartbeat_line, log_heartbeat, log_order, plain
from market_maker.ops.logs import order_event

if TYPE_CHECKING:
    from market_maker.store import Store


log = logging.getLogger("market_maker.slots")

QUERY_MARGIN_MS = 5_000  # trades are fetched from a little before the order was sent
DRIFT_CONTROL_KEY = "position_offset"
# Called after handing an order to a lane: gives up the GIL so the woken lane sends at once. A
# sched_yield costs well under a microsecond and hands the GIL over in ~6 us; time.sleep(20e-6) took
# ~90 us on this box (timer slack) and delayed the decision's second order by that much.
hand_off = os.sched_yield
# A snapshot's position is read before its reply is applied; own fills booked from the stream meanwhile
# are in the book but not in that position. Drift seen within this long of the last own fill is logged
# but not counted towards the breaker (the next quiet snapshot decides).
DRIFT_FILL_MARGIN_MS = 2_000


def now_ms() -> int:
    """Local wall clock in ms."""
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class SlotSettings:
    """The slot manager's settings besides the core parameters (defaults: the configuration's)."""

    market: Market
    heartbeat_s: float
    equity_s: float = 5.0
    # base asset: how far the exchange's position may drift from ours (risk.max_position_drift); a
    # reconciliation rule of the shell, compared with the exchange's decimal position, so not a core unit
    max_position_drift: Decimal = Decimal("0.001")


class SlotManagerBase(DispatchedActor):
    """The slot book, its settings and the one way to change it: commit, then publish."""

    def __init__(
        self,
        wiring: Wiring,
        store: Store,
        params: TradingParams,
        settings: SlotSettings,
        book: SlotBook,
        interval: int,
        observer: Observer | None = None,
    ) -> None:
        super().__init__()
        self.observer = observer or Observer()
        self.wiring = wiring
        self.store = store
        self.params = params
        self.rules = params.rules
        self.settings = settings
        self.book = book
        self.interval = interval
        self.price = 0
        self.center = 0
        self.risk: RiskState | None = None  # the risk actor's last word (for status)
        self.halted = False  # from the risk actor: no new orders at all
        self.buys_blocked = False  # from the risk actor: no new buys
        self.trip_seq = 0  # round trips told to the risk actor
        self.trip_acked = 0  # ... and acknowledged by it (no new order while one is unanswered)
        self.dropped = False  # a decision was dropped while waiting for that answer
        self.trading = True
        self.reconciled = False
        self.snapshot_done = False
        self.queries: set[str] = set()
        self.gone: set[str] = set()  # orders whose cancel found none open, until their query answers
        # order rows that ended while the bot was down, queried only to bring the row up to date
        self.row_queries: set[str] = set()
        self.sent_ms: dict[str, int] = {}
        self.cancels_sent: set[str] = set()  # client ids this bot asked to cancel (their end logs at DEBUG)
        self.totals = Totals()
        self.offset: Decimal | None = None
        self.account: tuple[Decimal, Decimal, Decimal] | None = None  # cash, position, entry (last snapshot)
        self.drift_strikes = 0
        self.last_fill_ms = 0  # exchange time of the newest own fill booked (0: none since start)
        self.timers: Timers | None = None
        self.holding = False  # carrying out a Decisions: SlotsChanged waits until its orders are out
        self.held: SlotBook | None = None  # ... the book to publish then
        self.notes: list[Callable[[], None]] = []  # ... and its orders' log lines (see _after_orders)
        # What the strategy was sent (see _missed): the last book that reached its mailbox, and the book
        # when the last DecisionsTaken reached it (told after every change before it)
        self.told: SlotBook | None = None
        self.taken: SlotBook | None = None
        self.batch: ExitStack | None = None  # the open transaction of a bookkeeping batch
        self.deferred: list[tuple[str, Any]] = []  # what to tell once the batch commits

    # --- persistence -----------------------------------------------------------------------------------

    def _commit(
        self,
        book: SlotBook,
        events: Iterable[SlotEvent] = (),
        writes: Iterable[Callable[[], Any]] = (),
        then: Callable[[], None] | None = None,
    ) -> None:
        """Persist ``book``, extra ``writes`` and round trips in one transaction; then run ``then`` (a log
        line: the log writer, woken by it, takes the GIL at our next SQLite call, so not before these)
        and adopt ``book``."""
        events = tuple(events)
        writes = tuple(writes)
        # the book alone: save_book_diff makes its own transaction, or none for a single row
        with self._tx() if writes or events else nullcontext():
            for write in writes:
                write()
            self._persist(book, events)
        if then is not None:
            then()
        self._publish(book, events)

    # --- bookkeeping batches -------------------------------------------------------------------------

    def _tx(self) -> AbstractContextManager[Any]:
        """A transaction of its own, or nothing inside an open batch (the batch's commit covers it)."""
        return nullcontext() if self.batch is not None else self.store.atomic()

    def _tell_stored(self, name: str, message: Any) -> None:
        """Tell about a change once it is stored: now, or when the open batch commits."""
        if self.batch is not None:
            self.deferred.append((name, message))
        else:
            self.wiring.tell(name, message)

    def begin_batch(self) -> None:
        """Open one transaction for the bookkeeping messages queued together (acks, stream events)."""
        self.batch = ExitStack()
        self.batch.enter_context(self.store.atomic())

    def end_batch(self, failed: BaseException | None = None) -> None:
        """Commit the open batch, then tell what it changed; on ``failed``, roll it back (the actor then
        fails and its restart reloads the book from the store) and tell nothing."""
        batch, self.batch = self.batch, None
        if batch is None:
            return
        deferred, self.deferred = self.deferred, []
        if failed is not None:
            batch.__exit__(type(failed), failed, failed.__traceback__)
            return
        batch.close()
        for name, message in deferred:
            self.wiring.tell(name, message)
        if self.held is not None and not self.holding:
            self._tell_book(self.held)
            self.held = None

    def _persist(self, book: SlotBook, events: tuple[SlotEvent, ...]) -> None:
        """Write the slots that changed since ``self.book``, the book's counters and closed round trips."""
        if book is not self.book:
            self.store.save_book_diff(self.book, book)  # self.book is what the store holds
        for e in events:
            if isinstance(e, RoundTripClosed):
                self.store.record_round_trip(e)

    def _publish(self, book: SlotBook, events: tuple[SlotEvent, ...]) -> None:
        """After the write: adopt ``book``, log the events and tell who needs to know."""
        changed = book is not self.book
        self.book = book
        for e in events:
            self._report(e)
        if changed and (self.holding or self.batch is not None):
            self.held = book  # one SlotsChanged when the decision's orders are out or the batch committed
        elif changed:
            self._tell_book(book)

    def _tell_book(self, book: SlotBook) -> None:
        """Tell the strategy ``book`` (every SlotsChanged goes out here), remembering it once delivered."""
        if self.wiring.tell(w.STRATEGY, SlotsChanged(book)):
            self.told = book

    def _tell_taken(self) -> None:
        """Tell the strategy its Decisions was taken, remembering the book it had by then once delivered."""
        if self.wiring.tell(w.STRATEGY, DecisionsTaken()):
            self.taken = self.book

    def _report(self, e: SlotEvent) -> None:
        r = self.rules
        if isinstance(e, Filled):
            self.cancels_sent.discard(e.client_id)
            self.observer.fill(e.side.value, r.ticks_to_price(e.price), r.steps_to_qty(e.qty), e.trade_id)
            log_order(
                log,
                "filled",
                e.side,
                e.qty,
                e.price,
                e.client_id,
                r,
                f" trade {e.trade_id}",
                trade_id=e.trade_id,
            )
        elif isinstance(e, RoundTripClosed):
            self.observer.round_trip()
            self.totals = self.totals.add(e.realized, e.fees)
            log.info(
                "round trip closed at level %s: qty %s proceeds %s cost %s fees %s realized %s "
                "(total %s, %d trips)",
                r.ticks_to_price(e.level),
                r.steps_to_qty(e.qty),
                plain(e.proceeds),
                plain(e.buy_cost),
                plain(e.fees),
                plain(e.realized),
                plain(self.totals.realized),
                self.totals.round_trips,
            )
            self.trip_seq += 1
            self._tell_stored(w.RISK, RoundTripDone(e, self.trip_seq))
        elif isinstance(e, OrderRejected):
            self.observer.order_rejected(e.reason)
            retry_ms = e.backoff_until_ms - now_ms()
            text = f"rejected {e.side.value} {e.client_id}: {e.reason} (retry after {retry_ms} ms)"
            order_event(log, "rejected", client_id=e.client_id, side=e.side.value, text=text, reason=e.reason)
        elif isinstance(e, OrderClosed):
            ours = e.client_id in self.cancels_sent
            self.cancels_sent.discard(e.client_id)
            filled = r.steps_to_qty(e.filled)
            text = f"closed {e.side.value} {e.client_id}: {e.reason} after {filled} filled"
            order_event(
                log,
                "closed",
                # the end of a cancel we asked for is a detail: its "cancelling" line said it
                level=logging.DEBUG if ours else logging.INFO,
                client_id=e.client_id,
                side=e.side.value,
                text=text,
                reason=e.reason,
                filled=filled,
            )
        elif isinstance(e, Ignored):
            log.debug("ignored %s: %s", e.client_id, e.reason)
        else:
            log.warning("%s", e)

    # --- shared helpers ------------------------------------------------------------------------------

    def _cancellable(self, client_id: str, book: SlotBook | None = None) -> Slot | None:
        """The slot of ``client_id`` in ``book`` (ours by default) when its order may be asked to cancel:
        LOCKED, no cancel sent yet; else None."""
        s = (self.book if book is None else book).find(client_id)
        return s if s is not None and s.state is SlotState.LOCKED and not s.cancel_requested else None

    def _working_count(self) -> int:
        return len(self.book.ix.working)

    def _send(self, request: Submit | CancelOrder) -> None:
        """To the exchange actor's order desk (straight to a lane), or its mailbox when it has none."""
        if not self.wiring.tell(w.ORDERS, request):  # the desk hands off to the lane itself (or writes)
            self.wiring.tell(w.EXCHANGE, request)
            # Let the exchange actor take the GIL now: it was woken, but would otherwise wait until this
            # thread blocks (the next commit) or the 5 ms switch interval passes before sending.
            hand_off()

    def _after_orders(self, note: Callable[[], None]) -> None:
        """Run ``note`` (a log line, an observer call) now, or, while a Decisions is carried out, once all
        its orders are handed on: formatting a line (here and on the log writer, which takes the GIL at
        the next commit) would otherwise hold the decision's next order back."""
        if self.holding:
            self.notes.append(note)
        else:
            note()

    def _apply(
        self,
        result: tuple[SlotBook, tuple[SlotEvent, ...]],
        writes: Iterable[Callable[[], Any]] = (),
        then: Callable[[], None] | None = None,
    ) -> None:
        self._commit(result[0], result[1], writes, then)

    def _query(self, client_id: str) -> None:
        sent = self.sent_ms.get(client_id)
        self.queries.add(client_id)
        self.wiring.tell(w.EXCHANGE, QueryOrder(client_id, sent - QUERY_MARGIN_MS if sent else None))

    def _maybe_reconciled(self) -> None:
        """Trading starts once one snapshot is applied and every query it raised is answered."""
        if not self.reconciled and self.snapshot_done and not self.queries:
            self.reconciled = True
            log.info("reconciled with the exchange: %s", self._heartbeat())
            self._tell_book(self.book)

    def _heartbeat(self) -> str:
        return heartbeat_line(self.book, self.rules, self.price, self.center, self.interval, self.totals)

    def _log_heartbeat(self) -> None:
        log_heartbeat(log, self.book, self.rules, self.price, self.center, self.interval, self.totals)
