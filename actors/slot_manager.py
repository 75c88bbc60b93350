"""SlotManagerActor: the only owner and writer of the slot book and of the trading rows.

Every change goes through the core's pure transitions, is persisted through the store *before* the
side effect it causes (the intent row before a Submit goes out), and only then does the actor tell the
exchange actor. Exchange replies, user-stream events, query answers and reconciliation snapshots all
come back here as messages, so slot ownership is serialized in this one thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

import pykka

from actors import wiring as w
from actors.messages import (
    Accepted,
    ApplyCancels,
    CancelFailed,
    Cancelled,
    CancelOrder,
    CleanupDue,
    Decisions,
    DecisionsTaken,
    EquityUpdate,
    ExchangeSnapshot,
    FetchSnapshot,
    OrderEvent,
    OrderQueried,
    QueryOrder,
    ReconcileDue,
    Rejected,
    Republish,
    RiskRestarted,
    RiskUpdate,
    RoundTripDone,
    SlotsChanged,
    SnapshotFailed,
    Status,
    StatusQuery,
    StopTrading,
    Submit,
    TimerTick,
    TripBreaker,
    Unknown,
)
from actors.observer import Observer
from actors.stages import stamp
from actors.timers import Timers
from actors.wiring import Wiring
from market_maker.core import fills as corefills
from market_maker.core import slots as coreslots
from market_maker.core.actions import Cancel, Place
from market_maker.core.grid import grid_window, window_for_center
from market_maker.core.ids import decode
from market_maker.core.model import Fill, Market, Side, SlotState
from market_maker.core.risk import RiskState
from market_maker.core.slot_events import (
    Filled,
    Ignored,
    OrderClosed,
    OrderRejected,
    RoundTripClosed,
    SlotEvent,
)
from market_maker.core.slots import SlotBook
from market_maker.core.strategy import actions_for_window
from market_maker.ops.logs import order_event
from market_maker.runtime.cleanup_rules import cleanup_cancels
from market_maker.runtime.heartbeat import Totals, heartbeat_line, log_heartbeat, log_order, open_fees
from market_maker.runtime.params import BotParams
from market_maker.store.records import NOT_FOUND, UNKNOWN

if TYPE_CHECKING:
    from market_maker.store import Store

log = logging.getLogger("market_maker.slots")

QUERY_MARGIN_MS = 5_000  # trades are fetched from a little before the order was sent
DRIFT_CONTROL_KEY = "position_offset"
HAND_OFF_S = 20e-6  # yield after handing an order to a lane (see _send)


def now_ms() -> int:
    """Local wall clock in ms."""
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class SlotSettings:
    """The slot manager's settings besides the core parameters."""

    market: Market
    heartbeat_s: float
    equity_s: float = 5.0
    max_open_orders: int = 50


class SlotManagerActor(pykka.ThreadingActor):
    """Owns the slots; applies decisions and exchange reports; persists before every side effect."""

    def __init__(
        self,
        wiring: Wiring,
        store: Store,
        params: BotParams,
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
        self.sent_ms: dict[str, int] = {}
        self.totals = Totals()
        self.offset: Decimal | None = None
        self.account: tuple[Decimal, Decimal, Decimal] | None = None  # cash, position, entry (last snapshot)
        self.drift_strikes = 0
        self.timers: Timers | None = None
        self.holding = False  # carrying out a Decisions: SlotsChanged waits until its orders are out
        self.held: SlotBook | None = None  # ... the book to publish then

    # --- life cycle ------------------------------------------------------------------------------------

    def on_start(self) -> None:
        started = now_ms()
        for rt in self.store.round_trips():
            self.totals = self.totals.add(rt.realized, rt.fees)
        created = {o.client_id: o.created_ms for o in self.store.orders(open_only=True)}
        for s in self.book:
            if s.working:
                self.sent_ms[s.client_id] = created.get(s.client_id, started)
        raw = self.store.get_control(DRIFT_CONTROL_KEY)
        self.offset = Decimal(raw) if raw else None
        self.timers = Timers(self.actor_ref)
        self.timers.start("heartbeat", self.settings.heartbeat_s)
        self.timers.start("equity", self.settings.equity_s)
        self.wiring.tell(w.STRATEGY, SlotsChanged(self.book))
        self.wiring.tell(w.STRATEGY, DecisionsTaken())  # any Decisions sent to a dead predecessor is lost

    def on_stop(self) -> None:
        if self.timers:
            self.timers.cancel()
        self.store.save_book(self.book)  # flush everything once more on the way out
        self.store.close()  # this thread's connection
        self._log_heartbeat()

    def on_failure(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self.timers:
            self.timers.cancel()
        self.store.close()

    # --- dispatch --------------------------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        handler = self._handlers().get(type(message))
        if handler is None:
            log.warning("slot manager: unexpected message %r", message)
            return None
        return handler(message)

    def _handlers(self) -> dict[type, Callable[[Any], Any]]:
        return {
            Decisions: self._on_decisions,
            Accepted: self._on_accepted,
            Rejected: self._on_rejected,
            Unknown: self._on_unknown,
            Cancelled: self._on_cancelled,
            CancelFailed: self._on_cancel_failed,
            OrderEvent: self._on_order_event,
            OrderQueried: self._on_queried,
            ReconcileDue: self._on_reconcile_due,
            ExchangeSnapshot: self._on_snapshot,
            SnapshotFailed: self._on_snapshot_failed,
            CleanupDue: self._on_cleanup,
            TimerTick: self._on_timer,
            StopTrading: self._on_stop_trading,
            ApplyCancels: self._on_apply_cancels,
            StatusQuery: self._on_status,
            Republish: lambda m: self.wiring.tell(w.STRATEGY, SlotsChanged(self.book)),
            RiskUpdate: self._on_risk,
            RiskRestarted: self._on_risk_restarted,
        }

    # --- persistence -----------------------------------------------------------------------------------

    def _commit(
        self, book: SlotBook, events: Iterable[SlotEvent] = (), writes: Iterable[Callable[[], Any]] = ()
    ) -> None:
        """Persist ``book``, extra ``writes`` and round trips in one transaction; then adopt ``book``."""
        events = tuple(events)
        with self.store.atomic():
            for write in writes:
                write()
            self._persist(book, events)
        self._publish(book, events)

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
        if changed and self.holding:
            self.held = book
        elif changed:
            self.wiring.tell(w.STRATEGY, SlotsChanged(book))

    def _report(self, e: SlotEvent) -> None:
        r = self.rules
        if isinstance(e, Filled):
            self.observer.fill(e.side.value)
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
                e.proceeds,
                e.buy_cost,
                e.fees,
                e.realized,
                self.totals.realized,
                self.totals.round_trips,
            )
            self.trip_seq += 1
            self.wiring.tell(w.RISK, RoundTripDone(e, self.trip_seq))
        elif isinstance(e, OrderRejected):
            self.observer.order_rejected(e.reason)
            retry_ms = e.backoff_until_ms - now_ms()
            text = f"rejected {e.side.value} {e.client_id}: {e.reason} (retry after {retry_ms} ms)"
            order_event(log, "rejected", client_id=e.client_id, side=e.side.value, text=text, reason=e.reason)
        elif isinstance(e, OrderClosed):
            filled = r.steps_to_qty(e.filled)
            text = f"closed {e.side.value} {e.client_id}: {e.reason} after {filled} filled"
            order_event(
                log,
                "closed",
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

    # --- decisions -------------------------------------------------------------------------------------

    def _on_decisions(self, d: Decisions) -> None:
        # One SlotsChanged after all its orders went out, not one per commit: the strategy cannot decide
        # before DecisionsTaken anyway, and waking it between two orders only takes the GIL from them.
        self.holding = True
        try:
            self._carry_out(d)
        finally:
            self.holding = False
            if self.held is not None:
                self.wiring.tell(w.STRATEGY, SlotsChanged(self.held))
                self.held = None
            self.wiring.tell(w.STRATEGY, DecisionsTaken())  # after its SlotsChanged: the next one may come

    def _carry_out(self, d: Decisions) -> None:
        hops = stamp(d.hops) if d.origin_ns else ()  # taken from the mailbox
        self.price, self.center, self.interval = d.price, d.center, d.interval
        if not self.trading or not self.reconciled:
            return
        for action in d.actions:
            if isinstance(action, Cancel):
                self._cancel(action.client_id, action.reason, d.origin_ns, hops)
            elif isinstance(action, Place):
                self._place(action, d.time_ms, d.origin_ns, hops)

    def _outstanding(self) -> int:
        """Order actions the core asks for now that this actor would carry out (0 when all is done)."""
        if self.risk is None or not self.price or not self.trading or not self.reconciled:
            return 0
        win = grid_window(self.price, self.interval, self.book.held_total, self.params.grid)
        n = 0
        grid = self.params.grid
        for a in actions_for_window(win, self.book, self.risk, grid, self.rules, now_ms(), self.price):
            if isinstance(a, Cancel) and self._cancellable(a.client_id):
                n += 1
            elif isinstance(a, Place):
                why = self._refusal(a)
                n += not why or why.startswith("waiting")  # waiting for the risk actor is transient
        return n

    def _cancellable(self, client_id: str) -> bool:
        s = self.book.find(client_id)
        return s is not None and s.state is SlotState.LOCKED and not s.cancel_requested

    def _on_risk(self, m: RiskUpdate) -> None:
        self.risk = m.risk
        self.halted, self.buys_blocked = m.risk.halted, m.risk.buys_blocked
        self.trip_acked = max(self.trip_acked, m.trip_seq)
        self._nudge()

    def _nudge(self) -> None:
        """After dropping decisions while waiting for the risk actor: ask the strategy to decide again."""
        if self.dropped and self.trip_acked >= self.trip_seq:
            self.dropped = False
            self.wiring.tell(w.STRATEGY, Republish())

    def _on_risk_restarted(self, m: RiskRestarted) -> None:
        self.trip_acked = self.trip_seq
        self._nudge()

    def _working_count(self) -> int:
        return sum(1 for s in self.book if s.working)

    def _refusal(self, p: Place) -> str:
        """Why this placement must not go out now ("" when it may)."""
        if self.trip_acked < self.trip_seq:
            return "waiting for the risk actor to see the last round trip"  # the breaker may trip on it
        if self.halted or (self.buys_blocked and p.side is Side.BUY):
            return "risk"  # decided before the risk change reached the strategy
        if self._working_count() >= self.settings.max_open_orders:
            return f"open-order cap {self.settings.max_open_orders}"
        # Re-check "buys below sells" against the book as it is now (the strategy's view may lag).
        buys = [s.order_price for s in self.book if s.working and s.side is Side.BUY]
        sells = [s.order_price for s in self.book if s.working and s.side is Side.SELL]
        if p.side is Side.BUY and sells and p.price >= min(sells):
            return "not below a working sell"
        if p.side is Side.SELL and buys and p.price <= max(buys):
            return "not above a working buy"
        return ""

    def _place(self, p: Place, t_ms: int, origin_ns: int = 0, hops: tuple[int, ...] = ()) -> None:
        why = self._refusal(p)
        if why:
            self.dropped = self.dropped or why.startswith("waiting")
            log.debug("level %d: %s %s not placed: %s", p.level, p.side.value, p.price, why)
            return
        try:
            book, cid = coreslots.submit(self.book, p)
        except coreslots.SlotError as exc:
            log.debug("stale decision dropped: %s", exc)  # the strategy decided on an older book
            return
        self._commit(
            book, writes=[lambda: self.store.record_intent(cid, p.level, p.side, p.price, p.qty, t_ms)]
        )
        self.sent_ms[cid] = now_ms()
        reduce_only = p.side is Side.SELL and self.settings.market is Market.USDM
        hops = stamp(hops) if hops else ()  # committed (the tell follows at once)
        self._send(Submit(cid, p.side, p.price, p.qty, reduce_only, origin_ns, hops))
        # the log line after the request is on its way (it is stored already: the order is real)
        log_order(log, "placing", p.side, p.qty, p.price, cid, self.rules)
        self.observer.order_placed()

    def _cancel(self, client_id: str, reason: str, origin_ns: int = 0, hops: tuple[int, ...] = ()) -> None:
        s = self.book.find(client_id)
        if s is None or not self._cancellable(client_id):
            return
        self._commit(coreslots.request_cancel(self.book, client_id))
        hops = stamp(hops) if hops else ()  # committed (the tell follows at once)
        self._send(CancelOrder(client_id, reason, origin_ns, hops))
        log_order(
            log,
            "cancelling",
            s.side,
            s.order_qty,
            s.order_price,
            client_id,
            self.rules,
            f": {reason}",
            reason=reason,
        )
        self.observer.order_cancelled(reason.split(":")[0])

    def _send(self, request: Submit | CancelOrder) -> None:
        """To the exchange actor's order desk (straight to a lane), or its mailbox when it has none."""
        if not self.wiring.tell(w.ORDERS, request):
            self.wiring.tell(w.EXCHANGE, request)
        # Let the lane take the GIL now: it was woken, but would otherwise wait until this thread blocks
        # (the log line and the next commit, 0.3-0.5 ms on the profile) before sending the request.
        time.sleep(HAND_OFF_S)

    # --- exchange replies ------------------------------------------------------------------------------

    def _apply(
        self, result: tuple[SlotBook, tuple[SlotEvent, ...]], writes: Iterable[Callable[[], Any]] = ()
    ) -> None:
        self._commit(result[0], result[1], writes)

    def _on_accepted(self, m: Accepted) -> None:
        o = m.order
        s = self.book.find(m.client_id)
        if s is not None and s.working:
            log_order(log, "accepted", o.side, o.orig_qty, o.price, m.client_id, self.rules)
        result = corefills.apply_snapshot(self.book, o, self.rules, self.interval, now_ms())
        self._apply(result, [lambda: self.store.record_order(o, now_ms())])

    def _on_rejected(self, m: Rejected) -> None:
        book, events = coreslots.reject(self.book, m.client_id, now_ms(), m.reason)
        self._apply(
            (book, events), [lambda: self.store.update_order(m.client_id, "REJECTED", now_ms=now_ms())]
        )

    def _on_unknown(self, m: Unknown) -> None:
        s = self.book.find(m.client_id)
        if s is None or s.state is not SlotState.PENDING:
            # the user stream already told what became of it; the query still brings the order row up
            # to date (an engine may have recorded the lost answer as UNKNOWN meanwhile)
            log.info("answer for %s was lost (%s), but the stream already reported it", m.client_id, m.reason)
            self._query(m.client_id)
            return
        log.warning("outcome unknown for %s (%s): querying it by client id", m.client_id, m.reason)
        self._commit(
            coreslots.mark_unknown(self.book, m.client_id),
            writes=[lambda: self.store.update_order(m.client_id, UNKNOWN, now_ms=now_ms())],
        )
        self._query(m.client_id)

    def _query(self, client_id: str) -> None:
        sent = self.sent_ms.get(client_id)
        self.queries.add(client_id)
        self.wiring.tell(w.EXCHANGE, QueryOrder(client_id, sent - QUERY_MARGIN_MS if sent else None))

    def _on_cancelled(self, m: Cancelled) -> None:
        o = m.order
        result = corefills.cancelled(
            self.book, m.client_id, o.executed_qty, self.rules, self.interval, now_ms()
        )
        writes = [lambda: self.store.record_order(o, now_ms())] if self._known(o.client_id) else []
        self._apply(result, writes)
        self.sent_ms.pop(m.client_id, None)

    def _known(self, client_id: str) -> bool:
        """True for an order of this bot that the store has a row for (orphans cancelled may not)."""
        return decode(client_id, self.book.bot_id) is not None and self.store.has_order(client_id)

    def _on_cancel_failed(self, m: CancelFailed) -> None:
        t_ms = now_ms()
        book = coreslots.cancel_failed(self.book, m.client_id, t_ms)
        self._commit(book)
        if m.not_found:
            self._query(m.client_id)  # filled or gone meanwhile: find out which, never assume
        else:
            s = book.find(m.client_id)
            wait = max(s.cancel_retry_ms - t_ms, 0) if s is not None else 0
            log.warning("cancel of %s failed: %s (retry after %d ms)", m.client_id, m.reason, wait)

    def _on_fill(self, fill: Fill) -> None:
        if decode(fill.client_id, self.book.bot_id) is None:
            return  # foreign trades are never ours to store
        with self.store.atomic():
            if not self.store.record_fill(fill):
                return  # seen before (stream and reconciliation both report it)
            book, events = corefills.apply_fill(self.book, fill, self.rules, self.interval)
            self._persist(book, events)
        self._publish(book, events)

    def _on_order_event(self, m: OrderEvent) -> None:
        u = m.update
        if u.fill is not None:
            self._on_fill(u.fill)
        s = self.book.find(u.order.client_id)
        if s is None or not s.working:
            # the fill above may have closed the slot: the order row still catches up (FILLED, CANCELED)
            if self._known(u.order.client_id):
                self.store.record_order(u.order, now_ms())
            return
        result = corefills.apply_snapshot(self.book, u.order, self.rules, self.interval, now_ms())
        o = u.order
        self._apply(result, [lambda: self.store.record_order(o, now_ms())])

    def _on_queried(self, m: OrderQueried) -> None:
        self.queries.discard(m.client_id)
        for f in sorted(m.fills, key=lambda f: f.trade_id):
            self._on_fill(f)
        s = self.book.find(m.client_id)
        if s is None or not s.working:
            if m.order is not None and self._known(m.client_id):
                self.store.record_order(m.order, now_ms())  # the row catches up with the exchange
            self._maybe_reconciled()
            return
        if m.failed:
            log.warning("query of %s failed (%s): the next reconciliation retries", m.client_id, m.failed)
        elif s.state is SlotState.PENDING:
            self._apply(
                corefills.resolve_unknown(
                    self.book, m.client_id, m.order, self.rules, self.interval, now_ms()
                )
            )
        elif m.order is not None:
            self._apply(corefills.apply_snapshot(self.book, m.order, self.rules, self.interval, now_ms()))
        else:
            log.warning(
                "working order %s is unknown to the exchange: closing it with what it filled", m.client_id
            )
            self._apply(
                corefills.cancelled(
                    self.book, m.client_id, s.order_filled, self.rules, self.interval, now_ms()
                )
            )
        if m.order is not None:
            self.store.record_order(m.order, now_ms())
        elif not m.failed:
            self.store.update_order(m.client_id, NOT_FOUND, now_ms=now_ms())
        self._maybe_reconciled()

    # --- reconciliation ------------------------------------------------------------------------------

    def _on_reconcile_due(self, m: ReconcileDue) -> None:
        last = self.store.last_fill_time_ms()
        self.wiring.tell(w.EXCHANGE, FetchSnapshot(last - 60_000 if last else None))

    def _on_snapshot_failed(self, m: SnapshotFailed) -> None:
        log.warning("reconciliation could not read the exchange: %s", m.reason)
        self.observer.reconciled(False, m.reason)

    def _on_snapshot(self, snap: ExchangeSnapshot) -> None:
        for f in sorted(snap.fills, key=lambda f: f.trade_id):
            self._on_fill(f)
        bot = self.book.bot_id
        open_ids = {o.client_id for o in snap.open_orders}
        foreign = 0
        issued = self.book.next_gen  # every order below this generation was placed by this book
        for o in snap.open_orders:
            parts = decode(o.client_id, bot)
            if parts is None:
                foreign += 1
                continue
            s = self.book.find(o.client_id)
            if s is not None and s.working:
                self._apply(corefills.apply_snapshot(self.book, o, self.rules, self.interval, now_ms()))
                continue
            if parts.generation < issued:
                # The book placed it and has since seen it end (a fill, a cancel, a reject), mostly after
                # this snapshot was read: adopting it would book a round trip that never happened. A
                # cancel settles it either way (not found -> queried; still open -> no orphan left).
                log.info("own order %s listed open, but the book saw it end: cancelling it", o.client_id)
                self._send(CancelOrder(o.client_id, "orphan"))
                continue
            book, events = corefills.adopt_order(self.book, o, self.rules, self.interval)
            ignored = [e.reason for e in events if isinstance(e, Ignored)]
            if ignored:  # no slot can own it (its level works another order): it must not stay out there
                self._commit(book)  # its generation is still burnt: never reuse its client id
                log.warning(
                    "own order %s is not in the book (%s): cancelling it", o.client_id, "; ".join(ignored)
                )
                self._send(CancelOrder(o.client_id, "orphan"))
            else:
                log_order(log, "adopted", o.side, o.orig_qty, o.price, o.client_id, self.rules)
                self.sent_ms[o.client_id] = now_ms()
                self._commit(book, events, [partial(self.store.record_order, o, now_ms())])
        for s in list(self.book):
            if s.working and s.client_id not in open_ids and s.client_id not in self.queries:
                self._query(s.client_id)  # missing on the exchange: find out, never assume cancelled
        if foreign:
            log.info("reconcile: %d foreign open orders (left alone)", foreign)
        if snap.cash is not None:
            self.account = (snap.cash, snap.position, snap.entry_price)
        drift = self._check_drift(snap.position)
        self.observer.reconciled(True, drift=drift, foreign=foreign)
        self.snapshot_done = True
        self._maybe_reconciled()

    def _maybe_reconciled(self) -> None:
        """Trading starts once one snapshot is applied and every query it raised is answered."""
        if not self.reconciled and self.snapshot_done and not self.queries:
            self.reconciled = True
            log.info("reconciled with the exchange: %s", self._heartbeat())
            self.wiring.tell(w.STRATEGY, SlotsChanged(self.book))

    def _check_drift(self, exchange_position: Decimal) -> Decimal:
        """Exchange position - baseline offset - bot position; trips the breaker when too far twice."""
        mine = self.book.position(self.rules)
        if self.offset is None:
            self.offset = exchange_position - mine
            self.store.set_control(DRIFT_CONTROL_KEY, str(self.offset))
            log.info(
                "position baseline: exchange %s, bot %s (offset %s)", exchange_position, mine, self.offset
            )
            return Decimal(0)
        drift = exchange_position - self.offset - mine
        limit = self.params.max_position_drift
        if drift == 0:
            self.drift_strikes = 0
            return drift
        log.warning(
            "position drift %s (exchange %s - offset %s - bot %s)",
            drift,
            exchange_position,
            self.offset,
            mine,
        )
        self.drift_strikes = self.drift_strikes + 1 if abs(drift) > limit else 0
        if self.drift_strikes >= 2:  # twice in a row: not a fill in flight between two reads
            self.wiring.tell(w.RISK, TripBreaker(f"position drift {drift} beyond {limit}"))
        return drift

    # --- cleanup ---------------------------------------------------------------------------------------

    def _on_cleanup(self, m: CleanupDue) -> None:
        now = now_ms()
        self._commit(coreslots.prune(self.book, now))
        if not self.trading or not self.reconciled or not self.interval or not self.center:
            return
        win = window_for_center(self.center, self.interval, self.params.grid)
        for cid, reason in cleanup_cancels(
            self.book, win, self.sent_ms, now, m.stale_after_ms, m.max_open_orders
        ):
            self._cancel(cid, reason)

    # --- timers, stop, status --------------------------------------------------------------------------

    def _on_timer(self, m: TimerTick) -> None:
        fees = self.totals.fees + open_fees(self.book)
        self.observer.book(self.book, self.price, self.center, self.interval, self.totals.realized, fees)
        if m.name == "heartbeat":
            self._log_heartbeat()
        elif m.name == "equity" and self.price and self.account is not None:
            # marked to the current price from the last snapshot's cash and position (every reconcile)
            cash, qty, entry = self.account
            equity = cash + qty * (self.rules.ticks_to_price(self.price) - entry)
            self.wiring.tell(w.RISK, EquityUpdate(equity, now_ms()))
        if self.timers:
            self.timers.rearm(m.name)

    def _heartbeat(self) -> str:
        return heartbeat_line(self.book, self.rules, self.price, self.center, self.interval, self.totals)

    def _log_heartbeat(self) -> None:
        log_heartbeat(log, self.book, self.rules, self.price, self.center, self.interval, self.totals)

    def _on_stop_trading(self, m: StopTrading) -> None:
        self.trading = False

    def _on_apply_cancels(self, m: ApplyCancels) -> int:
        for o in m.orders:
            self._on_cancelled(Cancelled(o.client_id, o))
        return len(m.orders)

    def _on_status(self, m: StatusQuery) -> Status:
        return Status(
            self.book,
            self.reconciled,
            self.price,
            self.center,
            self.interval,
            self.totals.realized,
            self.totals.fees + open_fees(self.book),
            self.totals.round_trips,
            self._working_count(),
            self.buys_blocked,
            self.halted,
            self._outstanding(),
            self.risk,
            len(self.queries),
        )
