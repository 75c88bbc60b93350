"""Requests to a running bot, through the store's control rows (the ``pause`` / ``resume`` verbs write
them: ``market_maker/commands/_control.py``).

The risk actor polls them every second: ``pause`` = "1" stops new buys (a manual risk trigger) until
it is "0"; a new ``resume`` value un-pauses and resets a halted circuit breaker.
"""

from __future__ import annotations

import time

from market_maker.store.store import Store

PAUSE_KEY = "pause"
RESUME_KEY = "resume"


def request_pause(store: Store) -> None:
    """Ask the bot to cancel its buys and place no new ones until resumed."""
    store.set_control(PAUSE_KEY, "1")


def request_resume(store: Store) -> None:
    """Ask the bot to un-pause and reset its circuit breaker."""
    with store.atomic():
        store.set_control(PAUSE_KEY, "0")
        store.set_control(RESUME_KEY, str(time.time_ns()))
