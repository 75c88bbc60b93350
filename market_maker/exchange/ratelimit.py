"""A weight-aware rate limiter fed by Binance's own counters (reference §A.4, field notes).

Binance reports, on every answer, how much request weight the IP has used in the current minute
(``X-MBX-USED-WEIGHT-1M``) and, on orders, how many orders the account has sent per window
(``X-MBX-ORDER-COUNT-10S`` / ``-1D`` / ``-1M``). Header names are read case-insensitively. The limiter:

* keeps the latest counters (plus what it sent since) and, when the next request would push a counter
  past ``safety`` x its limit, waits for that window to roll over;
* after a 429 waits ``Retry-After`` seconds before sending anything;
* during a 418 ban sends nothing at all: :meth:`acquire` raises :class:`BannedError` at once;
* never sleeps longer than ``max_wait_s`` in one call: it raises :class:`RateLimitedError` instead,
  so an actor is not frozen for a minute;
* once :meth:`RateLimiter.refuse_orders` was called (the bot is stopping), sends no new order and
  ends at once a placement waiting for the order window, so a stop never waits on the limits;
* except for a thread inside :meth:`RateLimiter.patient` (start-up): that thread waits out any window,
  Retry-After or ban, however long, sending nothing meanwhile, and a stop request ends the wait with
  :class:`WaitStopped`. A fresh process after one that spent the budget must wait, not exit.

Limits come from exchangeInfo's ``rateLimits`` (:meth:`set_limits`); until then only the reactive
rules (429 / 418) apply. The clock and sleep are injected so the rules are unit-testable.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

from market_maker.exchange.codes import retry_after_seconds
from market_maker.exchange.errors import BannedError, RateLimitedError

_UNIT_S = {"S": 1, "M": 60, "H": 3600, "D": 86400}
_COUNTER = re.compile(r"^x-mbx-(used-weight|order-count)-(\d+)([smhd])$", re.IGNORECASE)
_INTERVAL_LETTER = {"SECOND": "S", "MINUTE": "M", "HOUR": "H", "DAY": "D"}


class WaitStopped(Exception):
    """A patient wait for the rate limit was ended by a stop request; nothing was sent.

    Not an :class:`~market_maker.exchange.errors.ExchangeError`: no handler of exchange failures may
    mistake a requested stop for one.
    """


@dataclass(frozen=True, slots=True)
class _Patience:
    stop: threading.Event
    on_wait: Callable[[float, str], None]  # (seconds, why) before each wait of a second or more


class Window(NamedTuple):
    """One counter: ``kind`` is "weight" or "orders", ``seconds`` the window length. A named tuple, not
    a dataclass: every request hashes its windows as dict keys, and a tuple's hash and equality are C
    (a frozen dataclass's are Python functions: ~20 us of a cold order request)."""

    kind: str
    seconds: int


@dataclass(slots=True)
class _Counter:
    used: int  # last value the server reported, plus what we sent since
    window_start: float  # start of the window the value belongs to


def limits_from_exchange_info(rate_limits: list[dict[str, object]]) -> dict[Window, int]:
    """exchangeInfo ``rateLimits`` -> {Window: limit} for REQUEST_WEIGHT and ORDERS entries."""
    out: dict[Window, int] = {}
    for item in rate_limits:
        kind = {"REQUEST_WEIGHT": "weight", "ORDERS": "orders"}.get(str(item.get("rateLimitType")))
        letter = _INTERVAL_LETTER.get(str(item.get("interval")))
        if kind is None or letter is None:
            continue
        num = item.get("intervalNum", 1)
        limit = item.get("limit")
        if not isinstance(num, int) or not isinstance(limit, int):
            continue
        out[Window(kind, num * _UNIT_S[letter])] = limit
    return out


class RateLimiter:
    """Decides when the next request may go; thread-safe."""

    def __init__(
        self,
        limits: Mapping[Window, int] | None = None,
        *,
        safety: float = 0.9,
        max_wait_s: float = 10.0,
        default_retry_after_s: float = 1.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._limits: dict[Window, int] = dict(limits or {})
        self._safety = safety
        self._max_wait_s = max_wait_s
        self._default_retry_after_s = default_retry_after_s
        self._clock = clock
        self._sleep = sleep  # None: real time (a waiting placement wakes when orders are refused)
        self._no_orders = threading.Event()
        self._lock = threading.Lock()
        self._counters: dict[Window, _Counter] = {}
        self._retry_at = 0.0  # after a 429: send nothing before this time
        self._banned_until = 0.0  # after a 418
        self._local = threading.local()  # .patience: _Patience of a thread inside patient()
        self.stats = {"rate_limited": 0, "banned": 0, "waits": 0}

    @property
    def max_wait_s(self) -> float:
        """Longest sleep one request may take before it gives up."""
        return self._max_wait_s

    @contextmanager
    def patient(self, stop: threading.Event, on_wait: Callable[[float, str], None]) -> Iterator[None]:
        """Within the block, this thread's requests wait as long as the limits require.

        Windows, Retry-After and 418 bans are waited out (nothing is sent meanwhile) instead of
        raising; ``on_wait(seconds, why)`` is called before each wait of a second or more, and a set
        ``stop`` ends the wait at once with :class:`WaitStopped`. Other threads keep ``max_wait_s``.
        """
        before = getattr(self._local, "patience", None)
        self._local.patience = _Patience(stop, on_wait)
        try:
            yield
        finally:
            self._local.patience = before

    def is_patient(self) -> bool:
        """True inside :meth:`patient` on this thread."""
        return getattr(self._local, "patience", None) is not None

    def may_wait(self, seconds: float) -> bool:
        """True when this thread may wait ``seconds`` for the limits (always, inside :meth:`patient`)."""
        return seconds <= self._max_wait_s or self.is_patient()

    def refuse_orders(self) -> None:
        """Send no new order from now on: the bot is stopping (a placement waiting gives up at once)."""
        self._no_orders.set()

    def set_limits(self, limits: Mapping[Window, int]) -> None:
        """Adopt the limits exchangeInfo announced."""
        with self._lock:
            self._limits = dict(limits)

    def limit(self, kind: str, seconds: int) -> int | None:
        """The announced limit of this counter (None until exchangeInfo named one)."""
        with self._lock:
            return self._limits.get(Window(kind, seconds))

    def used(self, kind: str, seconds: int) -> int:
        """The counter's current value (0 once its window has rolled over)."""
        with self._lock:
            now = self._clock()
            c = self._counters.get(Window(kind, seconds))
            return 0 if c is None or self._window_start(now, seconds) != c.window_start else c.used

    def banned_for(self) -> float:
        """Seconds left of a 418 ban (0 when not banned)."""
        with self._lock:
            return max(0.0, self._banned_until - self._clock())

    # --- before a request ----------------------------------------------------------------------------

    def acquire(self, weight: int, orders: int = 0) -> None:
        """Block until a request of this weight (and order count) may be sent, then count it.

        Raises :class:`BannedError` during a ban and :class:`RateLimitedError` when the wait would
        exceed ``max_wait_s``; in both cases nothing may be sent.
        """
        patience: _Patience | None = getattr(self._local, "patience", None)
        while True:
            with self._lock:
                if orders and self._no_orders.is_set():
                    raise RateLimitedError("order not sent: the bot is stopping and sends no new orders")
                now = self._clock()
                if now < self._banned_until:
                    wait, why = self._banned_until - now, "the exchange's IP ban (HTTP 418) to end"
                    if patience is None:
                        raise BannedError(
                            "IP banned (HTTP 418): nothing is sent until the ban ends", retry_after_s=wait
                        )
                else:
                    retry = self._retry_at - now
                    wait = max(retry, self._window_wait(now, weight, orders))
                    why = (
                        "the exchange's Retry-After (HTTP 429) to pass"
                        if retry >= wait
                        else "the exchange's request-weight window to roll over"
                    )
                    if wait <= 0:
                        self._count(now, weight, orders)
                        return
                    if wait > self._max_wait_s and patience is None:
                        raise RateLimitedError(
                            "rate limit reached: waiting would take longer than allowed", retry_after_s=wait
                        )
                self.stats["waits"] += 1
            if patience is None:
                if self._sleep is not None:
                    self._sleep(wait)
                elif orders:
                    self._no_orders.wait(wait)
                else:
                    time.sleep(wait)
                continue
            if wait >= 1.0:
                patience.on_wait(wait, why)
            if patience.stop.wait(wait):
                raise WaitStopped(f"stopped while waiting {wait:.0f} s for {why}")

    def try_acquire(self, weight: int, orders: int = 0) -> bool:
        """Count a request of this weight (and order count) when it may be sent right now, without
        waiting; False (nothing counted) when :meth:`acquire` would wait or raise instead."""
        with self._lock:
            if orders and self._no_orders.is_set():
                return False
            now = self._clock()
            if now < self._banned_until or now < self._retry_at:
                return False
            # one pass over the windows, checking each and noting its new count, and counting only when
            # every window lets the request go (what _window_wait then _count do, with fewer steps of cold
            # code on every order request)
            counters = self._counters
            limits = self._limits
            safety = self._safety
            counts = []
            for window in limits.keys() | counters.keys():
                cost = weight if window[0] == "weight" else orders
                if cost <= 0:
                    continue
                seconds = window[1]
                start = now - (now % seconds)
                c = counters.get(window)
                used = cost + (c.used if c is not None and c.window_start == start else 0)
                limit = limits.get(window)
                if limit is not None and used > limit * safety:
                    return False
                counts.append((window, c, used, start))
            for window, c, used, start in counts:
                if c is None or c.window_start != start:
                    counters[window] = _Counter(used, start)
                else:
                    c.used = used
            return True

    def _window_wait(self, now: float, weight: int, orders: int) -> float:
        # on every order request: the window's start is computed inline (not _window_start), a call fewer
        # per window in cold code
        wait = 0.0
        counters = self._counters
        for window, limit in self._limits.items():
            kind, seconds = window
            cost = weight if kind == "weight" else orders
            if cost <= 0:
                continue
            start = now - (now % seconds)
            c = counters.get(window)
            used = c.used if c is not None and c.window_start == start else 0
            if used + cost > limit * self._safety:
                wait = max(wait, start + seconds - now + 0.01)
        return wait

    def _count(self, now: float, weight: int, orders: int) -> None:
        counters = self._counters
        for window in self._limits.keys() | counters.keys():
            kind, seconds = window
            cost = weight if kind == "weight" else orders
            if cost <= 0:
                continue
            start = now - (now % seconds)
            c = counters.get(window)
            if c is None or c.window_start != start:
                counters[window] = _Counter(cost, start)
            else:
                c.used += cost

    @staticmethod
    def _window_start(now: float, seconds: int) -> float:
        # Binance's windows are aligned to the clock (a minute starts at :00).
        return now - (now % seconds)

    # --- after an answer -----------------------------------------------------------------------------

    def observe(self, http_status: int, headers: Mapping[str, str]) -> None:
        """Feed one answer's status and headers (counters, Retry-After) into the limiter."""
        with self._lock:
            now = self._clock()
            for key in headers:  # names only: urllib3's header dict builds its items slowly (~10 us)
                m = _COUNTER.match(key)
                if m is None:
                    continue
                try:
                    used = int(headers[key])
                except ValueError:
                    continue
                kind = "weight" if m.group(1).lower() == "used-weight" else "orders"
                window = Window(kind, int(m.group(2)) * _UNIT_S[m.group(3).upper()])
                self._counters[window] = _Counter(used, self._window_start(now, window.seconds))
            if http_status in (418, 429):
                retry = retry_after_seconds(headers) or self._default_retry_after_s
                if http_status == 418:
                    self._banned_until = max(self._banned_until, now + retry)
                    self.stats["banned"] += 1
                else:
                    self._retry_at = max(self._retry_at, now + retry)
                    self.stats["rate_limited"] += 1
