"""Tick-to-order latency: when the order request triggered by a market-data frame reaches the socket.

The price monitor stamps each frame with ``time.perf_counter_ns()`` as it arrives; the stamp rides
along the PriceTick -> Decisions -> Submit / CancelOrder chain. The exchange actor arms this probe with
the stamp before it calls the connector, and the connector's REST client calls the probe right before
``requests`` sends the order request, so the measured span ends at the socket write, after signing.
"""

from __future__ import annotations

import time

from actors.observer import Observer

ORDER_PATHS = ("/api/v3/order", "/fapi/v1/order")  # place (POST) and cancel (DELETE) by client id


class SendProbe:
    """Armed by the exchange actor for one request; reports the first order request sent while armed."""

    def __init__(self, observer: Observer) -> None:
        self.observer = observer
        self._origin_ns = 0
        self._kind = ""

    def arm(self, origin_ns: int, kind: str) -> None:
        """The next order request answers the market-data frame received at ``origin_ns`` (0: none)."""
        self._origin_ns, self._kind = origin_ns, kind

    def disarm(self) -> None:
        """The call is over: later requests (retries, queries) are not this decision's first send."""
        self._origin_ns = 0

    def __call__(self, method: str, path: str) -> None:
        """The REST client's before-send hook: must return at once."""
        if not self._origin_ns or method not in ("POST", "DELETE") or path not in ORDER_PATHS:
            return
        sent_ns = time.perf_counter_ns()
        origin, self._origin_ns = self._origin_ns, 0
        self.observer.order_sent(self._kind, origin, sent_ns)
