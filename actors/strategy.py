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
from market_maker.core.actions import Action, Skip
from market_maker.core.params import TradingParams
from market_maker.core.risk import RiskState
from market_maker.core.slots import SlotBook
from market_maker.core.strategy import ActionMemo
from market_maker.ops.heartbeat import utc_time

log = logging.getLogger("market_maker.strategy")

# A Decisions not taken after this long is taken as lost (a slot manager that died with it in its mailbox
# answers on restart anyway); deciding again then is safe, the slot manager re-checks every action.
TAKEN_TIMEOUT_S = 10.0
_UNTIL = " until {:time}"  # a skip template's back-off end: not a change of reason
_ANYWHERE = frozenset((PriceTick, SlotsChanged, RiskUpdate, Republish, DecisionsTaken))


class StrategyActor(DispatchedActor):
    """Price + book + risk -> Decisions."""

    def __init__(
        self,
        wiring: Wiring,
        box: LatestBox[tuple[int, int]],
        params: TradingParams,
        book: SlotBook | None,
        risk: RiskState | None,
        interval: int,
    ) -> None:
        super().__init__()
        self.wiring = wiring
        self.box = box
        self.params = params
        # None, as the system starts it: nothing is decided until the slot manager and the risk actor sent
        self.book: SlotBook | None = book
        self.risk: RiskState | None = risk
        self.interval = interval
        self.price = 0
        self.decisions = 0  # how many times the core was asked (ticks coalesce, so fewer than prices)
        self._last: tuple[Any, ...] = ()
        self._skips: dict[
            int, tuple[str, tuple[object, ...]]
        ] = {}  # level -> its skip's reason, less its time
        self._in_flight_since: float | None = None  # monotonic time of the Decisions not taken yet
        self._behind = False  # something changed while one was in flight: decide when it is taken
        self._behind_origin_ns = 0
        self._memo = ActionMemo()  # actions per center for the current book, some decided ahead

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

    def runs_anywhere(self, message: Any) -> bool:
        """Everything here is plain state: the market-data stream's thread may decide on a price itself."""
        return type(message) in _ANYWHERE

    def _decide(self, origin_ns: int = 0, hops: tuple[int, ...] = ()) -> None:
        book, risk, price = self.book, self.risk, self.price
        if not price or book is None or risk is None:
            return
        if self._in_flight(origin_ns):
            return
        now = int(time.time() * 1000)
        self.decisions += 1
        interval = self.interval
        memo = self._memo
        memo.use(book, risk, interval, self.params.grid, self.params.rules, now)
        win, actions = memo.actions(price)
        skips = [a for a in actions if type(a) is Skip]
        orders = tuple(a for a in actions if type(a) is not Skip) if skips else actions
        if skips or self._skips:
            self._log_skips(skips)
        blocked, halted = risk.buys_blocked, risk.halted
        # cheapest and likeliest to differ first: a new price ends the comparison at once
        key = (price, id(book), interval, blocked, halted, orders)
        if key != self._last:
            self._last = key
            self._send(book, orders, win.center, blocked, halted, now, origin_ns, hops)
        if not origin_ns and not self.box.pending:
            # Off the tick-to-order path (a book or risk change) with no price waiting: decide now for
            # the neighbouring centers, so the next price's decision is a look-up.
            memo.ahead(price)

    def _send(
        self,
        book: SlotBook,
        orders: tuple[Action, ...],
        center: int,
        blocked: bool,
        halted: bool,
        now: int,
        origin_ns: int,
        hops: tuple[int, ...],
    ) -> None:
        sent = self.wiring.tell(
            w.SLOTS,
            Decisions(
                orders,
                self.price,
                center,
                self.interval,
                blocked,
                halted,
                now,
                origin_ns,
                stamp(hops) if origin_ns else (),
                book,
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

    def _shown(self, unit: str, value: object) -> object:
        """A skip reason's field as a person reads it: a price, a quantity, a UTC time."""
        if not isinstance(value, int):
            return value
        if unit == "price":
            return self.params.rules.ticks_to_price(value)
        if unit == "qty":
            return self.params.rules.steps_to_qty(value)
        if unit == "time":
            return utc_time(value)
        return value

    def _log_skips(self, skips: list[Skip]) -> None:
        """Log a level's skip reason when it changes (not on every tick): a reason that differs only in
        its trailing "until <time>" (a back-off's end) counts as the same, and the text is built only
        for the lines that are logged."""
        seen: dict[int, tuple[str, tuple[object, ...]]] = {}
        last = self._skips
        for s in skips:
            args = s.args[:-1] if s.why.endswith(_UNTIL) else s.args
            seen[s.level] = key = (s.why, args)
            if last.get(s.level) != key:
                rules = self.params.rules
                log.info("skip level %s: %s", rules.ticks_to_price(s.level), s.text(self._shown))
        self._skips = seen
