"""Exchange faults on the simulator: post-only rejects, partial fills, unknown outcomes, a restart."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

from invariants import SYMBOL, BotRun, bot_run, stored_book

from market_maker.core.model import Side, SlotState


def _open(run: BotRun, side: str) -> list[dict[str, str]]:
    return sorted((o for o in run.own_open() if o["side"] == side), key=lambda o: Decimal(o["price"]))


def _ticks(run: BotRun, price: str) -> int:
    return run.rules.price_to_ticks(price)


def test_post_only_rejects_go_back_with_back_off_and_are_retried(
    tmp_path: Path, engine: dict[str, str]
) -> None:
    with bot_run(tmp_path, engine=engine) as run:
        run.price("100000")
        run.control.set_latency(300)  # orders reach the venue late ...
        run.control.set_price(SYMBOL, "100100")
        level = _ticks(run, "100090")
        run.wait_for(
            lambda st: (s := st.book.slot(level)) is not None and s.state is SlotState.PENDING, "submit"
        )
        run.control.set_price(SYMBOL, "100060")  # ... after the market fell below them: they would take
        rejected = run.wait_for(
            lambda st: (s := st.book.slot(level)) is not None and s.rejects > 0, "post-only reject"
        ).book.slot(level)
        assert rejected is not None and rejected.state is SlotState.FREE and rejected.backoff_until_ms > 0
        run.control.set_latency(0)
        assert any(o.status == "REJECTED" and o.level == level for o in run.store_orders())
        run.wait_for(lambda st: time.time() * 1000 > rejected.backoff_until_ms, "back-off to pass")
        run.price("100100.01")  # the level is in the window again: retried with a new client id
        retried = run.status().book.slot(level)
        assert retried is not None and retried.state is SlotState.LOCKED
        assert retried.client_id != rejected.client_id
        assert Decimal("100090") in [Decimal(o["price"]) for o in _open(run, "BUY")]


def test_partial_fill_then_cancel_keeps_the_partial_position_and_sells_it(
    tmp_path: Path, engine: dict[str, str]
) -> None:
    with bot_run(tmp_path, engine=engine) as run:
        run.price("100000")
        run.control.force_partial_fills(True)
        st = run.price("99989.99")  # the buy at 99990 fills half
        slot = st.book.slot(_ticks(run, "99990"))
        assert slot is not None and slot.state is SlotState.LOCKED and slot.order_filled == 50
        (venue_order,) = [o for o in _open(run, "BUY") if o["price"] == "99990.00000000"]
        assert Decimal(venue_order["executedQty"]) == Decimal("0.0005")
        run.control.force_partial_fills(False)
        st = run.price("100100")  # trailing cancels the half-filled buy: the slot keeps what it bought
        slot = st.book.slot(_ticks(run, "99990"))
        assert slot is not None and slot.held == 49  # 0.0005 BTC less the 0.0000005 BTC fee, whole steps
        (sell,) = _open(run, "SELL")
        assert Decimal(sell["origQty"]) == Decimal("0.00049") and Decimal(sell["price"]) == Decimal("100110")
        st = run.price("100110.01")
        assert st.round_trips == 1


def test_a_place_whose_answer_timed_out_is_resolved_by_client_id_not_resent(
    tmp_path: Path, engine: dict[str, str]
) -> None:
    with bot_run(tmp_path, engine=engine) as run:
        run.control.timeout_after_accept_next(1, hold_seconds=0.5)  # accepted, then -1007 "timeout"
        run.price("100000")
        st = run.settle()
        assert sorted(o["price"] for o in _open(run, "BUY")) == [
            "99970.00000000",
            "99980.00000000",
            "99990.00000000",
        ]
        assert len(run.own_open()) == 3  # one order per level: the uncertain one was queried, not re-sent
        assert all(s.state is SlotState.LOCKED and not s.unknown for s in st.book)
        statuses = [o.status for o in run.store_orders()]
        assert statuses.count("NEW") == 3 and len(statuses) == 3


def test_restart_with_orders_open_and_fills_while_down_matches_the_exchange(
    tmp_path: Path, engine: dict[str, str]
) -> None:
    with bot_run(tmp_path, engine=engine) as run:
        run.price("100000")
        assert len(_open(run, "BUY")) == 3
        run.stop()  # orders stay open (cancel_on_exit is off)
        run.control.set_price(SYMBOL, "99975")  # while the bot is down, two buys fill
        assert len(run.venue_trades()) == 2
        run.start()  # reconciles (open orders, trades since the last stored one) before trading
        book = run.status().book
        assert {s.level: (s.state, s.held) for s in book} == {
            _ticks(run, "99990"): (SlotState.FILLED, 99),
            _ticks(run, "99980"): (SlotState.FILLED, 99),
            _ticks(run, "99970"): (SlotState.LOCKED, 0),
        }
        assert stored_book(run.config).held_total == 198
        run.price("99975")  # now it trades on: take-profits for both positions
        sells = _open(run, "SELL")
        assert [Decimal(o["origQty"]) for o in sells] == [Decimal("0.00099")] * 2
        assert all(o["side"] == Side.SELL.value for o in sells)


def test_a_take_profit_that_filled_while_down_is_counted_and_trading_resumes(
    tmp_path: Path, engine: dict[str, str]
) -> None:
    with bot_run(tmp_path, engine=engine) as run:
        run.price("100000")
        run.price("99989.99")  # the nearest buy fills; its take-profit goes out
        (sell,) = _open(run, "SELL")
        run.stop()
        run.control.set_price(SYMBOL, str(Decimal(sell["price"]) + Decimal("0.01")))  # it fills while down
        run.start()  # reconciliation closes the round trip before the strategy starts
        st = run.wait_for(lambda st: st.round_trips == 1, "the round trip closed while down")
        assert not st.halted
        # the risk actor saw that round trip, so the slot manager trades on: buys around the new price
        run.price("100020")
        assert _open(run, "BUY"), "no order after the restart: the bot waits for the risk actor forever"


def test_a_restart_after_every_order_filled_while_down_trades_on_the_reconciled_book(tmp_path: Path) -> None:
    # Every order the stored book works filled while the bot was down, the take-profit last. A strategy
    # deciding on the book as stored (not as reconciled) sees that sell still working below every buy
    # level, skips them all, and the cancels it asks for are of buys that no longer work: nothing ever
    # reaches the venue, so no book change ever reaches the strategy, and the grid stays frozen.
    with bot_run(tmp_path) as run:
        run.price("100000")
        run.price("99989.99")  # the nearest buy fills; its take-profit goes out at 100000
        (sell,) = _open(run, "SELL")
        assert len(_open(run, "BUY")) == 3
        run.stop()
        run.control.set_price(SYMBOL, "99950")  # while down: every buy fills ...
        run.control.set_price(SYMBOL, "100100")  # ... then the take-profit
        assert len(run.venue_trades()) == 5
        run.start()
        st = run.price("100100")  # settles: the bot has done all the core asks for on its book
        assert st.round_trips == 1 and st.open_orders > 0
        # the three positions' take-profits, and buys above the sell that filled while down
        assert [Decimal(o["price"]) for o in _open(run, "SELL")] == [Decimal("100110")] * 3
        assert [Decimal(o["price"]) for o in _open(run, "BUY")] == [
            Decimal(p) for p in ("100070", "100080", "100090")
        ]
        assert Decimal(sell["price"]) < Decimal("100070")


def test_restart_counts_the_quote_its_own_open_buys_hold_as_available(tmp_path: Path) -> None:
    # exactly enough for three buys: once they are placed, the free balance alone would not be
    with bot_run(tmp_path, sim={"seed": 7, "balances": {"USDT": "300", "BTC": "0"}}) as run:
        run.price("100000")
        assert len(_open(run, "BUY")) == 3
        run.stop()
        run.start()  # not refused as unsafe: the grid's own buys are part of the grid being checked
        assert len(run.status().book.slots) == 3
