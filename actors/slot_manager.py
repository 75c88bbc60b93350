"""SlotManagerActor: the only owner and writer of the slot book and of the trading rows.

Every change goes through the core's pure transitions, is persisted through the store *before* the
side effect it causes (the intent row before a Submit goes out), and only then does the actor tell the
exchange actor. Exchange replies, user-stream events, query answers and reconciliation snapshots all
come back here as messages, so slot ownership is serialized in this one thread.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from actors import wiring as w
from actors.messages import (
    Accepted,
    ApplyCancels,
    CancelFailed,
    Cancelled,
    CleanupDue,
    Decisions,
    EquityUpdate,
    ExchangeSnapshot,
    OrderEvent,
    OrderQueried,
    ReconcileDue,
    Rejected,
    Republish,
    RiskRestarted,
    RiskUpdate,
    SnapshotFailed,
    Status,
    StatusQuery,
    StopTrading,
    SweepFills,
    TimerTick,
    Unknown,
)
from actors.slot_base import DRIFT_CONTROL_KEY, SlotSettings, log, now_ms
from actors.slot_orders import OrderDecisions
from actors.slot_reconcile import Reconciliation
from actors.timers import Timers
from market_maker.ops.heartbeat import heartbeat_line, log_heartbeat, open_fees
from market_maker.store.checkpoints import Checkpointer, start_checkpoints

__all__ = ["SlotManagerActor", "SlotSettings"]

# Exchange reports that only keep the books: several queued together are committed as one batch.
BOOKKEEPING = (Accepted, Rejected, Cancelled, CancelFailed, OrderEvent)
MAX_BATCH = 200  # messages per batch at most (a long backlog still commits now and then)


class SlotManagerActor(OrderDecisions, Reconciliation):
    """Owns the slots; applies decisions and exchange reports; persists before every side effect."""

    batched = 0  # messages in the open bookkeeping batch
    _table: dict[type, Callable[[Any], Any]] | None = None  # see _handlers
    checkpoints: Checkpointer | None = None  # the WAL checkpoint thread (SQLite)

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
        # this thread's commits leave WAL checkpoints (a millisecond or more each) to their own thread
        self.checkpoints = start_checkpoints(self.store)
        self.timers = Timers(self.actor_ref)
        self.timers.start("heartbeat", self.settings.heartbeat_s)
        self.timers.start("equity", self.settings.equity_s)
        self._tell_book(self.book)
        self._tell_taken()  # any Decisions sent to a dead predecessor is lost

    def on_stop(self) -> None:
        self.end_batch()
        if self.timers:
            self.timers.cancel()
        self.store.save_book(self.book)  # flush everything once more on the way out
        self._stop_checkpoints()
        self.store.close()  # this thread's connection
        self._log_heartbeat()

    def on_failure(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self.timers:
            self.timers.cancel()
        self._stop_checkpoints()
        self.store.close()

    def _stop_checkpoints(self) -> None:
        if self.checkpoints is not None:
            self.checkpoints.stop()
            self.checkpoints = None

    # --- dispatch --------------------------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        handler = (self._table or self._handlers()).get(type(message))
        if handler is None:
            log.warning("slot manager: unexpected message %r", message)
            return None
        if not isinstance(message, BOOKKEEPING):
            if self.batch is not None:  # (no call when none is open: a price tick's Decisions)
                self.end_batch()  # decisions, snapshots, queries and status see everything stored
            return handler(message)
        # Bookkeeping queued together is stored in one transaction (one commit instead of one each), so
        # a decision behind a backlog of acks and stream events waits for one commit, not for many.
        if self.batch is None and not self.actor_inbox.empty():
            self.begin_batch()
            self.batched = 0
        try:
            result = handler(message)
        except BaseException as exc:
            self.end_batch(exc)
            raise
        self.batched += 1
        if self.batch is not None and (self.actor_inbox.empty() or self.batched >= MAX_BATCH):
            self.end_batch()
        return result

    def _handlers(self) -> dict[type, Callable[[Any], Any]]:
        """The message type -> handler table, built once (on the first message) and kept."""
        self._table = {
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
            SweepFills: self._on_sweep_fills,
            StatusQuery: self._on_status,
            Republish: lambda m: self._tell_book(self.book),
            RiskUpdate: self._on_risk,
            RiskRestarted: self._on_risk_restarted,
        }
        return self._table

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
            dict(self.sent_ms),  # a copy: the ops thread reads it while this actor goes on
        )
