"""Orders written by the decision's own thread: through the order desk, a gateway that can write a
request at once (the WebSocket API) writes it on the sender's thread, and an order lane only waits for
the answer; a request whose client id still has one on a lane goes behind it, as before."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from actors import wiring as w
from actors.exchange_actor import ExchangeActor
from actors.messages import CancelFailed, CancelOrder, QueryOrder, Rejected, Submit
from actors.wiring import Wiring
from market_maker.core.model import Side
from market_maker.durable.outcomes import CancelOutcome, PlaceOutcome


class Replies:
    """Stands in for the slot manager: keeps what the exchange actor tells it."""

    def __init__(self) -> None:
        self.got: list[Any] = []

    def tell(self, message: Any) -> None:
        self.got.append(message)


class Gateway:
    """Writes at once when allowed (``writes``); each answer waits for ``release``."""

    def __init__(self, writes: bool = True) -> None:
        self.writes = writes
        self.events: list[tuple[str, str, str]] = []
        self.release = threading.Event()

    def _note(self, what: str, client_id: str) -> None:
        self.events.append((what, client_id, threading.current_thread().name))

    def send_place(
        self, side: Side, price: int, qty: int, client_id: str, *, reduce_only: bool = False
    ) -> Callable[[], PlaceOutcome] | None:
        if not self.writes:
            return None
        self._note("written", client_id)

        def answer() -> PlaceOutcome:
            self.release.wait(10)
            self._note("answered", client_id)
            return PlaceOutcome(client_id, "rejected", reason="test")

        return answer

    def send_cancel(self, client_id: str) -> Callable[[], CancelOutcome] | None:
        if not self.writes:
            return None
        self._note("written", client_id)
        return lambda: CancelOutcome(client_id, "not_found", reason="test")

    def place(
        self, side: Side, price: int, qty: int, client_id: str, *, reduce_only: bool = False
    ) -> PlaceOutcome:
        self._note("lane place", client_id)
        return PlaceOutcome(client_id, "rejected", reason="test")

    def cancel(self, client_id: str) -> CancelOutcome:
        self._note("lane cancel", client_id)
        return CancelOutcome(client_id, "not_found", reason="test")


class Exchange:
    """Only what the actor's query needs."""

    def __init__(self) -> None:
        self.queried_at: float = 0.0

    def get_order(self, client_id: str) -> None:
        self.queried_at = time.monotonic()


def start(gateway: Gateway) -> tuple[Wiring, Replies, Any, Exchange]:
    wiring, replies, exchange = Wiring(), Replies(), Exchange()
    wiring.set(w.SLOTS, replies)
    ref = ExchangeActor.start(wiring, exchange, user_stream=False, gateway=gateway)
    deadline = time.monotonic() + 10
    while wiring.get(w.ORDERS) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return wiring, replies, ref, exchange


def wait_for(cond: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_the_desk_writes_on_the_senders_thread_and_a_lane_only_waits_for_the_answer() -> None:
    gateway = Gateway()
    wiring, replies, ref, _ = start(gateway)
    try:
        me = threading.current_thread().name
        wiring.tell(w.ORDERS, Submit("c1", Side.BUY, 100, 1))
        assert gateway.events == [("written", "c1", me)]  # written before tell returned, on this thread
        wiring.tell(w.ORDERS, CancelOrder("c2", "trailing"))
        assert gateway.events[-1] == ("written", "c2", me)  # not held back by c1's unanswered placement
        assert wait_for(lambda: any(isinstance(m, CancelFailed) for m in replies.got))
        assert not any(isinstance(m, Rejected) for m in replies.got)  # c1's answer has not come
        gateway.release.set()
        assert wait_for(lambda: any(isinstance(m, Rejected) for m in replies.got))
        answered = [e for e in gateway.events if e[0] == "answered"]
        assert answered and answered[0][2].startswith("order-lane")
    finally:
        ref.stop()


def test_a_request_behind_one_of_its_client_id_on_a_lane_waits_for_it_there() -> None:
    gateway = Gateway()
    wiring, replies, ref, _ = start(gateway)
    try:
        wiring.tell(w.ORDERS, Submit("c1", Side.BUY, 100, 1))
        wiring.tell(w.ORDERS, CancelOrder("c1", "trailing"))  # c1's placement is not answered yet
        time.sleep(0.05)
        assert [e[0] for e in gateway.events] == ["written"]  # the cancel was not written
        gateway.release.set()
        assert wait_for(lambda: len(replies.got) == 2)
        assert [type(m) for m in replies.got] == [Rejected, CancelFailed]
        assert [e[0] for e in gateway.events] == ["written", "answered", "lane cancel"]
    finally:
        ref.stop()


def test_a_query_waits_for_the_answer_of_a_request_written_before_it() -> None:
    gateway = Gateway()
    wiring, _, ref, exchange = start(gateway)
    try:
        wiring.tell(w.ORDERS, Submit("c1", Side.BUY, 100, 1))
        ref.tell(QueryOrder("c1", None, trades=False))
        time.sleep(0.1)
        assert exchange.queried_at == 0.0  # the placement's answer has not come: the query waits
        released = time.monotonic()
        gateway.release.set()
        assert wait_for(lambda: exchange.queried_at > 0)
        assert exchange.queried_at >= released
    finally:
        ref.stop()


def test_a_gateway_that_cannot_write_at_once_sends_on_a_lane() -> None:
    gateway = Gateway(writes=False)
    wiring, replies, ref, _ = start(gateway)
    try:
        wiring.tell(w.ORDERS, Submit("c1", Side.BUY, 100, 1))
        wiring.tell(w.ORDERS, CancelOrder("c2", "trailing"))
        assert wait_for(lambda: len(replies.got) == 2)
        assert sorted(e[0] for e in gateway.events) == ["lane cancel", "lane place"]
        assert all(e[2].startswith("order-lane") for e in gateway.events)
    finally:
        ref.stop()
