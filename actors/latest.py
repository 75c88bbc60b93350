"""A one-value mailbox that keeps only the newest value: how price ticks coalesce.

The stream thread ``put``s every price; only when the box was empty does it tell the strategy, which
``take``s the newest value. Under 1 000 ticks/s the strategy's inbox holds at most one price tick.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestBox(Generic[T]):
    """Holds the newest value until taken."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: T | None = None
        self._full = False
        self.puts = 0  # values offered
        self.notifications = 0  # puts that found the box empty (one tell each)
        self.takes = 0  # values taken

    def put(self, value: T) -> bool:
        """Store ``value`` (replacing an untaken one); True when the box was empty, i.e. notify the reader."""
        with self._lock:
            self._value = value
            self.puts += 1
            was_empty = not self._full
            self._full = True
            if was_empty:
                self.notifications += 1
            return was_empty

    @property
    def pending(self) -> bool:
        """True while a value waits to be taken (a hint: the writer may put one at any moment)."""
        return self._full

    def take(self) -> T | None:
        """The newest value, emptying the box; None when nothing new arrived."""
        with self._lock:
            if not self._full:
                return None
            self._full = False
            self.takes += 1
            value, self._value = self._value, None
            return value
