"""Where trials run: local processes (the default) or a Dask distributed cluster.

Both take the :class:`~.evaluate.Bundle` once at start (forked processes inherit it; Dask scatters it to
every worker, ``broadcast=True``), then run batches of small :class:`~.evaluate.Job` values and yield
their :class:`~.evaluate.Outcome` as they finish, in any order: the driver puts them back in trial
order. Dask reschedules the tasks of a worker that dies (a worker that joins later fetches the bundle
from a peer), so a lost worker costs time, not trials.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from market_maker.backtest.optimize.evaluate import Bundle, Job, Outcome, evaluate


class Executor(Protocol):
    """Runs jobs against the bundle it was given."""

    workers: int
    name: str

    def run(self, jobs: Sequence[Job]) -> Iterator[Outcome]:
        """Yield every job's outcome, in the order they finish."""
        ...

    def close(self) -> None:
        """Release the processes or the cluster connection."""
        ...


_BUNDLE: list[Bundle] = []


def _init(bundle: Bundle) -> None:
    _BUNDLE[:] = [bundle]


def _run_local(job: Job) -> Outcome:
    return evaluate(_BUNDLE[0], job)


class LocalExecutor:
    """``processes`` forked worker processes (1: in this process)."""

    name = "local"

    def __init__(self, bundle: Bundle, processes: int | None = None) -> None:
        self.workers = max(1, processes or mp.cpu_count())
        self._bundle = bundle
        self._pool: Any = None
        if self.workers > 1:
            ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
            self._pool = ctx.Pool(self.workers, initializer=_init, initargs=(bundle,))

    def run(self, jobs: Sequence[Job]) -> Iterator[Outcome]:
        """Outcomes in the order they finish."""
        if self._pool is None:
            for job in jobs:
                yield evaluate(self._bundle, job)
            return
        yield from self._pool.imap_unordered(_run_local, jobs)

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None


class DaskExecutor:
    """Jobs as tasks on a Dask distributed cluster (a scheduler address or a connected client)."""

    name = "dask"

    def __init__(self, bundle: Bundle, scheduler: Any, retries: int = 3, timeout: float = 10.0) -> None:
        from distributed import Client

        self._own = not isinstance(scheduler, Client)
        try:
            self.client = Client(scheduler, timeout=timeout) if self._own else scheduler
        except OSError as exc:  # distributed says "Timed out trying to connect to ..."
            raise ConnectionError(f"cannot reach the Dask scheduler: {str(exc).strip()}") from None
        self._retries = retries
        threads = self.client.nthreads()
        self.workers = max(1, sum(threads.values()))
        # once per worker, not per trial; hash=False: never mistaken for another run's bundle
        self._bundle = self.client.scatter(bundle, broadcast=True, hash=False)

    def run(self, jobs: Sequence[Job]) -> Iterator[Outcome]:
        """Outcomes in the order they finish; a task whose worker died runs again elsewhere."""
        from distributed import as_completed

        futures = [
            self.client.submit(evaluate, self._bundle, job, pure=False, retries=self._retries) for job in jobs
        ]
        for future in as_completed(futures):
            yield future.result()

    def close(self) -> None:
        """Drop the bundle; disconnect when this executor opened the connection."""
        self._bundle.release()
        if self._own:
            self.client.close()
