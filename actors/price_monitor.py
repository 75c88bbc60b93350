"""PriceMonitorActor: owns the market-data stream; turns it into coalesced price ticks and closed candles.

The stream callback (the stream's own thread) keeps only the newest price in a :class:`LatestBox` and
tells the strategy only when no tick is pending, so a burst never builds a backlog. When the decisions
thread is idle the stream's thread runs the strategy's decision (and the slot manager's cancels) itself
(:meth:`Dispatcher.run_here`), with no thread hop between the frame and the order. Market-data arrival
is reported to the risk actor at most about once a second (it clears the stale-data trigger).

Every price passes :class:`QuoteCheck` first (market_maker/core/quote_check.py): one too far from the
last trusted price is dropped like a frame the parser refused (:class:`MarketDataDropped`), with a
metric and a rate-limited log line, and a run of dropped ones tells the risk actor the feed is stale
(:class:`MarketDataStale`), which cancels working buys until a believable price arrives.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pykka

from actors import wiring as w
from actors.dispatch import DispatchedActor, Dispatcher
from actors.latest import LatestBox
from actors.messages import CandleClosed, MarketDataSeen, MarketDataStale, PriceTick
from actors.observer import Observer
from actors.wiring import Wiring
from market_maker.core.quote_check import QuoteCheck, QuoteLimits
from market_maker.exchange.base import Exchange, Stream
from market_maker.exchange.types import CandleUpdate, MarketDataDropped, MarketEvent, Quote, StreamStatus

log = logging.getLogger("market_maker.market")

SEEN_EVERY_NS = 1_000_000_000
DROP_LOG_EVERY_S = 10.0
# PriceTick has no fields and is immutable: one instance serves every tick (no constructor call per frame)
_TICK = PriceTick()


class DropLog:
    """One log line per ``every_s`` for dropped market data, saying how many were not logged."""

    def __init__(self, every_s: float = DROP_LOG_EVERY_S) -> None:
        self.every_s = every_s
        self._next = 0.0
        self._held = 0

    def __call__(self, reason: str) -> None:
        """Log ``reason`` now, or count it when a line went out less than ``every_s`` ago."""
        now = time.monotonic()
        if now < self._next:
            self._held += 1
            return
        more = f" ({self._held} more dropped since the last line)" if self._held else ""
        log.warning("market data dropped: %s%s", reason, more)
        self._next, self._held = now + self.every_s, 0


class PriceFeed:
    """The stream-thread side: coalesce quotes into ``box``; forward closed candles once each."""

    def __init__(
        self,
        wiring: Wiring,
        box: LatestBox[tuple[int, int]],
        candle_interval: str,
        observer: Observer | None = None,
        limits: QuoteLimits | None = None,
        decisions: Dispatcher | None = None,
    ) -> None:
        self.wiring = wiring
        # the strategy's dispatcher: a price tick is decided on this (the stream's) thread when it is idle
        self.decisions = decisions
        self.observer = observer or Observer()
        self.box = box
        self.candle_interval = candle_interval
        self._lock = threading.Lock()
        self._check = QuoteCheck(limits)  # under _lock: two market connections may call at once
        self._drop_log = DropLog()
        self._seen_due_ns = 0  # perf_counter_ns from which the next MarketDataSeen goes out
        self._last_candle = 0

    def on_event(self, event: MarketEvent) -> None:
        """Called on the stream thread for every market event: never blocks."""
        if isinstance(event, Quote):
            # tick-to-order latency starts when the frame came off the socket (the stream stamps it)
            received_ns = event.received_ns or time.perf_counter_ns()
            price = (event.bid + event.ask) // 2
            with self._lock:
                reason = self._check.price(price)
            if reason:
                self._dropped(reason, counted=True)
                return
            self.on_price(price, received_ns)
            # the strategy is told first: metrics and health (a Decimal price, locks) are done after
            # the decision (or while its thread wakes), not before
            self.observer.market_data(price)
            if received_ns >= self._seen_due_ns:
                # no lock: two market connections racing here at most send one MarketDataSeen more
                self._seen_due_ns = received_ns + SEEN_EVERY_NS
                self.wiring.tell(w.RISK, MarketDataSeen(int(time.time() * 1000)))
        elif isinstance(event, CandleUpdate) and event.candle.closed:
            with self._lock:
                reason = self._check.candle(event.candle)
                fresh = not reason and event.candle.open_time_ms > self._last_candle
                if fresh:
                    self._last_candle = event.candle.open_time_ms
            if reason:
                self._dropped(reason, counted=True)
            elif fresh:
                self.wiring.tell(w.RISK, CandleClosed(event.candle))
        elif isinstance(event, MarketDataDropped):
            self._dropped(event.reason, counted=False)

    def _dropped(self, reason: str, *, counted: bool) -> None:
        """One dropped frame: a metric, a rate-limited line, and the risk actor told once a run of them
        makes the feed stale (its stale-data rule cancels working buys)."""
        with self._lock:
            if not counted:
                self._check.drop(reason)
            stale_now = self._check.dropped_run == self._check.limits.stale_after
            if stale_now:
                self._seen_due_ns = 0  # the next believable price clears the trigger at once
        self.observer.market_data_dropped()
        self._drop_log(reason)
        if stale_now:
            log.warning("market data stale: %d frames dropped in a row", self._check.dropped_run)
            self.wiring.tell(w.RISK, MarketDataStale(int(time.time() * 1000)))

    def on_price(self, price: int, received_ns: int = 0) -> None:
        """Offer a price with its frame's arrival (perf_counter_ns); tell the strategy only when it had
        no tick pending."""
        if self.box.put((price, received_ns)):
            if self.decisions is None:
                self.wiring.tell(w.STRATEGY, _TICK)
            else:  # no thread hop: the decision and its cancels run here when the dispatcher is idle
                self._tick_here(self.decisions)

    def _tick_here(self, decisions: Dispatcher) -> None:
        """Tell the strategy a PriceTick through its dispatcher's :meth:`Dispatcher.tell_here` (handled on
        this thread when that one is idle); dropped with a debug line, as ``Wiring.tell`` does, when the
        strategy is not running."""
        ref = self.wiring.get(w.STRATEGY)
        if ref is None:
            log.debug("no strategy actor for PriceTick")
            return
        try:
            decisions.tell_here(ref, _TICK)
        except pykka.ActorDeadError:
            log.debug("strategy actor is dead: PriceTick dropped")


class PriceMonitorActor(DispatchedActor):
    """Starts and stops the market stream; logs its connection changes."""

    def __init__(self, wiring: Wiring, exchange: Exchange, feed: PriceFeed, stale_after_s: float) -> None:
        super().__init__()
        self.exchange = exchange
        self.feed = feed
        self.stale_after_s = stale_after_s
        self.stream: Stream | None = None

    def on_start(self) -> None:
        self.stream = self.exchange.market_stream(
            self.feed.on_event,
            interval=self.feed.candle_interval,
            on_status=self._on_status,
            stale_after_s=self.stale_after_s,
        )
        self.stream.start()

    def _on_status(self, status: StreamStatus) -> None:
        # stream thread: logging is thread-safe, and nothing here needs the actor's state
        self.feed.observer.stream("market", status.connected, status.reconnect)
        if status.connected:
            log.info("market stream connected%s", " again" if status.reconnect else "")
        else:
            # closed by our own stop: a clean stop warns of nothing
            (log.info if status.reason == "stopped" else log.warning)(
                "market stream down: %s", status.reason or "disconnected"
            )

    def on_receive(self, message: Any) -> Any:
        log.warning("price monitor: unexpected message %r", message)
        return None

    def on_stop(self) -> None:
        self._close()

    def on_failure(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._close()

    def _close(self) -> None:
        if self.stream is not None:
            self.stream.stop()
            self.stream = None
