"""Supervision: a dead actor is restarted and re-wired; too many deaths end the process with code 1."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

from invariants import BotRun, bot_run

from actors import wiring as w
from actors.messages import CandleClosed, OrderEvent
from actors.system import RunOptions


def _kill(run: BotRun, name: str) -> None:
    """Make the actor die of an unhandled exception (a malformed message it cannot handle)."""
    assert run.system is not None
    ref = run.system.wiring.get(name)
    assert ref is not None
    ref.tell(CandleClosed(None) if name == w.RISK else OrderEvent(None))  # type: ignore[arg-type]


def _restarted(run: BotRun, name: str, times: int) -> bool:
    assert run.system is not None
    ref = run.system.wiring.get(name)
    return len(run.system.restarts.get(name, [])) >= times and ref is not None and ref.is_alive()


def test_a_dead_slot_manager_is_restarted_from_the_store_and_trading_goes_on(tmp_path: Path) -> None:
    with bot_run(tmp_path) as run:
        run.price("100000")
        _kill(run, w.SLOTS)
        run.wait_for(lambda st: _restarted(run, w.SLOTS, 1) and st.reconciled, "slot manager restarted")
        st = run.price("99989.99")  # the new actor owns the old slots: the fill lands in its book
        assert st.book.held_total == 99
        assert len([o for o in run.own_open() if o["side"] == "SELL"]) == 1


def test_a_dead_risk_actor_is_restarted_and_rewired(tmp_path: Path) -> None:
    with bot_run(tmp_path) as run:
        run.price("100000")
        _kill(run, w.RISK)
        run.wait_for(lambda st: _restarted(run, w.RISK, 1), "risk actor restarted")
        st = run.price("100100")
        assert not st.buys_blocked
        buys = sorted(Decimal(o["price"]) for o in run.own_open() if o["side"] == "BUY")
        assert buys == [Decimal("100070"), Decimal("100080"), Decimal("100090")]


def test_an_actor_that_keeps_dying_ends_the_run_with_exit_code_1(tmp_path: Path) -> None:
    options = RunOptions(heartbeat_s=3600, risk_clock_s=0.2, max_restarts=1)
    with bot_run(tmp_path, options=options, check=False) as run:
        run.price("100000")
        _kill(run, w.RISK)
        run.wait_for(lambda st: _restarted(run, w.RISK, 1), "first restart")
        _kill(run, w.RISK)
        assert run.system is not None
        code = run.system.wait(threading.Event(), seconds=60)
        assert code == 1
        assert "risk actor died" in run.system.failed
        assert all(
            ref is None or not ref.is_alive() for ref in (run.system.wiring.get(n) for n in (w.SLOTS, w.RISK))
        )
