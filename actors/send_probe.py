"""Tick-to-order latency: when the order request triggered by a market-data frame reaches the socket.

The price monitor stamps each frame with ``time.perf_counter_ns()`` as it arrives; the stamp rides
along the PriceTick -> Decisions -> Submit / CancelOrder chain. The exchange actor arms this probe with
the stamp before it calls the connector, and the connector's REST connection calls the probe right
before the order request's first bytes are written to the socket (after signing, encoding, connecting),
so the measured span ends at the socket write.
The stage stamps taken on the way (actors/stages.py) are reported with it.
"""

from __future__ import annotations

import threading
import time

from actors.observer import Observer

ORDER_PATHS = ("/api/v3/order", "/fapi/v1/order")  # place (POST) and cancel (DELETE) by client id


class SendProbe:
    """Armed by an order lane for one request; reports the first order request that lane sends while armed.

    Each thread arms its own probe state (the lanes send concurrently through one REST client).
    """

    def __init__(self, observer: Observer) -> None:
        self.observer = observer
        self._local = threading.local()

    def arm(self, origin_ns: int, kind: str, hops: tuple[int, ...] = ()) -> None:
        """This thread's next order request answers the market-data frame received at ``origin_ns``
        (0: none), stamped at each hop since then with ``hops`` (actors/stages.py)."""
        self._local.armed = (origin_ns, kind, hops)

    def disarm(self) -> None:
        """The call is over: later requests (retries, queries) are not this decision's first send.

        The send seen while armed is reported now, after the request went out and its answer came
        back, so the observer's work (metrics) never delays the order's own write."""
        self.report(self.take())

    def take(self) -> tuple[int, str, tuple[int, ...], int] | None:
        """Disarm, and the send seen while armed (origin, kind, hops, sent_ns), not reported yet: the
        thread that wrote the request hands it to the one that waits for the answer (:meth:`report`)."""
        local = self._local
        local.armed = None
        sent = getattr(local, "sent", None)
        local.sent = None
        return sent

    def report(self, sent: tuple[int, str, tuple[int, ...], int] | None) -> None:
        """Tell the observer about a send :meth:`take` returned (nothing for None)."""
        if sent is not None:
            origin, kind, hops, sent_ns = sent
            self.observer.order_sent(kind, origin, sent_ns)
            self.observer.order_stages(kind, origin, hops, sent_ns)

    def __call__(self, method: str, path: str) -> None:
        """The REST connection's send hook, right before the request's first write: notes the time."""
        sent_ns = time.perf_counter_ns()
        local = self._local
        armed = getattr(local, "armed", None)
        if armed is None or not armed[0] or method not in ("POST", "DELETE") or path not in ORDER_PATHS:
            return
        local.armed = None
        local.sent = (*armed, sent_ns)
