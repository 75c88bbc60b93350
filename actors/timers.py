"""Periodic ticks for a pykka actor: a daemon ``threading.Timer`` that re-arms only after its tick is handled.

So a slow handler never lets ticks pile up in the inbox, and a stopped actor's timer never fires again.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pykka

from actors.messages import TimerTick


class Timers:
    """The timers of one actor; the actor calls :meth:`rearm` at the end of handling a :class:`TimerTick`."""

    def __init__(self, actor_ref: pykka.ActorRef[Any]) -> None:
        self._ref = actor_ref
        self._periods: dict[str, float] = {}
        self._timers: dict[str, threading.Timer] = {}
        self._lock = threading.Lock()
        self._stopped = False

    def start(self, name: str, period_s: float, first_s: float | None = None) -> None:
        """Tick ``name`` every ``period_s`` seconds (the first after ``first_s``, default one period)."""
        self._periods[name] = period_s
        self._arm(name, period_s if first_s is None else first_s)

    def rearm(self, name: str) -> None:
        """Schedule the next tick of ``name`` one period from now."""
        period = self._periods.get(name)
        if period is not None:
            self._arm(name, period)

    def _arm(self, name: str, delay_s: float) -> None:
        with self._lock:
            if self._stopped:
                return
            timer = threading.Timer(max(delay_s, 0.0), self._fire, args=(name,))
            timer.daemon = True
            timer.name = f"timer-{name}"
            self._timers[name] = timer
            timer.start()

    def _fire(self, name: str) -> None:
        with contextlib.suppress(pykka.ActorDeadError):  # the actor stopped between arming and firing
            self._ref.tell(TimerTick(name))

    def cancel(self) -> None:
        """Stop every timer for good (on_stop / on_failure)."""
        with self._lock:
            self._stopped = True
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()
