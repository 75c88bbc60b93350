"""Order lanes: the exchange actor's placements and cancels run on a few threads, so the cancel and the
place of one decision go out together instead of the second waiting for the first one's round trip.

Rules that keep the slot book's story true:

- requests for one client id run in the order they were given, on one lane (a cancel never overtakes
  the placement it cancels);
- :meth:`OrderLanes.drain` waits until every request given so far has finished and told its outcome, so
  a query or a reconciliation snapshot taken after it sees every order sent before it (as when one
  thread did everything);
- :meth:`OrderLanes.stop` finishes what was given, then ends the threads.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger("market_maker.exchange_actor")

Job = Callable[[], None]


class OrderLanes:
    """``n`` worker threads, each with its own queue of jobs; a job never raises out of its lane."""

    def __init__(self, n: int = 2, name: str = "order-lane") -> None:
        if n < 1:
            raise ValueError(f"order lanes: need at least one lane, got {n}")
        self._cond = threading.Condition()
        self._pending = [0] * n  # jobs given and not finished, per lane
        self._owner: dict[str, int] = {}  # client id -> lane while it has a job there
        self._jobs: dict[str, int] = {}  # client id -> its jobs given and not finished
        self._queues: list[queue.SimpleQueue[tuple[str, Job] | None]] = [
            queue.SimpleQueue() for _ in range(n)
        ]
        self._threads = [
            threading.Thread(target=self._run, args=(i,), name=f"{name}-{i}", daemon=True) for i in range(n)
        ]
        for t in self._threads:
            t.start()

    def submit(self, client_id: str, job: Job) -> None:
        """Run ``job`` on the lane already working for ``client_id``, else on the least busy lane."""
        with self._cond:
            lane = self._owner.get(client_id)
            if lane is None:
                lane = min(range(len(self._pending)), key=self._pending.__getitem__)
                self._owner[client_id] = lane
            self._pending[lane] += 1
            self._jobs[client_id] = self._jobs.get(client_id, 0) + 1
        self._queues[lane].put((client_id, job))

    def has(self, client_id: str) -> bool:
        """True while a request for ``client_id`` is given and not finished (a later one must follow it)."""
        with self._cond:
            return client_id in self._owner

    def drain(self, timeout_s: float | None = None) -> bool:
        """Wait until every job given so far has finished; False when ``timeout_s`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not any(self._pending), timeout_s)

    def busy(self) -> int:
        """Jobs given and not finished yet."""
        with self._cond:
            return sum(self._pending)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish the jobs given, then end the lanes (waits at most ``timeout_s`` for each)."""
        for q in self._queues:
            q.put(None)
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout_s)

    def _run(self, lane: int) -> None:
        q = self._queues[lane]
        while (item := q.get()) is not None:
            client_id, job = item
            try:
                job()
            except Exception:  # a job reports its own errors as messages; this is a bug, keep the lane
                log.exception("order lane %d: request for %s failed unexpectedly", lane, client_id)
            finally:
                with self._cond:
                    self._pending[lane] -= 1
                    self._jobs[client_id] -= 1
                    if not self._jobs[client_id]:  # nothing of it left here: any lane may take it next
                        del self._jobs[client_id], self._owner[client_id]
                    self._cond.notify_all()
