"""Stage stamps of the tick-to-order path: where each microsecond of a decision goes.

A market-data frame's arrival (``origin_ns``) starts the measurement; each hop appends its own
``time.perf_counter_ns()`` to the ``hops`` tuple that rides on Decisions -> Submit / CancelOrder, and the
send probe adds the moment the request reaches the socket. ``STAGES[i]`` names the span between stamp
``i`` and stamp ``i + 1`` of ``(origin_ns, *hops, sent_ns)``.
"""

from __future__ import annotations

import time
from itertools import pairwise

STAGES = (
    "frame off the socket -> strategy (parse, coalescing box; a thread hop if the decisions thread is busy)",
    "strategy (core decision)",
    "strategy -> slot manager (mailbox)",
    "slot manager (checks, core transition; a placement's SQLite intent commit, none for a cancel)",
    "slot manager -> order desk (tell; the log line follows it)",
    "order desk -> sender (an order lane: thread hop; none when the decision's thread writes the frame)",
    "sender -> socket (gateway, encoding, HMAC or the WebSocket frame)",
)


def stamp(hops: tuple[int, ...] = ()) -> tuple[int, ...]:
    """``hops`` with the time now appended."""
    return (*hops, time.perf_counter_ns())


def spans_us(origin_ns: int, hops: tuple[int, ...], sent_ns: int) -> list[float] | None:
    """The span of each stage in microseconds, or None when some hop was not stamped (not a full trace)."""
    points = (origin_ns, *hops, sent_ns)
    if len(points) != len(STAGES) + 1:
        return None
    return [(b - a) / 1000 for a, b in pairwise(points)]
