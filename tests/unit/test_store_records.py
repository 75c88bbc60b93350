"""Orders, fills, round trips, risk state and controls: exact, idempotent, and still there after a reopen."""

from __future__ import annotations

import dataclasses
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from core_fixtures import buy_filled, fill

from market_maker.core.ids import encode
from market_maker.core.model import Fill, OrderSnapshot, OrderStatus, Side
from market_maker.core.slot_events import RoundTripClosed
from market_maker.core.slots import SlotBook
from market_maker.store import Store, StoreError, open_store

LV = 10_000_000
EXACT = ["12345.678901234567891234", "1.10000000", "0E-8", "-0.00000001", "1E+3", "0.1"]


def _open(tmp_path: Path, bot: str = "mm1") -> Store:
    return open_store(str(tmp_path / "bot.db"), bot, "BTCUSDT")


def _cid(gen: int = 0, side: Side = Side.BUY, level: int = LV) -> str:
    return encode("mm1", level, side, gen)


@pytest.mark.parametrize("text", EXACT)
def test_decimals_keep_every_digit_and_their_scale(tmp_path: Path, text: str) -> None:
    store = _open(tmp_path)
    value = Decimal(text)
    store.record_fill(fill(_cid(), Side.BUY, LV, 1, 1, 7, fee=text))
    store.record_round_trip(RoundTripClosed(LV, 5, value, value, value, value, 9))
    store.save_risk({"equity_peak": value, "nested": {"values": [value]}})
    store.close()
    again = _open(tmp_path)
    got = [again.fills()[0].fee, again.round_trips()[0].realized]
    risk = again.load_risk()
    assert risk is not None
    got += [risk["equity_peak"], risk["nested"]["values"][0]]
    for d in got:  # same digits, same exponent (Decimal == alone would accept 1.1 for 1.10000000)
        assert isinstance(d, Decimal) and d.as_tuple() == value.as_tuple(), (d, value)


def test_a_float_is_never_stored_as_money(tmp_path: Path) -> None:
    store = _open(tmp_path)
    with pytest.raises(StoreError, match=r"state\.peak is a float"):
        store.save_risk({"peak": 1.1})
    with pytest.raises(StoreError, match="float"):
        store.record_round_trip(RoundTripClosed(LV, 5, 1.1, Decimal(1), Decimal(0), Decimal(0), 9))  # type: ignore[arg-type]
    assert store.round_trips() == [] and store.load_risk() is None


def test_fills_are_idempotent_by_trade_id_even_after_reopen(tmp_path: Path) -> None:
    store = _open(tmp_path)
    f1 = fill(_cid(), Side.BUY, LV, 40, 40, 1001, fee="0.04", t=5_000)
    f2 = fill(_cid(), Side.BUY, LV, 60, 100, 1002, fee="0.06", t=6_000)
    assert store.last_trade_id() is None and store.last_fill_time_ms() is None
    assert store.record_fill(f1) is True
    assert store.record_fill(f1) is False
    assert store.record_fill(f2) is True
    store.close()
    again = _open(tmp_path)
    assert again.record_fill(f2) is False
    assert again.fills() == [f1, f2]
    assert again.last_trade_id() == 1002 and again.last_fill_time_ms() == 6_000


def test_duplicate_fill_inside_a_transaction_does_not_undo_the_rest(tmp_path: Path) -> None:
    store = _open(tmp_path)
    f1 = fill(_cid(), Side.BUY, LV, 40, 40, 1001)
    store.record_fill(f1)
    with store.atomic():
        store.set_control("seen", "yes")
        assert store.record_fill(f1) is False
    assert store.get_control("seen") == "yes"


def test_intent_row_is_on_disk_before_the_order_goes_out(tmp_path: Path) -> None:
    store = _open(tmp_path)
    cid = _cid()
    store.record_intent(cid, LV, Side.BUY, LV, 100, now_ms=1_000)
    # A crash right now: another process opening the file finds the intent and must query it.
    other = _open(tmp_path)
    (row,) = other.orders(open_only=True)
    assert (row.client_id, row.status, row.side, row.price, row.qty, row.created_ms) == (
        cid,
        "INTENT",
        Side.BUY,
        LV,
        100,
        1_000,
    )
    assert row.is_open and row.order_id is None


def test_order_life_cycle_never_reopens_and_never_loses_quantity(tmp_path: Path) -> None:
    store = _open(tmp_path)
    cid = _cid()
    store.record_intent(cid, LV, Side.BUY, LV, 100, now_ms=1_000)
    store.update_order(cid, "NEW", order_id=555, now_ms=1_100)
    store.update_order(cid, "PARTIALLY_FILLED", executed_qty=60, now_ms=1_200)
    store.update_order(cid, "FILLED", executed_qty=100, now_ms=1_300)
    store.update_order(cid, "PARTIALLY_FILLED", executed_qty=60, now_ms=1_250)  # a late report
    row = store.order(cid)
    assert row is not None
    assert (row.status, row.order_id, row.executed_qty, row.updated_ms) == ("FILLED", 555, 100, 1_300)
    assert store.orders(open_only=True) == [] and store.orders() == [row]


def test_repeated_intent_is_a_no_op_but_a_different_one_is_refused(tmp_path: Path) -> None:
    store = _open(tmp_path)
    cid = _cid()
    store.record_intent(cid, LV, Side.BUY, LV, 100, now_ms=1_000)
    store.record_intent(cid, LV, Side.BUY, LV, 100, now_ms=1_001)
    assert len(store.orders()) == 1
    with pytest.raises(StoreError, match=f"client id {cid} is already recorded"):
        store.record_intent(cid, LV, Side.BUY, LV, 200, now_ms=1_002)


def test_bad_order_input_gets_a_clear_error(tmp_path: Path) -> None:
    store = _open(tmp_path)
    with pytest.raises(StoreError, match="'x_B1_0' is not a client id of bot mm1"):
        store.record_intent("x_B1_0", 1, Side.BUY, 1, 1, 0)
    with pytest.raises(StoreError, match="is of level"):
        store.record_intent(_cid(), LV + 1, Side.BUY, LV, 1, 0)
    with pytest.raises(StoreError, match="no order mm1_"):
        store.update_order(_cid(3), "NEW")
    store.record_intent(_cid(), LV, Side.BUY, LV, 1, 0)
    with pytest.raises(StoreError, match="unknown order status 'DONE'"):
        store.update_order(_cid(), "DONE")


def test_an_order_found_on_the_exchange_is_recorded_and_updated(tmp_path: Path) -> None:
    store = _open(tmp_path)
    cid = _cid(7, Side.SELL)
    snap = OrderSnapshot(cid, 99, Side.SELL, LV + 1000, 100, 30, OrderStatus.PARTIALLY_FILLED, 5_000)
    store.record_order(snap, now_ms=6_000)
    store.record_order(snap, now_ms=6_500)
    (row,) = store.orders(open_only=True)
    assert (row.level, row.side, row.price, row.qty, row.status, row.order_id, row.executed_qty) == (
        LV,
        Side.SELL,
        LV + 1000,
        100,
        "PARTIALLY_FILLED",
        99,
        30,
    )


def test_a_known_order_is_updated_as_record_order_would_and_an_unknown_one_is_not_inserted(
    tmp_path: Path,
) -> None:
    store, twin = _open(tmp_path), open_store(str(tmp_path / "twin.db"), "mm1", "BTCUSDT")
    cid = _cid(3)
    for s in (store, twin):
        s.record_intent(cid, LV, Side.BUY, LV, 100, now_ms=1_000)
    reports = [
        OrderSnapshot(cid, 41, Side.BUY, LV, 100, 0, OrderStatus.NEW, 1_000),
        OrderSnapshot(cid, 41, Side.BUY, LV, 100, 60, OrderStatus.CANCELED, 1_000),
        OrderSnapshot(cid, 41, Side.BUY, LV, 100, 20, OrderStatus.PARTIALLY_FILLED, 1_000),  # late: no reopen
    ]
    for i, snap in enumerate(reports):
        assert store.update_known_order(snap, now_ms=2_000 + i)
        twin.record_order(snap, now_ms=2_000 + i)
    assert store.orders() == twin.orders()
    assert (store.orders()[0].status, store.orders()[0].executed_qty) == ("CANCELED", 60)
    unknown = OrderSnapshot(_cid(4), 42, Side.BUY, LV, 100, 0, OrderStatus.CANCELED, 1_000)
    foreign = dataclasses.replace(unknown, client_id="web_12345")
    assert not store.update_known_order(unknown, now_ms=3_000)
    assert not store.update_known_order(foreign, now_ms=3_000)
    assert [o.client_id for o in store.orders()] == [cid]


def test_atomic_rolls_back_every_write_in_the_block(tmp_path: Path) -> None:
    store = _open(tmp_path)
    book = buy_filled(SlotBook("mm1"), LV)
    with pytest.raises(RuntimeError, match="boom"), store.atomic():
        store.save_book(book)
        store.record_round_trip(RoundTripClosed(LV, 5, Decimal(1), Decimal(2), Decimal(0), Decimal(1), 9))
        raise RuntimeError("boom")
    assert store.load_book() is None and store.round_trips() == []


def test_controls_from_another_thread(tmp_path: Path) -> None:
    store = _open(tmp_path)
    assert store.get_control("pause") is None

    def cli() -> None:  # e.g. the status endpoint's thread: its own connection, closed by itself
        store.set_control("pause", "requested")
        store.close()

    t = threading.Thread(target=cli)
    t.start()
    t.join()
    assert store.get_control("pause") == "requested"
    assert store.pop_control("pause") == "requested"
    assert store.pop_control("pause") is None and store.get_control("pause") is None


def test_reopen_keeps_everything(tmp_path: Path) -> None:
    store = _open(tmp_path)
    book = buy_filled(SlotBook("mm1"), LV, fee="0.00000123", asset="BTC")
    cid = _cid(5)
    rt = RoundTripClosed(LV, 100, Decimal("100.00000"), Decimal("101.000"), Decimal("0.2"), Decimal("0.8"), 7)
    with store.atomic():
        store.save_book(book)
        store.record_intent(cid, LV, Side.BUY, LV, 100, 1)
        store.record_fill(fill(cid, Side.BUY, LV, 100, 100, 1, fee="0.00000123", asset="BTC"))
        store.record_round_trip(rt)
        store.save_risk({"paused": True, "consecutive_losses": 2, "equity_peak": Decimal("1000.10")})
        store.set_control("pause", "1")
    expected = (store.load_book(), store.orders(), store.fills(), store.round_trips(), store.load_risk())
    store.close()
    again = _open(tmp_path)
    assert (
        again.load_book(),
        again.orders(),
        again.fills(),
        again.round_trips(),
        again.load_risk(),
    ) == expected
    assert again.load_book() == book and again.round_trips() == [rt]
    assert again.get_control("pause") == "1"


def test_every_field_of_a_fill_and_a_round_trip_has_a_column(tmp_path: Path) -> None:
    # A new field in the core must get a column (and a migration), never be dropped on the way to disk.
    store = _open(tmp_path)
    f = Fill(77, _cid(), Side.SELL, LV, 3, 9, Decimal("0.5"), "BNB", 1234, False, 4242)
    rt = RoundTripClosed(LV, 3, Decimal("1.5"), Decimal("2.50"), Decimal("0.125"), Decimal("0.875"), 99)
    store.record_fill(f)
    store.record_round_trip(rt)
    store.close()
    again = _open(tmp_path)
    assert again.fills() == [f] and again.round_trips() == [rt]
    columns = set(again._m.fill._meta.fields) & set(again._m.round_trip._meta.fields)
    assert {fl.name for fl in dataclasses.fields(Fill)} <= set(again._m.fill._meta.fields)
    assert {fl.name for fl in dataclasses.fields(RoundTripClosed)} <= set(again._m.round_trip._meta.fields)
    assert {"bot_id", "symbol"} <= columns


def test_fills_and_round_trips_since_a_time(tmp_path: Path) -> None:
    store = _open(tmp_path)
    fills = [fill(_cid(), Side.BUY, LV, 1, i, 100 + i, t=1_000 * i) for i in range(1, 5)]
    for f in reversed(fills):
        store.record_fill(f)
    assert store.fills() == fills and store.fills(since_ms=3_000) == fills[2:]
    rts = [RoundTripClosed(LV, 1, Decimal(1), Decimal(2), Decimal(0), Decimal(1), t) for t in (10, 20, 30)]
    for rt in rts:
        store.record_round_trip(rt)
    assert store.round_trips(since_ms=20) == rts[1:]


def test_prune_orders_keeps_open_ones_whatever_their_age(tmp_path: Path) -> None:
    store = _open(tmp_path)
    for gen, status in enumerate(["FILLED", "CANCELED", "NEW", "INTENT", "UNKNOWN", "REJECTED"]):
        cid = _cid(gen)
        store.record_intent(cid, LV, Side.BUY, LV, 1, now_ms=gen)
        if status != "INTENT":
            store.update_order(cid, status, now_ms=gen)
    store.record_intent(_cid(9), LV, Side.BUY, LV, 1, now_ms=9)
    store.update_order(_cid(9), "FILLED", now_ms=10_000)  # finished, but recently
    assert store.prune_orders(updated_before_ms=5_000) == 3
    assert sorted(o.status for o in store.orders()) == ["FILLED", "INTENT", "NEW", "UNKNOWN"]


def test_connection_settings_are_safe_for_trading(tmp_path: Path) -> None:
    store = _open(tmp_path)
    assert store.sqlite_pragmas() == {
        "journal_mode": "wal",
        "synchronous": 1,
        "foreign_keys": 1,
        "busy_timeout": 10_000,
    }


def test_full_synchronous_on_request_and_nonsense_refused(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "full.db"), "mm1", "BTCUSDT", synchronous="full")
    assert store.sqlite_pragmas()["synchronous"] == 2
    with pytest.raises(StoreError, match="synchronous must be one of normal, full, got 'off'"):
        open_store(str(tmp_path / "off.db"), "mm1", "BTCUSDT", synchronous="off")


def test_an_order_row_keeps_the_venues_average_price_with_the_quantity_it_describes(
    tmp_path: Path,
) -> None:
    store, twin = _open(tmp_path), open_store(str(tmp_path / "twin.db"), "mm1", "BTCUSDT")
    twin._sqlite = False  # the peewee path (PostgreSQL's) must follow the same rule as SQLite's statements
    cid = _cid(5)
    for s in (store, twin):
        s.record_intent(cid, LV, Side.BUY, LV, 100, now_ms=1_000)
    snap = OrderSnapshot(cid, 43, Side.BUY, LV, 100, 0, OrderStatus.NEW, 1_000, Decimal(0))
    reports = [
        (snap, Decimal(0)),
        (dataclasses.replace(snap, executed_qty=40, avg_price=Decimal("99955.5")), Decimal("99955.5")),
        (dataclasses.replace(snap, executed_qty=30, avg_price=Decimal("99950")), Decimal("99955.5")),  # late
        (dataclasses.replace(snap, executed_qty=100, avg_price=None), Decimal("99955.5")),  # says nothing
        (
            dataclasses.replace(
                snap, executed_qty=100, status=OrderStatus.FILLED, avg_price=Decimal("99955.83000")
            ),
            Decimal("99955.83"),
        ),
    ]
    for i, (report, expected) in enumerate(reports):
        for s in (store, twin):
            if i % 2:
                assert s.update_known_order(report, now_ms=2_000 + i)
            else:
                s.record_order(report, now_ms=2_000 + i)
            (row,) = s.orders()
            assert row.avg_price == expected, (i, s)
    assert str(store.orders()[0].avg_price) == "99955.83000"  # the venue's digits, exactly
    assert store.orders() == twin.orders()
    store.close()
    assert open_store(str(tmp_path / "bot.db"), "mm1", "BTCUSDT").orders()[0].avg_price == Decimal("99955.83")
