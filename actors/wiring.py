"""Who talks to whom: a name -> actor reference table that the supervisor updates after a restart.

Actors never hold each other's references directly; they ``tell`` by name, so a restarted actor is
reached at once. A message to an actor that is dead (being restarted) is logged and dropped: every
piece of state that matters is in the store or is re-read from the exchange by reconciliation.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

import pykka

log = logging.getLogger(__name__)

PRICE = "price"
RISK = "risk"
STRATEGY = "strategy"
SLOTS = "slots"
EXCHANGE = "exchange"
RECONCILER = "reconciler"
CLEANUP = "cleanup"
ORDERS = "orders"  # the exchange actor's order desk: Submit / CancelOrder straight to an order lane


class Tellable(Protocol):
    """What a name points at: an actor reference, or an object that takes messages the same way."""

    def tell(self, message: Any) -> None:
        """Deliver ``message`` without waiting; raises pykka.ActorDeadError when no longer running."""


class Wiring:
    """Thread-safe table of the current actor references."""

    def __init__(self) -> None:
        self._refs: dict[str, Tellable] = {}
        self._lock = threading.Lock()

    def set(self, name: str, ref: Tellable) -> None:
        """Point ``name`` at ``ref`` (at start and after a restart)."""
        with self._lock:
            self._refs[name] = ref

    def get(self, name: str) -> Any:
        """The current reference of ``name`` (None before it started)."""
        with self._lock:
            return self._refs.get(name)

    def tell(self, name: str, message: Any) -> bool:
        """Send ``message`` to ``name``; False (and a debug line) when it is not running."""
        with self._lock:  # get() written out: this is on every tick's way to the slot manager
            ref = self._refs.get(name)
        if ref is None:
            log.debug("no %s actor for %s", name, type(message).__name__)
            return False
        try:
            ref.tell(message)
        except pykka.ActorDeadError:
            log.debug("%s actor is dead: %s dropped", name, type(message).__name__)
            return False
        return True
