"""ReconcilerActor: the reconciliation schedule (periodic, and at once after a user-stream reconnect).

It only decides *when*; the slot manager fetches a snapshot through the exchange actor and applies it.
"""

from __future__ import annotations

from typing import Any

from actors import wiring as w
from actors.dispatch import DispatchedActor
from actors.messages import ReconcileDue, StreamReconnected, TimerTick
from actors.timers import Timers
from actors.wiring import Wiring


class ReconcilerActor(DispatchedActor):
    """Tells the slot manager ReconcileDue every ``interval_s`` and after every stream reconnect."""

    def __init__(self, wiring: Wiring, interval_s: float) -> None:
        super().__init__()
        self.wiring = wiring
        self.interval_s = interval_s
        self.timers: Timers | None = None
        self.runs = 0

    def on_start(self) -> None:
        self.timers = Timers(self.actor_ref)
        self.timers.start("reconcile", self.interval_s)

    def on_stop(self) -> None:
        if self.timers:
            self.timers.cancel()

    def on_failure(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.on_stop()

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, TimerTick | StreamReconnected):
            self.runs += 1
            self.wiring.tell(w.SLOTS, ReconcileDue())
        if isinstance(message, TimerTick) and self.timers:
            self.timers.rearm(message.name)
        return None
