"""SQLite WAL checkpoints off the order path.

By default the connection whose commit takes the WAL past 1 000 pages copies them into the database file
and syncs it, inside that commit: a millisecond or more, on whichever order it was. The slot manager's
connection therefore checkpoints only as a backstop (:data:`WRITER_BACKSTOP_PAGES`), and a
:class:`Checkpointer` thread runs a PASSIVE checkpoint (it never waits for, nor blocks, the writer or
readers) on its own connection every ``every_s`` seconds. Durability is the WAL's either way: a
checkpoint only moves committed pages into the main file.
"""

from __future__ import annotations

import logging
import threading

from market_maker.store.errors import StoreError
from market_maker.store.store import Store

log = logging.getLogger(__name__)

WRITER_BACKSTOP_PAGES = 10_000  # the writer checkpoints itself only if the thread falls this far behind
EVERY_S = 1.0  # about 500 WAL pages a second at 25 decisions a second: well under SQLite's 1 000


class Checkpointer:
    """A daemon thread checkpointing ``store``'s WAL every ``every_s`` seconds until :meth:`stop`."""

    def __init__(self, store: Store, every_s: float = EVERY_S) -> None:
        self.store = store
        self.every_s = every_s
        self.passes = 0  # checkpoints run
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)

    def start(self) -> Checkpointer:
        """Start the thread; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """End the thread (its connection closed) and wait for it."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(10)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every_s):
                try:
                    self.store.checkpoint()
                    self.passes += 1
                except StoreError as exc:  # the next pass retries; the writer's backstop bounds the WAL
                    log.warning("%s", exc)
        finally:
            self.store.close()  # this thread's connection


def start_checkpoints(store: Store, every_s: float = EVERY_S) -> Checkpointer | None:
    """Called on the writer's thread: its commits stop checkpointing (but for the backstop) and a
    :class:`Checkpointer` takes over; None (and nothing changed) for a database that is not SQLite."""
    if not store.defer_checkpoints(WRITER_BACKSTOP_PAGES):
        return None
    return Checkpointer(store, every_s).start()
