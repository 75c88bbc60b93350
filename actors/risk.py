"""RiskActor: ATR, baseline, triggers, circuit breaker and the dynamic interval; tells the strategy.

The rules are the core's (:mod:`market_maker.core.risk`, :func:`market_maker.core.series.close_candle`,
the same step the backtester's series are proven equal to); this actor feeds them messages, the clock
and the control rows, and logs, saves and tells what changed.

Inputs: closed candles, market-data arrivals, closed round trips, equity, breaker trips (position
drift), and the store's control rows (``pause`` / ``resume`` written by the CLI), polled on a timer.
The persistent part of the state (breaker, loss streak, equity peak, pause) is saved through the store
whenever it changes, and loaded at start, so a restart does not forget a halt.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from actors import wiring as w
from actors.dispatch import DispatchedActor
from actors.messages import (
    CandleClosed,
    EquityUpdate,
    MarketDataSeen,
    MarketDataStale,
    Republish,
    RiskUpdate,
    RoundTripDone,
    TimerTick,
    TripBreaker,
)
from actors.observer import Observer
from actors.timers import Timers
from actors.wiring import Wiring
from market_maker.core import risk as corerisk
from market_maker.core.params import TradingParams
from market_maker.core.risk import RiskState
from market_maker.core.series import close_candle
from market_maker.ops.heartbeat import atr_price
from market_maker.store.controls import PAUSE_KEY, RESUME_KEY

if TYPE_CHECKING:
    from market_maker.store import Store

log = logging.getLogger("market_maker.risk")


def now_ms() -> int:
    """Local wall clock in ms."""
    return int(time.time() * 1000)


def risk_to_row(state: RiskState, resume_seen: str) -> dict[str, Any]:
    """The durable part of the risk state, as plain values for the store."""
    return {
        "halt_reason": state.halt_reason,
        "halted_until_ms": state.halted_until_ms,
        "consecutive_losses": state.consecutive_losses,
        "equity_peak": str(state.equity_peak) if state.equity_peak is not None else None,
        "paused": state.paused,
        "resume_seen": resume_seen,
    }


def risk_from_row(state: RiskState, row: dict[str, Any] | None) -> tuple[RiskState, str]:
    """``state`` with the durable fields of ``row`` restored; also the last resume request handled."""
    if not row:
        return state, ""
    peak = row.get("equity_peak")
    state = replace(
        state,
        halt_reason=str(row.get("halt_reason") or ""),
        halted_until_ms=int(row.get("halted_until_ms") or 0),
        consecutive_losses=int(row.get("consecutive_losses") or 0),
        equity_peak=Decimal(str(peak)) if peak is not None else None,
        paused=bool(row.get("paused", False)),
    )
    return state, str(row.get("resume_seen") or "")


class RiskActor(DispatchedActor):
    """Owns the risk state; every change is logged, saved and told to the strategy."""

    def __init__(
        self,
        wiring: Wiring,
        store: Store,
        params: TradingParams,
        risk: RiskState,
        interval: int,
        clock_s: float = 1.0,
        observer: Observer | None = None,
    ) -> None:
        super().__init__()
        self.observer = observer or Observer()
        self.wiring = wiring
        self.store = store
        self.params = params
        self.state = risk
        self.interval = interval
        self.clock_s = clock_s
        self.resume_seen = ""
        self.trip_seq = 0
        self.timers: Timers | None = None

    def on_start(self) -> None:
        self.state, self.resume_seen = risk_from_row(self.state, self.store.load_risk())
        if self.state.halted:
            log.warning("circuit breaker still halted from before: %s", self.state.halt_reason)
        self._poll_control()
        self.timers = Timers(self.actor_ref)
        self.timers.start("clock", self.clock_s)
        self._publish(force=True)

    def on_stop(self) -> None:
        if self.timers:
            self.timers.cancel()
        self.store.close()  # this thread's connection

    def on_failure(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.on_stop()

    def on_receive(self, message: Any) -> Any:
        p = self.params.risk
        before = (self.state, self.interval)
        if isinstance(message, TimerTick):
            self._poll_control()
            self.state = corerisk.on_clock(self.state, now_ms(), p)
        elif isinstance(message, MarketDataSeen):
            self.state = corerisk.on_market_data(self.state, message.time_ms)
        elif isinstance(message, MarketDataStale):
            self.state = corerisk.on_market_data_stale(self.state)
        elif isinstance(message, CandleClosed):
            self.state, self.interval = close_candle(
                self.state, self.interval, message.candle, p, self.params.dynamic
            )
        elif isinstance(message, RoundTripDone):
            rt = message.round_trip
            self.state = corerisk.on_round_trip(self.state, rt.realized, rt.time_ms, p, rt.qty)
            self.trip_seq = max(self.trip_seq, message.seq)
        elif isinstance(message, EquityUpdate):
            self.state = corerisk.on_equity(self.state, message.equity, message.time_ms, p)
            self.observer.risk(self.state, message.equity)  # equity and drawdown for the ops gauges
        elif isinstance(message, Republish):
            self.wiring.tell(w.STRATEGY, RiskUpdate(self.state, self.interval))
        elif isinstance(message, TripBreaker):
            self.state = corerisk.trip(self.state, message.reason, now_ms(), p)
        else:
            log.warning("risk: unexpected message %r", message)
        if (self.state, self.interval) != before:
            self._publish(old=before[0], old_interval=before[1])
        if isinstance(message, RoundTripDone):  # acknowledge it: the slot manager waits for this
            self.wiring.tell(w.SLOTS, RiskUpdate(self.state, self.interval, self.trip_seq))
        if isinstance(message, TimerTick) and self.timers:
            self.timers.rearm(message.name)
        return None

    def _poll_control(self) -> None:
        paused = self.store.get_control(PAUSE_KEY) == "1"
        resume = self.store.get_control(RESUME_KEY) or ""
        new_resume = bool(resume) and resume != self.resume_seen  # each request is handled once
        if new_resume:
            self.resume_seen = resume
            if self.state.halted:
                log.warning("manual resume: circuit breaker reset (was: %s)", self.state.halt_reason)
        self.state = corerisk.on_controls(self.state, paused, new_resume)

    def _publish(self, force: bool = False, old: RiskState | None = None, old_interval: int = 0) -> None:
        s = self.state
        changed_flags = old is None or (old.reasons, old.halt_reason) != (s.reasons, s.halt_reason)
        if old_interval and old_interval != self.interval:
            r = self.params.rules
            log.info(
                "interval %s -> %s (ATR %s, baseline ATR %s)",
                r.ticks_to_price(old_interval),
                r.ticks_to_price(self.interval),
                atr_price(r, s.atr.scaled),
                atr_price(r, s.baseline_scaled),
            )
        if changed_flags:
            if s.halted:
                log.warning("circuit breaker HALTED: %s (no new orders)", s.halt_reason)
            elif s.triggered:
                log.warning("risk triggered: %s (buys cancelled, no new buys)", ", ".join(s.reasons))
            else:
                log.info("risk clear: trading normally")
        durable_old = risk_to_row(old, self.resume_seen) if old is not None else None
        durable_new = risk_to_row(s, self.resume_seen)
        if force or durable_old != durable_new:
            self.store.save_risk(durable_new)
        self.observer.risk(s)
        if force or changed_flags or old_interval != self.interval:
            update = RiskUpdate(s, self.interval, self.trip_seq)
            self.wiring.tell(w.STRATEGY, update)
            self.wiring.tell(
                w.SLOTS, update
            )  # enforced there too: a decision in flight must not slip past a halt
