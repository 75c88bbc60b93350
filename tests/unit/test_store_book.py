"""The slot book survives the store exactly: random books built by the core's own transitions.

Every step saves only the levels that changed (as the SlotManagerActor does); after any sequence the
book loaded back (in the same store and after re-opening the file) equals the book in memory, every
Decimal digit and scale, FIFO lots and trade-id sets included.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from core_fixtures import BTC, IV, buy_filled, fill
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market_maker.core.actions import Place
from market_maker.core.fills import apply_fill, cancelled
from market_maker.core.model import Side, SlotState
from market_maker.core.slots import Slot, SlotBook, ack, mark_unknown, prune, reject, request_cancel, submit
from market_maker.store import Store, StoreError, open_store

BASE = 10_000_000  # 100000.00 in ticks
RATES = {"BNB": Decimal(600)}

# A fee with many digits and odd scales (e.g. 0.00000001234567890000), small enough to be accepted.
fees = st.builds(
    lambda digits, scale: Decimal(digits).scaleb(-scale),
    st.integers(0, 10**9),
    st.integers(16, 26),
)
ops = st.tuples(
    st.sampled_from(["buy", "ack", "fill", "fill", "sell", "reject", "unknown", "cancel", "prune"]),
    st.integers(0, 5),  # which level (buy) or which of the slots the operation fits
    st.integers(1, 300),  # a quantity
    st.sampled_from(["USDT", "BTC", "BNB"]),  # fee asset
    fees,
)


def _pick(book: SlotBook, idx: int, fits: Callable[[Slot], bool]) -> Slot | None:
    """The ``idx``-th (modulo) slot for which ``fits`` holds, so most operations do something."""
    cands = [s for s in book.slots.values() if fits(s)]
    return cands[idx % len(cands)] if cands else None


def _step(book: SlotBook, op: tuple[str, int, int, str, Decimal], now: int, trade_id: int) -> SlotBook:
    """Apply one operation to a slot whose state allows it (the book is unchanged when none does)."""
    kind, idx, qty, asset, fee = op
    if kind == "buy":
        level = BASE - (idx + 1) * IV
        s = book.slot(level)
        if s is None or s.state is SlotState.FREE:
            return submit(book, Place(level, Side.BUY, level, qty))[0]
        return book
    if kind == "prune":
        return prune(book, now)
    if kind == "sell":
        s = _pick(book, idx, lambda s: s.state is SlotState.FILLED and s.held > 0)
        return (
            book if s is None else submit(book, Place(s.level, Side.SELL, s.level + IV, min(qty, s.held)))[0]
        )
    s = _pick(book, idx, lambda s: s.working)
    if s is None:
        return book
    if kind == "ack":
        return ack(book, s.client_id)
    if kind == "reject":
        return reject(book, s.client_id, now, "post-only would cross")[0]
    if kind == "unknown":
        return mark_unknown(book, s.client_id)
    if kind == "cancel":
        book = request_cancel(book, s.client_id)
        return cancelled(book, s.client_id, s.order_filled, BTC, IV, now)[0]
    # about half fill the rest of the order, half a part (several FIFO lots per slot)
    cum = s.order_qty if qty > 150 else min(s.order_filled + 1 + qty // 7, s.order_qty)
    f = fill(
        s.client_id, s.side or Side.BUY, s.order_price, cum - s.order_filled, cum, trade_id, str(fee), asset
    )
    return apply_fill(book, f, BTC, IV, RATES)[0]


def _changed(old: SlotBook, new: SlotBook) -> set[int]:
    return {lv for lv in old.slots.keys() | new.slots.keys() if old.slots.get(lv) != new.slots.get(lv)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=10, max_size=80))
def test_random_books_round_trip_exactly(sequence: list[tuple[str, int, int, str, Decimal]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "bot.db")
        store = open_store(path, "mm1", "BTCUSDT")
        book = SlotBook("mm1")
        store.save_book(book)
        for i, op in enumerate(sequence):
            new = _step(book, op, now=1_000 * i, trade_id=i + 1)
            store.save_book(new, _changed(book, new))
            book = new
            assert store.load_book() == book
        store.close()
        again = open_store(path, "mm1", "BTCUSDT")
        loaded = again.load_book()
        assert loaded == book
        assert loaded is not None and loaded.position(BTC) == book.position(BTC)
        for lv, s in book.slots.items():  # Decimal == ignores scale: compare the digits too
            assert str(loaded.slots[lv].dust) == str(s.dust) and str(loaded.slots[lv].fees) == str(s.fees)
        again.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=10, max_size=80))
def test_random_books_round_trip_exactly_through_the_writers_diff(
    sequence: list[tuple[str, int, int, str, Decimal]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "bot.db")
        store = open_store(path, "mm1", "BTCUSDT")
        book = SlotBook("mm1")
        for i, op in enumerate(sequence):
            new = _step(book, op, now=1_000 * i, trade_id=i + 1)
            store.save_book_diff(book, new)  # as the slot manager saves: against what it saved last
            book = new
            assert store.load_book() == book
        store.close()
        again = open_store(path, "mm1", "BTCUSDT")
        assert again.load_book() == book
        again.close()


def test_a_diff_rolled_back_is_written_again_by_the_next_one(tmp_path: Path) -> None:
    store = _store(tmp_path)
    empty = SlotBook("mm1")
    book, _ = submit(empty, Place(BASE - IV, Side.BUY, BASE - IV, 100))
    with pytest.raises(RuntimeError), store.atomic():
        store.save_book_diff(empty, book)
        raise RuntimeError("the transaction around it fails")
    assert store.load_book() is None  # nothing of it stayed
    store.save_book_diff(empty, book)  # the writer still holds the old book: it saves from there again
    assert store.load_book() == book


def test_a_rolled_back_batch_does_not_leave_slots_without_their_book_row(tmp_path: Path) -> None:
    store = _store(tmp_path)
    empty = SlotBook("mm1")
    held = SlotBook("mm1", {BASE: Slot(BASE)})  # the same book fields: only a slot row differs
    with pytest.raises(RuntimeError), store.atomic():
        store.save_book_diff(empty, held)  # the first write of this book: its row too
        raise RuntimeError("a later write in the same batch fails")
    store.save_book_diff(empty, held)
    assert store.load_book() == held


def _store(tmp_path: Path, name: str = "bot.db") -> Store:
    return open_store(str(tmp_path / name), "mm1", "BTCUSDT")


def test_no_book_saved_loads_none(tmp_path: Path) -> None:
    assert _store(tmp_path).load_book() is None


def test_levels_dropped_from_the_book_are_deleted(tmp_path: Path) -> None:
    store = _store(tmp_path)
    book = buy_filled(SlotBook("mm1"), BASE - IV, fee="0.00000123", asset="BTC")
    book, cid = submit(book, Place(BASE - 2 * IV, Side.BUY, BASE - 2 * IV, 100))
    store.save_book(book)
    book = cancelled(book, cid, 0, BTC, IV, 0)[0]  # nothing filled: the slot is FREE and leaves the book
    assert BASE - 2 * IV not in book.slots
    store.save_book(book, changed_levels=[])  # even when the caller forgets to name the level
    assert store.load_book() == book


def test_a_slot_added_but_not_named_as_changed_is_still_saved(tmp_path: Path) -> None:
    store = _store(tmp_path)
    book, _ = submit(SlotBook("mm1"), Place(BASE - IV, Side.BUY, BASE - IV, 100))
    store.save_book(book, changed_levels=())
    assert store.load_book() == book


def test_book_of_another_bot_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="book of bot 'other'"):
        _store(tmp_path).save_book(SlotBook("other"))


def test_bots_and_symbols_sharing_a_file_do_not_see_each_other(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    a = open_store(path, "mm1", "BTCUSDT")
    b = open_store(path, "mm1", "ETHUSDT")
    c = open_store(path, "mm2", "BTCUSDT")
    book = buy_filled(SlotBook("mm1"), BASE - IV)
    a.save_book(book)
    b.save_book(SlotBook("mm1"))
    assert a.load_book() == book
    assert b.load_book() == SlotBook("mm1")
    assert c.load_book() is None


def test_a_damaged_slot_document_is_a_store_error_naming_the_file(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.save_book(buy_filled(SlotBook("mm1"), BASE - IV))
    store.close()
    with sqlite3.connect(tmp_path / "bot.db") as raw:
        raw.execute("""UPDATE slot SET doc = replace(doc, '"held":100', '"held":"100"')""")
    with pytest.raises(StoreError, match=r"bot\.db.*held must be an integer"):
        _store(tmp_path).load_book()


def test_totals_that_disagree_with_the_slots_are_refused(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.save_book(buy_filled(SlotBook("mm1"), BASE - IV))
    store.close()
    with sqlite3.connect(tmp_path / "bot.db") as raw:
        raw.execute("UPDATE book SET held_total = held_total + 1")
    with pytest.raises(StoreError, match="do not match its slots"):
        _store(tmp_path).load_book()
