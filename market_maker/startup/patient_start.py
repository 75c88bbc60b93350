"""Start-up waits out a spent request budget or an IP ban instead of exiting.

A process started right after another one spent the exchange's request-weight minute (or drew a 429
or a 418) used to exit at once: its first requests found the limiter's wait longer than an actor may
block. At start-up nothing trades yet, so waiting is the right answer: the start-up thread's requests
wait out the window, Retry-After or ban (sending nothing meanwhile), one log line says how long and
why, and SIGTERM / Ctrl-C ends the wait at once (:class:`WaitStopped`, exit 0).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from market_maker.exchange.ratelimit import RateLimiter, WaitStopped

__all__ = ["WaitStopped", "patient_start"]

log = logging.getLogger("market_maker.run")


def _on_wait(seconds: float, why: str) -> None:
    log.warning(
        "start-up waits %.0f s for %s before sending anything (SIGTERM or Ctrl-C stops)", seconds, why
    )


@contextmanager
def patient_start(exchange: Any, stop: threading.Event) -> Iterator[None]:
    """Within the block, this thread's exchange requests wait as long as the exchange's limits require.

    A connector without a rate limiter (none in this code base) is left as it is.
    """
    limiter = getattr(getattr(exchange, "rest", None), "limiter", None)
    if not isinstance(limiter, RateLimiter):
        yield
        return
    with limiter.patient(stop, _on_wait):
        yield
