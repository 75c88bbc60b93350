"""A graceful stop stores the fills the closing user stream never delivered: the venue filled an order,
its event was still on the way when the bot stopped, and the database holds the fill all the same."""

from __future__ import annotations

from pathlib import Path

from invariants import SYMBOL, bot_run, stored_trade_ids

from market_maker.core.model import Side


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
