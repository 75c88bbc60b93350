"""StrategyActor: nothing durable, a read-only view of slots and risk; turns prices into Decisions.

It takes the newest price from the shared box on every PriceTick (older ones are simply never seen),
asks the core for actions and tells the slot manager the order actions. It re-decides when the book or
the risk state changes, and skips sending the very same actions for the very same book twice.

One Decisions at a time is in flight: until the slot manager answers DecisionsTaken the strategy only
notes that something changed, then decides once on the newest state (decisions coalesce like ticks).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from actors import wiring as w
from actors.dispatch import DispatchedActor
from actors.latest import LatestBox
from actors.messages import Decisions, DecisionsTaken, PriceTick, Republish, RiskUpdate, SlotsChanged
from actors.stages import stamp
from actors.wiring import Wiring
from market_maker.core.actions import Skip, is_order_action
from market_maker.core.grid import grid_window
from market_maker.core.risk import RiskState
from market_maker.core.slots import SlotBook
from market_maker.core.strategy import actions_for_window
from market_maker.runtime.params import BotParams

log = logging.getLogger("market_maker.strategy")

# A Decisions not taken after this long is taken as lost (a slot manager that died with it in its mailbox
# answers on restart anyway); deciding again then is safe, the slot manager re-checks every action.
TAKEN_TIMEOUT_S = 10.0


class StrategyActor(DispatchedActor):
    """Price + book + risk -> Decisions."""

    def __init__(
        self,
        wiring: Wiring,
        box: LatestBox[tuple[int, int]],
        params: BotParams,
        book: SlotBook | None,
        risk: RiskState | None,
        interval: int,
    ) -> None:
        super().__init__()
        self.wiring = wiring
        self.box = box
        self.params = params
        # None after a restart: decide nothing until the slot manager and the risk actor have re-sent
        self.book: SlotBook | None = book
        self.risk: RiskState | None = risk
        self.interval = interval
        self.price = 0
        self.decisions = 0  # how many times the core was asked (ticks coalesce, so fewer than prices)
        self._last: tuple[Any, ...] = ()
        self._skips: dict[int, str] = {}
        self._in_flight_since: float | None = None  # monotonic time of the Decisions not taken yet
        self._behind = False  # something changed while one was in flight: decide when it is taken
        self._behind_origin_ns = 0

    def on_receive(self, message: Any) -> Any:
        origin_ns = 0  # only a price tick starts a tick-to-order measurement
        hops = stamp()  # when this actor took the message (the first stage ends here)
        if isinstance(message, PriceTick):
            latest = self.box.take()
            if latest is None:
                return None
            self.price, origin_ns = latest
        elif isinstance(message, SlotsChanged):
            self.book = message.book
        elif isinstance(message, RiskUpdate):
            self.risk, self.interval = message.risk, message.interval
        elif isinstance(message, Republish):
            self._last = ()  # decide and send again even if nothing changed here
        elif isinstance(message, DecisionsTaken):
            self._in_flight_since = None
            if not self._behind:
                return None
            origin_ns = self._behind_origin_ns
        else:
            log.warning("strategy: unexpected message %r", message)
            return None
        self._decide(origin_ns, hops)
        return None

    def _decide(self, origin_ns: int = 0, hops: tuple[int, ...] = ()) -> None:
        if not self.price or self.book is None or self.risk is None:
            return
        if self._in_flight(origin_ns):
            return
        now = int(time.time() * 1000)
        self.decisions += 1
        book, risk = self.book, self.risk
        win = grid_window(self.price, self.interval, book.held_total, self.params.grid)
        actions = actions_for_window(win, book, risk, self.params.grid, self.params.rules, now, self.price)
        orders = tuple(a for a in actions if is_order_action(a))
        self._log_skips(a for a in actions if isinstance(a, Skip))
        key = (orders, id(book), risk.buys_blocked, risk.halted, self.price, self.interval)
        if key == self._last:
            return  # nothing new for the slot manager (it already has these actions for this book)
        self._last = key
        sent = self.wiring.tell(
            w.SLOTS,
            Decisions(
                orders,
                self.price,
                win.center,
                self.interval,
                risk.buys_blocked,
                risk.halted,
                now,
                origin_ns,
                stamp(hops) if origin_ns else (),
            ),
        )
        if sent:
            self._in_flight_since = time.monotonic()

    def _in_flight(self, origin_ns: int) -> bool:
        """True (and the change noted for later) while the slot manager has not taken the last Decisions."""
        since = self._in_flight_since
        if since is not None and time.monotonic() - since < TAKEN_TIMEOUT_S:
            self._behind = True
            self._behind_origin_ns = origin_ns or self._behind_origin_ns  # the newest price's stamp
            return True
        if since is not None:
            log.warning("strategy: decisions not taken after %.0f s, deciding again", TAKEN_TIMEOUT_S)
        self._in_flight_since, self._behind, self._behind_origin_ns = None, False, 0
        return False

    def _log_skips(self, skips: Any) -> None:
        """Log a level's skip reason when it changes (not on every tick)."""
        seen: dict[int, str] = {}
        for s in skips:
            seen[s.level] = s.reason.split(" until ")[0]
            if self._skips.get(s.level) != seen[s.level]:
                log.info("skip level %s: %s", self.params.rules.ticks_to_price(s.level), s.reason)
        self._skips = seen
