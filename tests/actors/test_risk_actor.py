"""The risk actor on its own thread: what it tells the strategy and the slot manager is the core's state.

Closed candles move the dynamic interval exactly as folding the core's per-candle step does (the step
the backtester's series are proven equal to); a breaker trip from reconciliation halts with the
configured cooldown, survives a restart through the store, and a ``resume`` control row resets it.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pykka
from actor_waits import wait_for

from actors import wiring as w
from actors.messages import CandleClosed, Republish, RiskUpdate, TripBreaker
from actors.risk import RiskActor
from actors.wiring import Wiring
from market_maker.core.atr import SCALE
from market_maker.core.grid import GridParams
from market_maker.core.interval import IntervalParams
from market_maker.core.model import Candle
from market_maker.core.params import TradingParams
from market_maker.core.risk import RiskParams, start_risk
from market_maker.core.rules import SymbolRules
from market_maker.core.series import close_candles
from market_maker.store import Store, open_store
from market_maker.store.controls import request_resume

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))
IV = 1000
RISK = RiskParams(atr_period=3, baseline_atr=800 * SCALE, stale_price_ms=0, cooldown_ms=3_600_000)
DYNAMIC = IntervalParams(base=IV, min_interval=500, max_interval=4000)


class Listener(pykka.ThreadingActor):
    """Stands where the strategy (or the slot manager) listens; keeps every RiskUpdate it is told."""

    def __init__(self) -> None:
        super().__init__()
        self.updates: list[RiskUpdate] = []

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, RiskUpdate):
            self.updates.append(message)
        return list(self.updates)


def _start(store: Store) -> tuple[Any, Any, Any]:
    params = TradingParams(RULES, GridParams(5, 5, IV, 10_000), RISK, IV, DYNAMIC)
    wiring = Wiring()
    strategy, slots = Listener.start(), Listener.start()
    wiring.set(w.STRATEGY, strategy)
    wiring.set(w.SLOTS, slots)
    risk = RiskActor.start(wiring, store, params, start_risk(RISK), IV, clock_s=0.05)
    wiring.set(w.RISK, risk)
    return risk, strategy, slots


def _updates(listener: Any) -> list[RiskUpdate]:
    got = listener.ask("updates?", timeout=30)
    assert isinstance(got, list)
    return got


def _stop(*refs: Any) -> None:
    for ref in refs:
        ref.stop()


def _candles() -> list[Candle]:
    """A calm hour, then a wild one, then calm again (true ranges in ticks)."""
    ranges = [400] * 6 + [3000] * 6 + [400] * 8
    return [Candle(i * 60_000, 100_000, 100_000 + r, 100_000, 100_000) for i, r in enumerate(ranges)]


def test_candles_move_the_interval_as_the_core_step_does(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "db.sqlite"), "t1", "BTCUSDT", busy_timeout_s=60)
    risk, strategy, slots = _start(store)
    try:
        for c in _candles()[:2]:
            risk.tell(CandleClosed(c))
        risk.ask(Republish(), timeout=30)
        assert _updates(strategy)[-1].interval == IV  # two candles are no 3-candle ATR: nothing to follow yet
        for c in _candles()[2:]:
            risk.tell(CandleClosed(c))
        risk.ask(Republish(), timeout=30)  # every candle handled; what it told is in the listeners' mailboxes
        told = _updates(strategy)
        want_risk, want_interval = close_candles(start_risk(RISK), IV, _candles(), RISK, DYNAMIC)
        assert told[-1] == RiskUpdate(want_risk, want_interval)  # the Republish: the core's state, exactly
        told_slots = [u.interval for u in _updates(slots)]  # also told when a trigger changes
        intervals = [v for i, v in enumerate(told_slots) if i == 0 or v != told_slots[i - 1]]
        steps = [
            close_candles(start_risk(RISK), IV, _candles()[: n + 1], RISK, DYNAMIC)[1] for n in range(20)
        ]
        changes = [v for i, v in enumerate(steps) if v != (steps[i - 1] if i else IV)]
        assert intervals == [IV, *changes]  # the start, then each interval change, in order
        assert (
            changes[0] == 500 and max(changes) > 3 * IV and intervals[-1] < max(changes)
        )  # calm, wild, calm
    finally:
        _stop(risk, strategy, slots)


def test_a_trip_halts_until_resumed_and_a_restart_remembers_it(tmp_path: Path) -> None:
    db = str(tmp_path / "db.sqlite")
    store = open_store(db, "t1", "BTCUSDT", busy_timeout_s=60)
    risk, strategy, slots = _start(store)
    try:
        before = int(time.time() * 1000)
        risk.tell(TripBreaker("position drift 0.01 beyond 0.005"))
        risk.tell(TripBreaker("position drift 0.02 beyond 0.005"))  # already halted: no new reason
        risk.ask(Republish(), timeout=30)
        halted = _updates(slots)[-1].risk
        assert halted.halted and halted.halt_reason == "position drift 0.01 beyond 0.005"
        assert (
            before + RISK.cooldown_ms <= halted.halted_until_ms <= int(time.time() * 1000) + RISK.cooldown_ms
        )
        assert sum(u.risk.halted for u in _updates(slots)) == 1  # told once
    finally:
        _stop(risk, strategy, slots)
    store = open_store(db, "t1", "BTCUSDT", busy_timeout_s=60)
    risk, strategy, slots = _start(store)  # a restart: the halt comes back from the store
    try:
        wait_for("the restarted actor's first update", lambda: bool(_updates(slots)))
        assert _updates(slots)[0].risk.halt_reason == halted.halt_reason
        request_resume(store)  # what `market_maker resume` writes
        wait_for("the resume applied", lambda: not _updates(slots)[-1].risk.halted)
        assert not _updates(strategy)[-1].risk.buys_blocked
    finally:
        _stop(risk, strategy, slots)
