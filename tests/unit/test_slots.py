"""The slot state machine: submit, ack, reject with back-off, unknown outcomes, fills, cancels, adoption."""

from decimal import Decimal

import pytest
from core_fixtures import BTC, IV, buy_filled, fill

from market_maker.core.actions import Place
from market_maker.core.fills import adopt_order, apply_fill, apply_snapshot, cancelled, resolve_unknown
from market_maker.core.ids import decode
from market_maker.core.model import OrderSnapshot, OrderStatus, Side, SlotState
from market_maker.core.slot_events import FeeRejected, Filled, Ignored, OrderClosed, RoundTripClosed
from market_maker.core.slots import (
    SlotBook,
    SlotError,
    ack,
    cancel_failed,
    mark_unknown,
    prune,
    reject,
    request_cancel,
    submit,
)

LV = 10022000  # 100220.00


def test_submit_ack_and_unique_client_ids() -> None:
    book, cid = submit(SlotBook("mm1"), Place(LV, Side.BUY, LV, 100))
    s = book.slot(LV)
    assert s is not None and s.state is SlotState.PENDING and s.client_id == cid
    parts = decode(cid, "mm1")
    assert parts is not None and (parts.level, parts.side, parts.generation) == (LV, Side.BUY, 0)
    book = ack(book, cid)
    assert book.slot(LV).state is SlotState.LOCKED  # type: ignore[union-attr]
    assert book.buy_working_total == 100
    book, cid2 = submit(book, Place(LV - IV, Side.BUY, LV - IV, 100))
    assert cid2 != cid and decode(cid2).generation == 1  # type: ignore[union-attr]
    with pytest.raises(SlotError, match="buy requested while the slot is LOCKED"):
        submit(book, Place(LV, Side.BUY, LV, 100))


def test_reject_backs_off_exponentially_and_ack_clears_it() -> None:
    book, cid = submit(SlotBook("mm1"), Place(LV, Side.BUY, LV, 100))
    book, ev = reject(book, cid, now_ms=10_000, reason="post-only would cross")
    s = book.slot(LV)
    assert s is not None and s.state is SlotState.FREE and s.backoff_until_ms == 11_000
    assert ev[0].backoff_until_ms == 11_000
    book, cid = submit(book, Place(LV, Side.BUY, LV, 100))
    book, _ = reject(book, cid, now_ms=20_000, reason="post-only would cross")
    assert book.slot(LV).backoff_until_ms == 22_000  # type: ignore[union-attr]
    book, cid = submit(book, Place(LV, Side.BUY, LV, 100))
    book = ack(book, cid)
    s = book.slot(LV)
    assert s is not None and s.rejects == 0 and s.backoff_until_ms == 0


def test_rejected_free_slot_is_pruned_once_its_back_off_expired() -> None:
    book, cid = submit(SlotBook("mm1"), Place(LV, Side.BUY, LV, 100))
    book, _ = reject(book, cid, now_ms=0, reason="x")
    assert LV in book.slots
    assert LV in prune(book, 500).slots
    assert LV not in prune(book, 1_000).slots


def test_unknown_outcome_stays_pending_until_resolved() -> None:
    book, cid = submit(SlotBook("mm1"), Place(LV, Side.BUY, LV, 100))
    book = mark_unknown(book, cid)
    s = book.slot(LV)
    assert s is not None and s.state is SlotState.PENDING and s.unknown
    # the exchange says it never existed: back to nothing, no back-off
    gone, ev = resolve_unknown(book, cid, None, BTC, IV, 5)
    assert gone.slot(LV) is None and isinstance(ev[0], OrderClosed)
    # or it exists and partly filled: LOCKED with the partial counted
    snap = OrderSnapshot(cid, 7, Side.BUY, LV, 100, 40, OrderStatus.PARTIALLY_FILLED)
    found, ev = resolve_unknown(book, cid, snap, BTC, IV, 5)
    s = found.slot(LV)
    assert s is not None and s.state is SlotState.LOCKED and s.held == 40 and not s.unknown
    assert isinstance(ev[0], Filled) and ev[0].qty == 40


def test_partial_fills_accumulate_idempotently() -> None:
    book, cid = submit(SlotBook("mm1"), Place(LV, Side.BUY, LV, 100))
    book = ack(book, cid)
    book, _ = apply_fill(book, fill(cid, Side.BUY, LV, 30, 30, 1, "0.01"), BTC, IV)
    book, ev = apply_fill(book, fill(cid, Side.BUY, LV, 30, 30, 1, "0.01"), BTC, IV)  # duplicate
    assert ev == () and book.slot(LV).held == 30  # type: ignore[union-attr]
    book, _ = apply_fill(book, fill(cid, Side.BUY, LV, 50, 80, 3, "0.02"), BTC, IV)
    # trade 2 arrives after trade 3: its quantity is already inside cum 80, its fee still counts once
    book, ev = apply_fill(book, fill(cid, Side.BUY, LV, 20, 50, 2, "0.01"), BTC, IV)
    s = book.slot(LV)
    assert s is not None and s.held == 80 and s.fees == Decimal("0.04") and s.state is SlotState.LOCKED
    assert not any(isinstance(e, Filled) for e in ev)
    book, _ = apply_fill(book, fill(cid, Side.BUY, LV, 20, 100, 4), BTC, IV)
    s = book.slot(LV)
    assert s is not None and s.state is SlotState.FILLED and s.held == 100
    assert s.tp_price == LV + IV  # frozen at fill time


def test_cancel_with_nothing_filled_frees_and_after_partial_keeps_position() -> None:
    book, cid = submit(SlotBook("mm1"), Place(LV, Side.BUY, LV, 100))
    book = ack(book, cid)
    freed, ev = cancelled(book, cid, 0, BTC, IV, 1)
    assert freed.slot(LV) is None and freed.buy_working_total == 0 and isinstance(ev[0], OrderClosed)
    # the cancel reply reports 25 filled before a trade event arrived: the partial is kept
    kept, _ = cancelled(book, cid, 25, BTC, IV, 1)
    s = kept.slot(LV)
    assert s is not None and s.state is SlotState.FILLED and s.held == 25 and kept.held_total == 25
    # the late trade event then only adds its fee
    kept, _ = apply_fill(kept, fill(cid, Side.BUY, LV, 25, 25, 9, "0.02"), BTC, IV)
    assert kept.slot(LV).held == 25 and kept.slot(LV).fees == Decimal("0.02")  # type: ignore[union-attr]


def test_take_profit_round_trip_realizes_pnl_with_fees() -> None:
    # buy 0.001 BTC at 100220.00 (fee 0.1 USDT), sell at 100230.00 (fee 0.1 USDT)
    book = buy_filled(SlotBook("mm1"), LV, 100, fee="0.1")
    tp = book.slot(LV).tp_price  # type: ignore[union-attr]
    book, cid = submit(book, Place(LV, Side.SELL, tp, 100))
    book = ack(book, cid)
    book, ev = apply_fill(book, fill(cid, Side.SELL, tp, 60, 60, 11, "0.06"), BTC, IV)
    assert book.slot(LV).held == 40 and book.held_total == 40  # type: ignore[union-attr]
    book, ev = apply_fill(book, fill(cid, Side.SELL, tp, 40, 100, 12, "0.04"), BTC, IV)
    closed = [e for e in ev if isinstance(e, RoundTripClosed)]
    assert len(closed) == 1
    rt = closed[0]
    assert (rt.qty, rt.buy_cost, rt.proceeds, rt.fees) == (
        100,
        Decimal("100.22"),
        Decimal("100.23"),
        Decimal("0.2"),
    )
    assert rt.realized == Decimal("-0.19")  # 0.01 gross minus 0.20 fees: a losing trip, honestly
    assert book.slot(LV) is None and book.held_total == 0


def test_base_asset_fee_reduces_sellable_quantity_and_keeps_dust() -> None:
    # buy 100 steps (0.001 BTC) with a 0.1% fee in BTC: 0.000001 BTC, a tenth of a step
    book = buy_filled(SlotBook("mm1"), LV, 100, fee="0.000001", asset="BTC")
    s = book.slot(LV)
    assert s is not None and s.held == 99  # 0.000999 BTC rounds down to 99 steps
    assert book.dust == Decimal("0.000009")
    assert book.position(BTC) == Decimal("0.000999")  # exactly what the account holds
    assert s.fees == Decimal("0.000001") * Decimal("100220.00")  # converted at the fill price
    book, cid = submit(book, Place(LV, Side.SELL, LV + IV, 99))
    book = ack(book, cid)
    book, ev = apply_fill(book, fill(cid, Side.SELL, LV + IV, 99, 99, 2), BTC, IV)
    rt = next(e for e in ev if isinstance(e, RoundTripClosed))
    assert rt.buy_cost == Decimal("99.2178")  # 99 steps at 100220.00
    assert book.position(BTC) == Decimal("0.000009") and book.held_total == 0
    assert book.dust_cost == Decimal("0.90198")  # the 9-step dust remainder, kept at its cost


def test_absurd_fees_are_rejected_but_the_trade_counts() -> None:
    book, cid = submit(SlotBook("mm1"), Place(LV, Side.BUY, LV, 100))
    book, ev = apply_fill(book, fill(cid, Side.BUY, LV, 100, 100, 1, "-0.5"), BTC, IV)
    assert any(isinstance(e, FeeRejected) and "negative" in e.reason for e in ev)
    s = book.slot(LV)
    assert s is not None and s.held == 100 and s.fees == 0 and s.state is SlotState.FILLED


def test_foreign_and_stale_reports_are_ignored() -> None:
    book, _ = submit(SlotBook("mm1"), Place(LV, Side.BUY, LV, 100))
    book2, ev = apply_fill(book, fill("web_123", Side.BUY, LV, 1, 1, 5), BTC, IV)
    assert book2 == book and isinstance(ev[0], Ignored)
    snap = OrderSnapshot("mm2_B1_0", 1, Side.BUY, LV, 1, 0, OrderStatus.NEW)
    assert apply_snapshot(book, snap, BTC, IV, 0)[0] == book


def test_adopt_open_orders_from_the_exchange() -> None:
    book = SlotBook("mm1")
    buy = OrderSnapshot("mm1_B" + "5ypwg" + "_c", 1, Side.BUY, int("5ypwg", 36), 100, 30, OrderStatus.NEW)
    book, _ = adopt_order(book, buy, BTC, IV)
    s = book.slot(int("5ypwg", 36))
    assert s is not None and s.state is SlotState.LOCKED and s.held == 30 and s.order_qty == 100
    assert book.next_gen == 13  # generation c = 12 seen: new ids start above it
    sell = OrderSnapshot(
        "mm1_S" + "5yq00" + "_3", 2, Side.SELL, int("5yq00", 36) + IV, 100, 0, OrderStatus.NEW
    )
    book, _ = adopt_order(book, sell, BTC, IV)
    s = book.slot(int("5yq00", 36))
    assert s is not None and s.side is Side.SELL and s.held == 100 and s.state is SlotState.LOCKED
    _, ev = adopt_order(book, OrderSnapshot("x_1", 3, Side.BUY, 1, 1, 0, OrderStatus.NEW), BTC, IV)
    assert isinstance(ev[0], Ignored)


def test_round_trip_spanning_two_sell_orders_counts_both() -> None:
    book = buy_filled(SlotBook("mm1"), LV, 100)
    book, s1 = submit(book, Place(LV, Side.SELL, LV + IV, 100))
    book = ack(book, s1)
    book, _ = apply_fill(book, fill(s1, Side.SELL, LV + IV, 40, 40, 2, "0.04"), BTC, IV)
    book, ev = cancelled(book, s1, 40, BTC, IV, 5)  # trailing moved the take-profit up
    s = book.slot(LV)
    assert s is not None and s.state is SlotState.FILLED and s.held == 60 and s.sold == 40
    assert not any(isinstance(e, RoundTripClosed) for e in ev)
    book, s2 = submit(book, Place(LV, Side.SELL, LV + 2 * IV, 60))
    assert s2 != s1
    book, ev = apply_fill(book, fill(s2, Side.SELL, LV + 2 * IV, 60, 60, 3, "0.06"), BTC, IV)
    rt = next(e for e in ev if isinstance(e, RoundTripClosed))
    # 40 @ 100230 + 60 @ 100240 - 100 @ 100220 = 0.004 + 0.012 = 0.016 gross; fees 0.10
    assert (rt.qty, rt.proceeds - rt.buy_cost, rt.fees, rt.realized) == (
        100,
        Decimal("0.016"),
        Decimal("0.10"),
        Decimal("-0.084"),
    )


def test_a_failed_cancel_can_be_asked_again() -> None:
    book, cid = submit(SlotBook("mm1"), Place(LV, Side.BUY, LV, 100))
    book = request_cancel(ack(book, cid), cid)
    assert book.slot(LV).cancel_requested  # type: ignore[union-attr]
    book = cancel_failed(book, cid, now_ms=5_000)
    s = book.slot(LV)
    assert s is not None and not s.cancel_requested and s.state is SlotState.LOCKED
    assert (s.cancel_fails, s.cancel_retry_ms) == (1, 5_500)  # asked again, but not before 5.5 s


def test_partial_buy_eaten_by_its_base_fee_realizes_the_fee_when_it_ends() -> None:
    # 1 step bought with a 0.1-step fee in BTC: nothing sellable, 0.9 step of dust
    book, cid = submit(SlotBook("mm1"), Place(LV, Side.BUY, LV, 100))
    book, _ = apply_fill(book, fill(cid, Side.BUY, LV, 1, 1, 1, "0.000001", "BTC"), BTC, IV)
    assert book.slot(LV).held == 0 and book.dust == Decimal("0.000009")  # type: ignore[union-attr]
    book, ev = cancelled(book, cid, 1, BTC, IV, 2)
    rt = next(e for e in ev if isinstance(e, RoundTripClosed))
    assert (rt.qty, rt.fees, rt.realized) == (0, Decimal("0.1002200"), Decimal("-0.1002200"))
    assert book.slot(LV) is None and book.position(BTC) == Decimal("0.000009")
