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
import os
import threading
import time

from market_maker.store.errors import StoreError
from market_maker.store.store import Store

log = logging.getLogger(__name__)

WRITER_BACKSTOP_PAGES = 10_000  # the writer checkpoints itself only if the thread falls this far behind
# the restart write's own frames (1-2): a checkpoint of no more than these restarts nothing, so an idle
# bot stops writing instead of restarting the WAL every second for its own last restart
RESTART_OWN_FRAMES = 2
RESTART_KEY = "wal_restarted_ms"  # control row the checkpointer writes to restart the WAL (see _run)
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
        background_priority()
        try:
            while not self._stop.wait(self.every_s):
                try:
                    self.run_pass()
                except StoreError as exc:  # the next pass retries; the writer's backstop bounds the WAL
                    log.warning("%s", exc)
        finally:
            self.store.close()  # this thread's connection

    def run_pass(self) -> None:
        """One PASSIVE checkpoint on the calling thread's connection; when it moved every frame into the
        database file, restart the WAL here with one small write. Otherwise the next order's commit
        restarts it and syncs its new header: measured, about 1 in 90 commits took ~1 ms, each the
        first after a checkpoint."""
        result = self.store.checkpoint()
        self.passes += 1
        if result is not None and not result[0] and result[1] > RESTART_OWN_FRAMES and result[1] == result[2]:
            self.store.set_control(RESTART_KEY, str(time.time_ns() // 1_000_000))


def background_priority() -> bool:
    """Run the calling thread at idle priority (Linux SCHED_IDLE; elsewhere as nice as allowed); True
    when it was lowered. A checkpoint copies hundreds of pages: on the bot's core (``bot.cpu``) it held
    the CPU for up to a millisecond while an order decision waited to run (tick-to-order p99 about
    1.3 ms with it at normal priority, under 1 ms without checkpoints). At idle priority the scheduler
    runs the decision first."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return True
    except (AttributeError, OSError):
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)  # Linux: this thread only
        return True
    except (AttributeError, OSError):
        return False


def start_checkpoints(store: Store, every_s: float = EVERY_S) -> Checkpointer | None:
    """Called on the writer's thread: its commits stop checkpointing (but for the backstop) and a
    :class:`Checkpointer` takes over; None (and nothing changed) for a database that is not SQLite."""
    if not store.defer_checkpoints(WRITER_BACKSTOP_PAGES):
        return None
    return Checkpointer(store, every_s).start()
