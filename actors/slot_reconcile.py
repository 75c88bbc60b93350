"""The slot manager's reconciliation: the exchange's open orders and recent trades applied to the book
(own orders adopted or cancelled as orphans, missing ones queried, never assumed), and position drift."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from actors import wiring as w
from actors.messages import (
    CancelOrder,
    ExchangeSnapshot,
    FetchSnapshot,
    FillsSwept,
    QueryOrder,
    ReconcileDue,
    SnapshotFailed,
    SweepFills,
    TripBreaker,
)
from actors.slot_base import DRIFT_CONTROL_KEY, DRIFT_FILL_MARGIN_MS, log, now_ms
from actors.slot_replies import ExchangeReplies
from market_maker.core import fills as corefills
from market_maker.core.ids import decode
from market_maker.core.model import SlotState
from market_maker.core.slot_events import (
    Ignored,
)
from market_maker.ops.heartbeat import log_order, plain

SWEEP_SPAN_MS = 12 * 3_600_000  # how far back the stop's last read of the account's trades goes


class Reconciliation(ExchangeReplies):
    """ReconcileDue -> FetchSnapshot -> ExchangeSnapshot applied; drift against the exchange position."""

    def _on_reconcile_due(self, m: ReconcileDue) -> None:
        last = self.store.last_fill_time_ms()
        self.wiring.tell(w.EXCHANGE, FetchSnapshot(last - 60_000 if last else None))

    def _on_sweep_fills(self, m: SweepFills) -> FillsSwept:
        # the stop's last look: fills the venue made while the user stream was closing (or in flight
        # when it closed) are stored now, not found by the next start's reconciliation
        last = self.store.last_fill_time_ms()
        # at most half a day back, one request on Binance (longer spans go a day per request): a stop
        # must not hang on a bot that has not filled for weeks; older misses are reconciliation's
        since = max(last - 60_000, now_ms() - SWEEP_SPAN_MS) if last else None
        try:
            covered, fills = m.fetch(since)
        except Exception as exc:  # the venue cannot be read: the next start reconciles them
            return FillsSwept(None, 0, f"{type(exc).__name__}: {exc}")
        new = sum(self._on_fill(f) for f in sorted(fills, key=lambda f: f.trade_id))
        return FillsSwept(covered, new)

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
                # the row catches up when the venue knows more than the slot (acknowledged or filled
                # while the bot was down); otherwise it already says what the slot says
                news = s.state is SlotState.PENDING or o.executed_qty != s.order_filled
                writes = [partial(self.store.record_order, o, now_ms())] if news else []
                result = corefills.apply_snapshot(self.book, o, self.rules, self.interval, now_ms())
                self._apply(result, writes)
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
        self._catch_up_rows(open_ids)
        if foreign:
            log.info("reconcile: %d foreign open orders (left alone)", foreign)
        if snap.cash is not None:
            self.account = (snap.cash, snap.position, snap.entry_price)
        drift = self._check_drift(snap.position, snap.time_ms)
        self.observer.reconciled(True, drift=drift, foreign=foreign)
        self.snapshot_done = True
        self._maybe_reconciled()

    def _catch_up_rows(self, open_ids: set[str]) -> None:
        """Order rows still open in the store that the venue does not list open and no slot works: their
        orders ended while the bot was down (the trades booked the fills, the rows never heard). Each is
        queried once, without holding trading up, and its row takes the venue's status and quantity."""
        working = {s.client_id for s in self.book if s.working}
        for row in self.store.orders(open_only=True):
            cid = row.client_id
            if cid in open_ids or cid in working or cid in self.queries or cid in self.row_queries:
                continue
            self.row_queries.add(cid)
            self.wiring.tell(w.EXCHANGE, QueryOrder(cid, None, trades=False))

    def _check_drift(self, exchange_position: Decimal, read_ms: int = 0) -> Decimal:
        """Exchange position - baseline offset - bot position; trips the breaker when too far twice in
        a row, counting only snapshots read (``read_ms``, exchange time) away from the last own fill."""
        mine = self.book.position(self.rules)
        if self.offset is None:
            self.offset = exchange_position - mine
            self.store.set_control(DRIFT_CONTROL_KEY, str(self.offset))
            log.info(
                "position baseline: exchange %s, bot %s (offset %s)",
                plain(exchange_position),
                plain(mine),
                plain(self.offset),
            )
            return Decimal(0)
        drift = exchange_position - self.offset - mine
        limit = self.settings.max_position_drift
        if drift == 0:
            self.drift_strikes = 0
            return drift
        log.warning(
            "position drift %s (exchange %s - offset %s - bot %s)",
            plain(drift),
            plain(exchange_position),
            plain(self.offset),
            plain(mine),
        )
        if abs(drift) > limit and read_ms and self.last_fill_ms >= read_ms - DRIFT_FILL_MARGIN_MS:
            log.info("position drift not counted: own fills were arriving while the snapshot was read")
            return drift
        self.drift_strikes = self.drift_strikes + 1 if abs(drift) > limit else 0
        if self.drift_strikes >= 2:  # twice in a row: not a fill in flight between two reads
            self.wiring.tell(w.RISK, TripBreaker(f"position drift {drift} beyond {limit}"))
        return drift
