"""CleanupActor: the stale-order cleanup's schedule (the rule itself: ``market_maker/core/cleanup.py``)."""

from __future__ import annotations

from typing import Any

from actors import wiring as w
from actors.dispatch import DispatchedActor
from actors.messages import CleanupDue, TimerTick
from actors.timers import Timers
from actors.wiring import Wiring


class CleanupActor(DispatchedActor):
    """Tells the slot manager CleanupDue every ``interval_s``."""

    def __init__(self, wiring: Wiring, interval_s: float, stale_after_s: float) -> None:
        super().__init__()
        self.wiring = wiring
        self.interval_s = interval_s
        self.due = CleanupDue(int(stale_after_s * 1000))
        self.timers: Timers | None = None

    def on_start(self) -> None:
        self.timers = Timers(self.actor_ref)
        self.timers.start("cleanup", self.interval_s)

    def on_stop(self) -> None:
        if self.timers:
            self.timers.cancel()

    def on_failure(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.on_stop()

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, TimerTick):
            self.wiring.tell(w.SLOTS, self.due)
            if self.timers:
                self.timers.rearm(message.name)
        return None
