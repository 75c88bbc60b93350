"""ExchangeActor: owns the connector (REST session, rate limiter) and the user-data stream.

Every outcome becomes a message to the slot manager: Accepted, Rejected (definite), Unknown (may have
happened: query by client id), Cancelled / CancelFailed, OrderQueried, ExchangeSnapshot. I/O errors
are messages too, never an actor death. Stream callbacks run on the stream's thread and only ``tell``.

Placements and cancels run on order lanes (actors/order_lanes.py), so the cancel and the place of one
decision are sent together; queries and snapshots wait until the lanes are idle, so they see every
order sent before them, as when one thread did everything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

import pykka

from actors import wiring as w
from actors.dispatch import DispatchedActor
from actors.messages import (
    Accepted,
    CancelFailed,
    Cancelled,
    CancelOrder,
    ExchangeSnapshot,
    FetchSnapshot,
    OrderEvent,
    OrderQueried,
    QueryOrder,
    Rejected,
    SnapshotFailed,
    StreamReconnected,
    Submit,
    Unknown,
)
from actors.observer import Observer
from actors.order_lanes import OrderLanes
from actors.send_probe import SendProbe
from actors.slot_base import hand_off
from actors.stages import stamp
from actors.wiring import Wiring
from market_maker.core.model import Market
from market_maker.engines import CancelOutcome, PlaceOutcome
from market_maker.engines.gateway import DirectGateway, OrderGateway
from market_maker.exchange.base import Exchange, Stream
from market_maker.exchange.rest import RestClient
from market_maker.exchange.types import OrderUpdate, StreamStatus, UserEvent

log = logging.getLogger("market_maker.exchange_actor")

ORDER_LANES = 2  # a decision is at most a cancel and a place on most ticks: both go out at once


class ExchangeActor(DispatchedActor):
    """Carries out Submit / CancelOrder / QueryOrder / FetchSnapshot; relays user-stream order events."""

    def __init__(
        self,
        wiring: Wiring,
        exchange: Exchange,
        user_stream: bool = True,
        gateway: OrderGateway | None = None,
        observer: Observer | None = None,
        lanes: int = ORDER_LANES,
    ) -> None:
        super().__init__()
        self.observer = observer or Observer()
        self.wiring = wiring
        self.exchange = exchange
        # how placements and cancels are carried out: direct calls (Simple) or DBOS workflows (Durable)
        self.gateway: OrderGateway = gateway or DirectGateway(exchange)
        self.want_stream = user_stream
        self.stream: Stream | None = None
        self.probe = SendProbe(self.observer)
        self.lane_count = lanes
        self.lanes: OrderLanes | None = None
        self.desk: OrderDesk | None = None

    def _hook_rest(self) -> None:
        """Let the connector's REST client tell the probe when an order request goes out."""
        rest = getattr(self.exchange, "rest", None)  # the Binance connectors; fakes may have none
        if isinstance(rest, RestClient):
            rest.before_send = self.probe

    def on_start(self) -> None:
        self._hook_rest()
        self.lanes = OrderLanes(self.lane_count)
        self.desk = OrderDesk(self)
        self.wiring.set(w.ORDERS, self.desk)  # order requests skip this actor's mailbox from now on
        if self.want_stream:
            self.stream = self.exchange.user_stream(self._on_user_event, on_status=self._on_status)
            self.stream.start()

    def on_stop(self) -> None:
        self._stop_lanes()  # requests already given finish and tell their outcome
        self._close_stream()

    def on_failure(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._stop_lanes()
        self._close_stream()

    def _stop_lanes(self) -> None:
        if self.desk is not None:
            self.desk.closed = True  # later requests are dropped like messages to a dead actor
        if self.lanes is not None:
            self.lanes.stop()
            self.lanes = None

    def _close_stream(self) -> None:
        if self.stream is not None:
            self.stream.stop()
            self.stream = None

    # --- stream callbacks (stream thread: tell and return) ------------------------------------------------

    def _on_user_event(self, event: UserEvent) -> None:
        self.observer.user_event()
        if isinstance(event, OrderUpdate):
            if event.execution == "EXPIRED" or event.expiry_reason:  # STP and eR expiries are counted
                self.observer.order_expired(event.expiry_reason or "expired")
            self.wiring.tell(w.SLOTS, OrderEvent(event))

    def _on_status(self, status: StreamStatus) -> None:
        if status.resync:  # an unreadable event was dropped: the reconcile finds what it carried
            log.info("user stream: %s: resyncing", status.reason)
            self.wiring.tell(w.RECONCILER, StreamReconnected())
            return
        self.observer.stream("user", status.connected, status.reconnect)
        if status.connected:
            log.info("user stream connected%s", " again: resyncing" if status.reconnect else "")
            if status.reconnect:
                self.wiring.tell(w.RECONCILER, StreamReconnected())
        else:
            (log.info if status.reason == "stopped" else log.warning)(  # our own stop: no warning
                "user stream down: %s", status.reason or "disconnected"
            )

    # --- requests --------------------------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        handlers: dict[type, Callable[[Any], None]] = {
            Submit: self._on_order_request,
            CancelOrder: self._on_order_request,
            QueryOrder: self._after_lanes(self._query),
            FetchSnapshot: self._after_lanes(self._snapshot),
        }
        handler = handlers.get(type(message))
        if handler is None:
            log.warning("exchange actor: unexpected message %r", message)
            return None
        handler(message)
        return None

    def _reply(self, message: Any) -> None:
        self.wiring.tell(w.SLOTS, message)

    def _on_order_request(self, m: Submit | CancelOrder, sender: bool = False) -> None:
        """Hand a placement or cancel to a lane (the one already working for its client id, if any).
        Runs on this actor's thread (from its mailbox) or on the ``sender``'s (through the order desk):
        there, when the gateway can write the request at once and no earlier request for its client id is
        still on a lane, the request is written here and its lane only waits for the answer."""
        hops = stamp(m.hops) if m.origin_ns else ()
        lanes = self.lanes
        if lanes is None:  # not started (or stopping): carry it out here
            if isinstance(m, Submit):
                self._submit(m, hops)
            else:
                self._cancel(m, hops)
            return
        if sender and not lanes.has(m.client_id):
            answer = self._send_now(m, hops)
            if answer is not None:
                lanes.submit(m.client_id, answer)
                return
        job = partial(self._submit, m, hops) if isinstance(m, Submit) else partial(self._cancel, m, hops)
        lanes.submit(m.client_id, job)
        if sender:
            # Let the lane take the GIL now: it was woken, but would otherwise wait until this thread
            # blocks (the next commit) or the 5 ms switch interval passes before sending the request.
            hand_off()

    def _send_now(self, m: Submit | CancelOrder, hops: tuple[int, ...]) -> Callable[[], None] | None:
        """Write ``m`` on this thread if the gateway can without waiting; the lane job that then waits for
        its answer and replies (None: nothing was written)."""
        place = isinstance(m, Submit)
        send = getattr(self.gateway, "send_place" if place else "send_cancel", None)
        if send is None:
            return None
        probe = self.probe
        probe.arm(m.origin_ns, "place" if place else "cancel", stamp(hops) if hops else ())
        try:
            if isinstance(m, Submit):
                answer = send(m.side, m.price, m.qty, m.client_id, reduce_only=m.reduce_only)
            else:
                answer = send(m.client_id)
        finally:
            sent = probe.take()
        if answer is None:
            return None
        return partial(self._answered, m, answer, sent)

    def _answered(self, m: Submit | CancelOrder, answer: Callable[[], Any], sent: Any) -> None:
        """On a lane: report the write (metrics), wait for the answer, reply as for any request."""
        self.probe.report(sent)
        out = answer()
        if isinstance(m, Submit):
            self._place_reply(m, out)
        else:
            self._cancel_reply(m, out)

    def _after_lanes(self, handler: Callable[[Any], None]) -> Callable[[Any], None]:
        def wait_then(m: Any) -> None:
            if self.lanes is not None:
                self.lanes.drain()  # every order request given before this one has told its outcome
            handler(m)

        return wait_then

    def _submit(self, m: Submit, hops: tuple[int, ...] = ()) -> None:
        self.probe.arm(m.origin_ns, "place", stamp(hops) if hops else ())
        try:
            out = self.gateway.place(m.side, m.price, m.qty, m.client_id, reduce_only=m.reduce_only)
        finally:
            self.probe.disarm()
        self._place_reply(m, out)

    def _place_reply(self, m: Submit, out: PlaceOutcome) -> None:
        if out.status == "accepted" and out.order is not None:
            self._reply(Accepted(m.client_id, out.order))
        elif out.status == "rejected":
            # Definitely not executed: the slot goes back with a back-off and is tried again later.
            self._reply(Rejected(m.client_id, out.reason))
        else:
            self._reply(Unknown(m.client_id, out.reason))

    def _cancel(self, m: CancelOrder, hops: tuple[int, ...] = ()) -> None:
        self.probe.arm(m.origin_ns, "cancel", stamp(hops) if hops else ())
        try:
            out = self.gateway.cancel(m.client_id)
        finally:
            self.probe.disarm()
        self._cancel_reply(m, out)

    def _cancel_reply(self, m: CancelOrder, out: CancelOutcome) -> None:
        if out.status == "cancelled" and out.order is not None:
            self._reply(Cancelled(m.client_id, out.order))
        else:
            self._reply(CancelFailed(m.client_id, out.reason, not_found=out.status == "not_found"))

    def _query(self, m: QueryOrder) -> None:
        try:
            order = self.exchange.get_order(m.client_id)
            fills: tuple[Any, ...] = ()
            if m.trades and order is not None and order.executed_qty > 0:
                trades = self.exchange.recent_trades(start_ms=m.since_ms, limit=1000)
                fills = tuple(f for f in trades if f.client_id == m.client_id)
        except Exception as exc:
            self._reply(OrderQueried(m.client_id, None, (), failed=f"{type(exc).__name__}: {exc}"))
        else:
            self._reply(OrderQueried(m.client_id, order, fills))

    def _snapshot(self, m: FetchSnapshot) -> None:
        try:
            opened = self.exchange.open_orders()
            fills = self.exchange.recent_trades(start_ms=m.since_ms, limit=1000)
            position = self.exchange.position()
            cash = self.exchange.balances().get(self.exchange.symbol_rules().quote_asset)
            t = self.exchange.server_time()
        except Exception as exc:
            self._reply(SnapshotFailed(f"{type(exc).__name__}: {exc}"))
        else:
            entry = position.entry_price if self.exchange.market is Market.USDM else Decimal(0)
            total = cash.total if cash is not None else Decimal(0)
            self._reply(ExchangeSnapshot(tuple(opened), tuple(fills), position.qty, t, total, entry))


class OrderDesk:
    """The exchange actor's order requests without its mailbox (one thread hop fewer per order): the
    slot manager tells Submit / CancelOrder to ``w.ORDERS`` and they go straight to an order lane.

    Order is kept: a request is on its lane (counted by :meth:`OrderLanes.drain`) when ``tell`` returns,
    so a query or snapshot told to the exchange actor afterwards still waits for it.
    """

    def __init__(self, actor: ExchangeActor) -> None:
        self.actor = actor
        self.closed = False

    def tell(self, message: Any) -> None:
        """Hand a Submit or CancelOrder to a lane; raises ActorDeadError once the exchange actor stopped."""
        if self.closed:
            raise pykka.ActorDeadError("the exchange actor's order desk is closed")
        if not isinstance(message, (Submit, CancelOrder)):  # a tuple: no UnionType built per call
            raise TypeError(f"order desk: only Submit and CancelOrder, not {type(message).__name__}")
        self.actor._on_order_request(message, sender=True)
