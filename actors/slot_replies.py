"""The slot manager's bookkeeping of what the exchange says: answers to requests, user-stream order
events and fills, query answers. Each is applied through the core and committed (fills idempotently)."""

from __future__ import annotations

import logging

from actors.messages import (
    Accepted,
    CancelFailed,
    Cancelled,
    OrderEvent,
    OrderQueried,
    Rejected,
    Unknown,
)
from actors.slot_base import SlotManagerBase, log, now_ms
from market_maker.core import fills as corefills
from market_maker.core import slots as coreslots
from market_maker.core.ids import decode
from market_maker.core.model import Fill, SlotState
from market_maker.ops.heartbeat import log_order
from market_maker.store.records import NOT_FOUND, UNKNOWN


class ExchangeReplies(SlotManagerBase):
    """Accepted / Rejected / Unknown / Cancelled / CancelFailed, OrderEvent, OrderQueried."""

    def _on_accepted(self, m: Accepted) -> None:
        o = m.order
        s = self.book.find(m.client_id)
        # logged once stored, and before the lines of what the report itself caused (fills)
        line = (
            (
                lambda: log_order(
                    log, "accepted", o.side, o.orig_qty, o.price, m.client_id, self.rules, level=logging.DEBUG
                )
            )
            if s is not None and s.working
            else None
        )
        result = corefills.apply_snapshot(self.book, o, self.rules, self.interval, now_ms())
        self._apply(result, [lambda: self.store.record_order(o, now_ms())], line)

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

    def _on_cancelled(self, m: Cancelled) -> None:
        o = m.order
        result = corefills.cancelled(
            self.book, m.client_id, o.executed_qty, self.rules, self.interval, now_ms()
        )
        # the row catches up when the store has one (orphans cancelled may have none)
        self._apply(result, [lambda: self.store.update_known_order(o, now_ms())])
        self.sent_ms.pop(m.client_id, None)

    def _on_cancel_failed(self, m: CancelFailed) -> None:
        if m.not_found:
            # The exchange has no such open order: it filled or ended meanwhile. Find out which (never
            # assume). Until the query answers, the order is as good as a cancel in flight: its flag
            # stays, so it neither counts against the open-order cap (a cap cancel made room for it
            # would take a buy the grid keeps) nor is cancelled again; only an order the query still
            # finds open gets the failed cancel's back-off (_cancel_settled).
            self.gone.add(m.client_id)
            self._query(m.client_id)
            return
        t_ms = now_ms()
        book = coreslots.cancel_failed(self.book, m.client_id, t_ms)
        self._commit(book)
        s = book.find(m.client_id)
        wait = max(s.cancel_retry_ms - t_ms, 0) if s is not None else 0
        log.warning("cancel of %s failed: %s (retry after %d ms)", m.client_id, m.reason, wait)

    def _cancel_settled(self, client_id: str) -> None:
        """After the query of an order whose cancel found none open: one still open is cancelled later."""
        self.gone.discard(client_id)
        s = self.book.find(client_id)
        if s is not None and s.working and s.cancel_requested:  # still open, or the query failed
            self._commit(coreslots.cancel_failed(self.book, client_id, now_ms()))

    def _on_fill(self, fill: Fill) -> bool:
        """Record and apply one of our fills; False when it is foreign or was seen before."""
        if decode(fill.client_id, self.book.bot_id) is None:
            return False  # foreign trades are never ours to store
        with self._tx():
            if not self.store.record_fill(fill):
                return False  # seen before (stream and reconciliation both report it)
            book, events = corefills.apply_fill(self.book, fill, self.rules, self.interval)
            self._persist(book, events)
        self.last_fill_ms = max(self.last_fill_ms, fill.time_ms)
        self._publish(book, events)
        return True

    def _on_order_event(self, m: OrderEvent) -> None:
        u = m.update
        if u.fill is not None:
            self._on_fill(u.fill)
        s = self.book.find(u.order.client_id)
        if s is None or not s.working:
            # the fill above may have closed the slot: the order row still catches up (FILLED, CANCELED)
            self.store.update_known_order(u.order, now_ms())
            return
        result = corefills.apply_snapshot(self.book, u.order, self.rules, self.interval, now_ms())
        o = u.order
        self._apply(result, [lambda: self.store.record_order(o, now_ms())])

    def _on_queried(self, m: OrderQueried) -> None:
        try:
            self._queried(m)
        finally:
            if m.client_id in self.gone:
                self._cancel_settled(m.client_id)

    def _queried(self, m: OrderQueried) -> None:
        self.queries.discard(m.client_id)
        row_query = m.client_id in self.row_queries
        self.row_queries.discard(m.client_id)
        for f in sorted(m.fills, key=lambda f: f.trade_id):
            self._on_fill(f)
        s = self.book.find(m.client_id)
        if s is None or not s.working:
            if m.order is not None:
                self.store.update_known_order(m.order, now_ms())  # the row catches up with the exchange
            elif row_query and not m.failed:
                self.store.update_order(m.client_id, NOT_FOUND, now_ms=now_ms())  # it never reached it
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
