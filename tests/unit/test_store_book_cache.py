"""save_book remembers which slot levels are stored (a save costs O(changed levels)); what it remembers
must never go stale: another connection's writes and a rolled-back transaction are noticed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from core_fixtures import IV

from market_maker.core.actions import Place
from market_maker.core.model import Side
from market_maker.core.slots import SlotBook, submit
from market_maker.store import Store, open_store

BASE = 10_000_000


def _store(tmp_path: Path) -> Store:
    return open_store(str(tmp_path / "bot.db"), "mm1", "BTCUSDT")


def _book(*levels: int) -> SlotBook:
    book = SlotBook("mm1")
    for lv in levels:
        book, _ = submit(book, Place(lv, Side.BUY, lv, 100))
    return book


def test_slots_written_by_another_connection_are_noticed(tmp_path: Path) -> None:
    ours, other = _store(tmp_path), _store(tmp_path)
    book = _book(BASE - IV, BASE - 2 * IV)
    ours.save_book(book)
    other.save_book(_book(BASE - 3 * IV))  # deletes both of our levels, adds another
    ours.save_book(book, changed_levels=[])  # nothing "changed" from our point of view
    assert other.load_book() == book


def test_slots_written_by_another_thread_through_the_same_store_are_noticed(tmp_path: Path) -> None:
    store = _store(tmp_path)
    book = _book(BASE - IV)
    store.save_book(book)

    def elsewhere() -> None:
        store.save_book(_book(BASE - 5 * IV))
        store.close()

    t = threading.Thread(target=elsewhere)
    t.start()
    t.join()
    store.save_book(book, changed_levels=[])
    assert store.load_book() == book


def test_a_save_rolled_back_with_its_transaction_is_not_taken_as_stored(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.save_book(_book(BASE - IV))
    book = _book(BASE - IV, BASE - 2 * IV)
    with pytest.raises(RuntimeError), store.atomic():
        store.save_book(book, changed_levels=[BASE - 2 * IV])
        raise RuntimeError("a later write of the same commit failed")
    store.save_book(book, changed_levels=[])
    assert store.load_book() == book


def test_a_long_run_of_saves_matches_the_last_book(tmp_path: Path) -> None:
    store = _store(tmp_path)
    levels: list[int] = []
    old = SlotBook("mm1")
    for i in range(40):
        levels = [*levels[-5:], BASE - (i % 13) * IV] if i % 3 else levels[1:]
        book = _book(*sorted(set(levels)))
        # name only the levels kept with a different slot: new and dropped levels are the store's job
        kept = old.slots.keys() & book.slots.keys()
        store.save_book(book, changed_levels=[lv for lv in kept if old.slots[lv] != book.slots[lv]])
        assert store.load_book() == book
        old = book
