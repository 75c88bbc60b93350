"""WAL checkpoints off the order path: the writer's connection no longer checkpoints on commit (but for
a backstop), a Checkpointer thread does, and what is committed stays readable throughout."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from market_maker.core.actions import Place
from market_maker.core.model import Side
from market_maker.core.slots import SlotBook, submit
from market_maker.store import Store, StoreError, open_store
from market_maker.store.checkpoints import WRITER_BACKSTOP_PAGES, Checkpointer, start_checkpoints

BASE = 10_000_000


def _wal_pages(db: Path) -> int:
    wal = Path(f"{db}-wal")
    return os.path.getsize(wal) // 4096 if wal.exists() else 0


def _write_books(store: Store, n: int) -> SlotBook:
    """``n`` commits as the slot manager makes them (40 buys, then the book emptied, and again)."""
    book = SlotBook("mm1")
    for i in range(n):
        lv = BASE - 1000 * (i % 40)
        new, _ = submit(book, Place(lv, Side.BUY, lv, 100))
        store.save_book_diff(book, new)
        book = new
        if i % 40 == 39:
            book = SlotBook("mm1")
            store.save_book(book)
    return book


def test_the_writer_leaves_checkpoints_to_the_thread_which_runs_them(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    store = open_store(str(db), "mm1", "BTCUSDT")
    checkpoints = start_checkpoints(store, every_s=0.05)
    assert checkpoints is not None
    try:
        assert store._db.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0] == WRITER_BACKSTOP_PAGES
        book = _write_books(store, 1_500)  # well past SQLite's own 1 000-page threshold
        deadline = time.monotonic() + 10
        while checkpoints.passes < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert checkpoints.passes >= 3
        # everything committed reaches the main file; a passive checkpoint of ours that meets the
        # thread's own in progress says busy, so ask until one is not (a busy box interleaves them)
        busy, frames, done = store.checkpoint() or (1, 0, 0)
        while busy and time.monotonic() < deadline + 10:
            time.sleep(0.02)
            busy, frames, done = store.checkpoint() or (1, 0, 0)
        assert busy == 0 and done == frames
        assert store.load_book() == book
    finally:
        checkpoints.stop()
    assert not checkpoints._thread.is_alive()
    store.close()


def test_without_the_thread_the_writer_does_not_checkpoint_below_the_backstop(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    store = open_store(str(db), "mm1", "BTCUSDT")
    assert store.defer_checkpoints(WRITER_BACKSTOP_PAGES)
    _write_books(store, 1_500)
    grown = _wal_pages(db)
    assert grown > 1_000  # SQLite's default would have restarted the WAL long before
    Checkpointer(store, every_s=0.01).start().stop()  # stopping at once is clean (no pass needed)
    store.close()


def test_a_failed_checkpoint_is_logged_and_the_thread_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(str(tmp_path / "bot.db"), "mm1", "BTCUSDT")
    calls = 0
    real = store.checkpoint

    def flaky() -> tuple[int, int, int] | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise StoreError("store test: checkpoint failed: disk I/O error")
        return real()

    store.checkpoint = flaky  # type: ignore[method-assign]
    checkpoints = Checkpointer(store, every_s=0.02).start()
    deadline = time.monotonic() + 10
    while checkpoints.passes < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    checkpoints.stop()
    assert calls >= 3 and checkpoints.passes >= 2
    assert "checkpoint failed" in caplog.text
    store.close()


def _wal_salts(db: Path) -> bytes:
    """The WAL header's salts: they change exactly when the WAL restarts from its beginning."""
    with open(f"{db}-wal", "rb") as f:
        return f.read(32)[16:24]


def test_the_checkpointer_restarts_the_wal_itself_so_the_next_order_commit_does_not(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    store = open_store(str(db), "mm1", "BTCUSDT")
    start_checkpoints(store, every_s=3600).stop()  # the writer's settings, no thread passes
    other = open_store(str(db), "mm1", "BTCUSDT")  # the checkpointer's own connection
    try:
        _write_books(store, 50)
        before = _wal_salts(db)
        Checkpointer(other, every_s=3600).run_pass()  # one pass, on this thread
        restarted = _wal_salts(db)
        assert restarted != before  # the pass itself began a new WAL (its one write)
        _write_books(store, 5)  # the next order commits append to it: no second restart
        assert _wal_salts(db) == restarted
        stamp = other.get_control("wal_restarted_ms")
        assert stamp is not None
        time.sleep(0.002)
        Checkpointer(other, every_s=3600).run_pass()  # moves the order commits: restarts again
        again = other.get_control("wal_restarted_ms")
        assert again is not None and again != stamp
        salts = _wal_salts(db)
        Checkpointer(other, every_s=3600).run_pass()  # only its own restart write to move: idle now
        assert other.get_control("wal_restarted_ms") == again and _wal_salts(db) == salts
    finally:
        other.close()
        store.close()
