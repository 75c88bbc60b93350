"""Timers re-arm only after their tick is handled, and stop for good with their actor."""

from __future__ import annotations

import threading
from typing import Any

import pykka

from actors.messages import TimerTick
from actors.timers import Timers


class SlowTicker(pykka.ThreadingActor):
    """Handles each tick slowly (5x its period) and records what was waiting in its inbox meanwhile."""

    def __init__(self, period_s: float, work_s: float, done: threading.Event) -> None:
        super().__init__()
        self.period_s = period_s
        self.work_s = work_s
        self.ticks = 0
        self.queued_max = 0
        self.done = done  # set after five ticks (the test waits on it without messaging the actor)
        self.slow = threading.Event()  # never set: waiting on it is the slow work
        self.timers: Timers | None = None

    def on_start(self) -> None:
        self.timers = Timers(self.actor_ref)
        self.timers.start("t", self.period_s)

    def on_stop(self) -> None:
        assert self.timers is not None
        self.timers.cancel()

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, TimerTick):
            self.ticks += 1
            self.queued_max = max(self.queued_max, self.actor_inbox.qsize())
            self.slow.wait(self.work_s)  # a slow handler
            if self.ticks >= 5:
                self.done.set()
            assert self.timers is not None
            self.timers.rearm(message.name)
        return None


def test_a_slow_tick_never_piles_up_ticks_and_stopping_ends_them() -> None:
    done = threading.Event()
    ref = SlowTicker.start(0.01, 0.05, done)
    proxy = ref.proxy()
    assert done.wait(30), "five ticks never came"
    assert proxy.queued_max.get(timeout=10) == 0  # never a second tick waiting behind a slow one
    timers = proxy.timers.get(timeout=10)
    armed = list(timers._timers.values())
    ref.stop()
    assert armed and all(t.finished.is_set() for t in armed)  # the pending timer was cancelled
    timers.rearm("t")  # a late re-arm after stop does nothing
    assert timers._timers == {}
