"""Diff depth streams (``<symbol>@depth``, ``@depth@100ms``): each event carries the level changes since
the previous one, numbered so that a client can keep a local book from a ``/depth`` snapshot.

Update ids are the hub's: one per market print, shared with ``lastUpdateId`` of REST depth. An event of a
symbol covers ids ``U`` (first) to ``u`` (last); the next one starts at ``u + 1``, and USD-M events also
carry ``pu``, the previous event's ``u``. Binance's recipe then works: buffer events, fetch a snapshot,
drop events with ``u <= lastUpdateId``, apply the rest (size "0" removes a level).

Events go out at most once per update speed of market time (spot ``@depth`` 1000 ms, USD-M 250 ms,
``@100ms``, ``@250ms``, ``@500ms``), and only when the book changed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DepthStep:
    """One event's span: ids ``first``..``last``, the previous event's ``last`` and the two touches."""

    first: int
    last: int
    prev_last: int
    before: tuple[int, int]
    after: tuple[int, int]


@dataclass(slots=True)
class _Cursor:
    touch: tuple[int, int]
    last_id: int
    pushed_ms: int
    step: DepthStep | None = None  # the event of update ``last_id`` (several subscribers share it)


class DepthDiffs:
    """Where each (symbol, speed) diff stream stands."""

    def __init__(self) -> None:
        self._cursors: dict[tuple[str, int], _Cursor] = {}

    def step(
        self, symbol: str, speed_ms: int, touch: tuple[int, int], update_id: int, time_ms: int
    ) -> DepthStep | None:
        """The event due now on (symbol, speed) at ``update_id``, or None (too soon, or no change). The
        first call only starts the stream: its event is a snapshot's business."""
        cur = self._cursors.get((symbol, speed_ms))
        if cur is None:
            self._cursors[(symbol, speed_ms)] = _Cursor(touch, update_id, time_ms)
            return None
        if cur.last_id == update_id:
            return cur.step
        if time_ms - cur.pushed_ms < speed_ms or touch == cur.touch:
            return None
        step = DepthStep(cur.last_id + 1, update_id, cur.last_id, cur.touch, touch)
        cur.touch, cur.last_id, cur.pushed_ms, cur.step = touch, update_id, time_ms, step
        return step

    def start(self, symbol: str, speed_ms: int, touch: tuple[int, int], update_id: int) -> None:
        """Start a stream at the current book (a first subscriber), unless it runs already; its first
        event goes out with the next print that changes the book."""
        self._cursors.setdefault((symbol, speed_ms), _Cursor(touch, update_id, -speed_ms))
