"""A graceful stop stores the fills the closing user stream never delivered (the venue filled an order,
its event was still on the way when the bot stopped, and the database holds the fill all the same),
and a step of the stop that fails does not leave an actor thread running (the process could not exit)."""

from __future__ import annotations

from pathlib import Path

import pykka
import pytest
from invariants import SYMBOL, bot_run, stored_trade_ids

from market_maker.core.model import Side
from market_maker.store import open_store


def test_a_fill_whose_event_never_arrived_is_stored_by_the_stop(tmp_path: Path) -> None:
    with bot_run(tmp_path) as run:
        st = run.price("100000")  # settled: the grid is out, nothing in flight
        top_buy = max(s.order_price for s in st.book if s.working and s.side is Side.BUY)
        assert run.control.hold_user_events(True) == 0
        # trades through the top buy: the venue fills it now, its user-stream event waits
        run.control.set_price(SYMBOL, str(run.rules.ticks_to_price(top_buy - 1)))
        (trade,) = run.venue_trades()
        assert int(trade["id"]) not in stored_trade_ids(run.config)  # the bot has not heard of it
        system = run.system
        assert system is not None
        run.stop()
        assert int(trade["id"]) in stored_trade_ids(run.config)
        assert system.fills_covered_ms is not None and system.fills_covered_ms >= int(trade["time"])
        run.control.hold_user_events(False)


def test_a_failing_stop_step_still_stops_every_actor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with bot_run(tmp_path, check=False) as run:
        run.price("100000")
        system = run.system
        assert system is not None
        actors = [ref for ref in pykka.ActorRegistry.get_all() if ref.is_alive()]
        assert actors

        def broken(timeout: float) -> None:
            raise RuntimeError("the venue answered nonsense")

        monkeypatch.setattr(system, "_sweep_fills", broken)
        run.stop()
        assert not [ref for ref in actors if ref.is_alive()]  # nothing keeps the process alive
        assert system.stop_failed == "reading the last fills"
        store = open_store(run.config.engine.database, run.config.bot.id, run.symbol)
        try:
            assert store.lock_holder() is None  # the rest of the stop ran: the trading lock is released
        finally:
            store.close()
