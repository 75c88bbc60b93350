"""StrategyActor: nothing durable, a read-only view of slots and risk; turns prices into Decisions.

It takes the newest price from the shared box on every PriceTick (older ones are simply never seen),
asks the core for actions and tells the slot manager the order actions. It re-decides when the book or
the risk state changes, and skips sending the very same actions for the very same book twice.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pykka

from actors import wiring as w
from actors.latest import LatestBox
from actors.messages import Decisions, PriceTick, Republish, RiskUpdate, SlotsChanged
from actors.wiring import Wiring
from market_maker.core.actions import Skip, is_order_action
from market_maker.core.grid import grid_window
from market_maker.core.risk import RiskState
from market_maker.core.slots import SlotBook
from market_maker.core.strategy import actions_for_window
from market_maker.runtime.params import BotParams

log = logging.getLogger("market_maker.strategy")


class StrategyActor(pykka.ThreadingActor):
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

    def on_receive(self, message: Any) -> Any:
        origin_ns = 0  # only a price tick starts a tick-to-order measurement
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
        else:
            log.warning("strategy: unexpected message %r", message)
            return None
        self._decide(origin_ns)
        return None

    def _decide(self, origin_ns: int = 0) -> None:
        if not self.price or self.book is None or self.risk is None:
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
        self.wiring.tell(
            w.SLOTS,
            Decisions(
                orders, self.price, win.center, self.interval, risk.buys_blocked, risk.halted, now, origin_ns
            ),
        )

    def _log_skips(self, skips: Any) -> None:
        """Log a level's skip reason when it changes (not on every tick)."""
        seen: dict[int, str] = {}
        for s in skips:
            seen[s.level] = s.reason.split(" until ")[0]
            if self._skips.get(s.level) != seen[s.level]:
                log.info("skip level %s: %s", self.params.rules.ticks_to_price(s.level), s.reason)
        self._skips = seen
