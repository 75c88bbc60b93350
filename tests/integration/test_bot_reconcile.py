"""Reconciliation on the simulator: foreign orders, adoption, orphans, position drift, cancel on exit."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest
from invariants import SYMBOL, BotRun, bot_run, make_config

from actors import wiring as w
from actors.messages import ReconcileDue
from actors.system import StartError
from market_maker.core.model import Side, SlotState
from market_maker.exchange.base import Exchange
from market_maker.exchange.factory import make_exchange


def _human(run: BotRun) -> Exchange:
    """A second client on the same account: what a person trading by hand would do."""
    ex = make_exchange("spot", run.sim.rest_url, run.sim.ws_url, run.key, run.secret, symbol=SYMBOL)
    ex.start()
    return ex


def _reconcile(run: BotRun) -> None:
    assert run.system is not None
    run.system.wiring.tell(w.SLOTS, ReconcileDue())


def test_foreign_orders_are_left_alone_and_cancel_on_exit_cancels_only_our_own(tmp_path: Path) -> None:
    with bot_run(tmp_path, bot={"id": "t1", "cancel_on_exit": True}) as run:
        human = _human(run)
        foreign = human.place(Side.BUY, run.rules.price_to_ticks("90000"), 100, "manual_order_1")
        run.foreign_order_ids.add(foreign.order_id)
        run.price("100000")
        _reconcile(run)
        run.settle()
        assert len(run.control.open_orders(run.key, SYMBOL)) == 4  # three of ours + the foreign one
        run.stop()
        left = run.control.open_orders(run.key, SYMBOL)
        assert [o["clientOrderId"] for o in left] == ["manual_order_1"]
        run.start()  # the book agrees: nothing of ours is working any more
        assert not any(s.working for s in run.status().book)
        human.close()


def test_a_lost_database_adopts_our_open_orders_instead_of_doubling_them(tmp_path: Path) -> None:
    with bot_run(tmp_path) as run:
        run.price("100000")
        before = sorted(o["clientOrderId"] for o in run.own_open())
        run.stop()
        run.config = make_config(tmp_path / "fresh.sqlite")  # the same bot id, an empty database
        with pytest.raises(StartError, match="3 open order"):  # not without the operator's word
            run.start()
        run.options = dataclasses.replace(run.options, adopt=True)  # run --adopt
        run.start()
        st = run.settle()
        assert sorted(s.client_id for s in st.book if s.state is SlotState.LOCKED) == before
        run.price("100000")
        assert sorted(o["clientOrderId"] for o in run.own_open()) == before  # adopted, not re-placed


def test_an_own_order_no_slot_can_own_is_cancelled(tmp_path: Path) -> None:
    with bot_run(tmp_path) as run:
        run.price("100000")
        human = _human(run)
        level = run.rules.price_to_ticks("99990")
        slot = run.status().book.slot(level)
        assert slot is not None and slot.working
        # an order with our prefix at a level that already works another order (a stray duplicate)
        stray = f"t1_B{slot.client_id.split('_B')[1].split('_')[0]}_zz"
        human.place(Side.BUY, run.rules.price_to_ticks("99000"), 100, stray)
        _reconcile(run)
        run.settle()
        assert stray not in [o["clientOrderId"] for o in run.own_open()]
        assert slot.client_id in [o["clientOrderId"] for o in run.own_open()]
        human.close()


def test_position_drift_beyond_the_limit_trips_the_breaker(tmp_path: Path) -> None:
    with bot_run(tmp_path, risk={"max_position_drift": "0.001"}) as run:
        run.price("100000")
        human = _human(run)
        manual = human.place(Side.BUY, run.rules.price_to_ticks("99995"), 200, "manual_buy")
        run.foreign_order_ids.add(manual.order_id)
        run.control.set_price(SYMBOL, "99994")  # fills the manual buy: 0.002 BTC the bot did not trade
        run.settle()
        for _ in range(2):  # two reconciliations in a row see it (one could be a fill in flight)
            _reconcile(run)
            run.settle()
        run.wait_for(lambda st: st.halted and st.open_orders == 0, "breaker to trip on drift")
        assert run.own_open() == []  # the bot's buys are cancelled; the human's position is untouched
        assert Decimal(run.control.balances(run.key)["spot"]["BTC"]["free"]) == Decimal("0.001998")
        human.close()
