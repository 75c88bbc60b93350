"""The slot manager's order decisions: carry out the strategy's Decisions (re-checked against the book
as it is now; cancels sent at once, placements once their intents are committed), the risk actor's
word, and the cleanup."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from actors import wiring as w
from actors.messages import (
    CancelOrder,
    CleanupDue,
    Decisions,
    Republish,
    RiskRestarted,
    RiskUpdate,
    Submit,
)
from actors.slot_base import SlotManagerBase, log, now_ms
from actors.stages import stamp
from market_maker.core import slots as coreslots
from market_maker.core.actions import Action, Cancel, Place
from market_maker.core.cleanup import stale_cancels
from market_maker.core.grid import grid_window, window_for_center
from market_maker.core.model import Market, Side
from market_maker.core.slots import Slot, SlotBook
from market_maker.core.strategy import actions_for_window, calculate_actions, open_orders
from market_maker.ops.heartbeat import log_order


class OrderDecisions(SlotManagerBase):
    """Decisions -> committed intent -> order requests."""

    def _on_decisions(self, d: Decisions) -> None:
        # One SlotsChanged after all its orders went out, not one per commit: the strategy cannot decide
        # before DecisionsTaken anyway, and waking it between two orders only takes the GIL from them.
        self.holding = True
        later = False
        try:
            if d.book is not None and d.book is not self.book and self._missed():
                log.warning("the strategy decided on a book it was not sent: sending it the current one")
                self.held = self.book  # told with this Decisions' SlotsChanged, before its DecisionsTaken
            later = self._carry_out(d)
        finally:
            if not later:
                self._decided()

    def _decided(self) -> None:
        """A Decisions is carried out: its SlotsChanged, DecisionsTaken, then its orders' log lines."""
        self.holding = False
        if self.held is not None:
            self._tell_book(self.held)
            self.held = None
        self._tell_taken()  # after its SlotsChanged: the next one may come
        notes, self.notes = self.notes, []
        for note in notes:
            note()

    def _missed(self) -> bool:
        """Whether a strategy whose Decisions were decided on another book than ours has missed ours.

        A strategy that decides on a book we no longer have may ask only for what we refuse (buys
        below a take-profit that has filled since, cancels of orders that ended), so no change would
        ever reach it: the grid would stay frozen. It has missed ours when ours never reached its
        mailbox (told while no strategy was wired), or when ours was told before the last
        DecisionsTaken: the strategy takes its messages in order and decides again only after that
        one, so it had ours by then. Otherwise ours is on its way (it decided before taking it).
        """
        return self.told is not self.book or self.taken is self.book

    def _carry_out(self, d: Decisions) -> bool:
        """Cancels first, each sent before anything is written; then the placements' intents and the
        cancels' flags in one transaction; then the placements. True when that second part was left to
        this actor's own thread (see below); it then ends the Decisions.

        A cancel needs no intent on disk: if the bot dies before its flag is stored, the order is still
        LOCKED in the store and reconciliation finds it open or cancelled, as after any lost answer. A
        placement's intent must be stored before its request leaves (a fill of an order the store never
        heard of could not be matched), so it waits for the one commit, and not for one per order.
        Carried out on the market-data stream's thread (:meth:`runs_anywhere`), the cancels go out from
        there and the rest, which writes to the store through this thread's connection, follows on this
        actor's own thread before any other message.
        """
        hops = stamp(d.hops) if d.origin_ns else ()  # taken from the mailbox
        self.price, self.center, self.interval = d.price, d.center, d.interval
        if not self.trading or not self.reconciled:
            return False
        actions = d.actions if d.book is None or d.book is self.book else self._still_wanted(d)
        cancels = [a for a in actions if isinstance(a, Cancel)]
        book = self._cancel_unstored(cancels, d.origin_ns, hops)
        if self.on_home_thread():
            self._place_decided(d, actions, book, hops)
            return False
        self.continue_at_home(partial(self._placed_at_home, d, actions, book, hops))
        return True

    def _placed_at_home(
        self, d: Decisions, actions: tuple[Action, ...], book: SlotBook, hops: tuple[int, ...]
    ) -> None:
        try:
            self._place_decided(d, actions, book, hops)
        finally:
            self._decided()

    def _place_decided(
        self, d: Decisions, actions: tuple[Action, ...], book: SlotBook, hops: tuple[int, ...]
    ) -> None:
        """Commit the placements' intents with ``book`` (the cancels' flags), then send the placements."""
        writes: list[Callable[[], Any]] = []
        placing: list[tuple[Place, str]] = []
        for action in actions:
            if isinstance(action, Place):
                placed = self._intend(action, book, d.time_ms)
                if placed is not None:
                    book, cid, write = placed
                    writes.append(write)
                    placing.append((action, cid))
        if book is self.book:
            return
        self._commit(book, writes=writes)
        hops = stamp(hops) if hops and placing else ()  # committed (the tells follow at once)
        for p, cid in placing:
            self._submit(p, cid, d.origin_ns, hops)

    def _still_wanted(self, d: Decisions) -> tuple[Action, ...]:
        """The actions of Decisions decided on another book than ours that the core still asks for on ours.

        What the core asks for depends on the whole book, not only on the order it names: an open-order
        cap cancel made room counting an order whose fill was on its way (and whose take-profit may not
        need room at all), a placement took room or budget that a fill has used since. Carried out on a
        book that changed, such a decision cancels a buy that should work, and the trailing rule does not
        place it back. So the core is asked again on the book as it is now, at the decision's price and
        interval: only the orders it still asks for go out; the strategy, which is sent our book, decides
        the rest.
        """
        if self.risk is None:
            return d.actions  # no word from the risk actor yet: _refusal holds every placement anyway
        grid, rules = self.params.grid, self.rules
        now = calculate_actions(d.price, d.interval, self.book, self.risk, grid, rules, now_ms())
        cancels = {a.client_id for a in now if isinstance(a, Cancel)}
        places = {a for a in now if isinstance(a, Place)}
        return tuple(
            a for a in d.actions if (a.client_id in cancels if isinstance(a, Cancel) else a in places)
        )

    def runs_anywhere(self, message: Any) -> bool:
        """A Decisions may start on another thread (its cancels need no store) when no bookkeeping batch
        holds a transaction open on this actor's thread."""
        return type(message) is Decisions and self.batch is None

    def _cancel_unstored(self, cancels: list[Cancel], origin_ns: int, hops: tuple[int, ...]) -> SlotBook:
        """Send each cancel the book still allows; the book with their flags set (not yet stored)."""
        book = self.book
        for c in cancels:
            s = self._cancellable(c.client_id, book)
            if s is None:
                continue
            stamped = stamp(hops) if hops else ()  # checked (the tell follows at once)
            self._send(CancelOrder(c.client_id, c.reason, origin_ns, stamped))
            # the flag once the request is out (a new book is ~20 us of cold code): its answer is a message
            # to this actor, handled only after this one
            book = coreslots.request_cancel(book, c.client_id)
            self._after_orders(partial(self._cancelling, s, c.reason))
        return book

    def _intend(self, p: Place, book: SlotBook, t_ms: int) -> tuple[SlotBook, str, Callable[[], Any]] | None:
        """``book`` with ``p`` submitted, its client id and the write of its intent; None when refused."""
        why = self._refusal(p, book)
        if why:
            self.dropped = self.dropped or why.startswith("waiting")
            log.debug("level %d: %s %s not placed: %s", p.level, p.side.value, p.price, why)
            return None
        try:
            book, cid = coreslots.submit(book, p)
        except coreslots.SlotError as exc:
            log.debug("stale decision dropped: %s", exc)  # the strategy decided on an older book
            return None
        return book, cid, lambda: self.store.record_intent(cid, p.level, p.side, p.price, p.qty, t_ms)

    def _submit(self, p: Place, cid: str, origin_ns: int, hops: tuple[int, ...]) -> None:
        """Send a placement whose intent is stored."""
        self.sent_ms[cid] = now_ms()
        reduce_only = p.side is Side.SELL and self.settings.market is Market.USDM
        self._send(Submit(cid, p.side, p.price, p.qty, reduce_only, origin_ns, hops))
        # the log line after the request is on its way (it is stored already: the order is real)
        self._after_orders(lambda: self._placed(p, cid))

    def _outstanding(self) -> int:
        """Order actions the core asks for now that this actor would carry out (0 when all is done)."""
        if self.risk is None or not self.price or not self.trading or not self.reconciled:
            return 0
        win = grid_window(self.price, self.interval, self.book.held_total, self.params.grid)
        n = 0
        grid = self.params.grid
        for a in actions_for_window(win, self.book, self.risk, grid, self.rules, now_ms(), self.price):
            if isinstance(a, Cancel) and self._cancellable(a.client_id) is not None:
                n += 1
            elif isinstance(a, Place):
                why = self._refusal(a, self.book)
                n += not why or why.startswith("waiting")  # waiting for the risk actor is transient
        return n

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

    def _refusal(self, p: Place, book: SlotBook) -> str:
        """Why this placement must not go out now, with ``book`` as it will be ("" when it may)."""
        if self.trip_acked < self.trip_seq:
            return "waiting for the risk actor to see the last round trip"  # the breaker may trip on it
        if self.halted or (self.buys_blocked and p.side is Side.BUY):
            return "risk"  # decided before the risk change reached the strategy
        working = book.ix.working  # the index: O(working orders), not O(book)
        cap = self.params.grid.max_open_orders
        if cap and len(working) >= cap and open_orders(book) >= cap:  # the count only near the cap
            return f"open-order cap {cap}"
        # Re-check "buys below sells" against the book as it is now (the strategy's view may lag).
        slots = book.slots
        if p.side is Side.BUY:
            if any(s.side is Side.SELL and s.order_price <= p.price for s in map(slots.__getitem__, working)):
                return "not below a working sell"
        elif any(s.side is Side.BUY and s.order_price >= p.price for s in map(slots.__getitem__, working)):
            return "not above a working buy"
        return ""

    def _cancel(self, c: Cancel) -> None:
        """Cancel one order outside a Decisions (the cleanup): flag stored, then the request."""
        s = self._cancellable(c.client_id)
        if s is None:
            return
        self._commit(coreslots.request_cancel(self.book, c.client_id))
        self._send(CancelOrder(c.client_id, c.reason))
        self._after_orders(lambda: self._cancelling(s, c.reason))

    def _placed(self, p: Place, client_id: str) -> None:
        log_order(log, "placing", p.side, p.qty, p.price, client_id, self.rules)
        self.observer.order_placed()

    def _cancelling(self, s: Slot, reason: str) -> None:
        self.cancels_sent.add(s.client_id)
        r = f": {reason}"
        log_order(
            log, "cancelling", s.side, s.order_qty, s.order_price, s.client_id, self.rules, r, reason=reason
        )
        self.observer.order_cancelled(reason.split(":")[0])

    def _on_cleanup(self, m: CleanupDue) -> None:
        now = now_ms()
        self._commit(coreslots.prune(self.book, now))
        if not self.trading or not self.reconciled or not self.interval or not self.center:
            return
        win = window_for_center(self.center, self.interval, self.params.grid)
        for c in stale_cancels(self.book, win, self.sent_ms, now, m.stale_after_ms, self.halted):
            self._cancel(c)
