"""The store on a real PostgreSQL database (the Durable engine's shared database): several processes'
stores in one database, each seeing only its own bot and symbol, money kept exact."""

from __future__ import annotations

import threading
from decimal import Decimal

import psycopg
import pytest

from market_maker.core.ids import encode
from market_maker.core.model import Fill, OrderSnapshot, OrderStatus, Side
from market_maker.core.slots import SlotBook
from market_maker.store import Store, StoreError, StoreLockedError, open_store
from market_maker.store.database import make_database
from market_maker.store.migrations import CURRENT_VERSION, MIGRATIONS
from market_maker.store.models import make_models

LV = 10_000_000


def _fill(bot: str, trade_id: int, fee: str) -> Fill:
    return Fill(
        trade_id, encode(bot, LV, Side.BUY, 1), Side.BUY, LV, 100, 100, Decimal(fee), "BTC", 1000 + trade_id
    )


def test_stores_opening_one_new_database_at_once_all_migrate_it_once(pg_url: str) -> None:
    scopes = [("a1", "BTCUSDT"), ("a1", "ETHUSDT"), ("b2", "BTCUSDT"), ("b2", "ETHUSDT")]
    stores: dict[tuple[str, str], Store] = {}
    errors: list[BaseException] = []
    gate = threading.Barrier(len(scopes))

    def open_one(bot: str, symbol: str) -> None:
        gate.wait()
        try:
            stores[(bot, symbol)] = open_store(pg_url, bot, symbol)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one, args=s) for s in scopes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for s in stores.values():
        s.close()
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone() == (CURRENT_VERSION,)


def test_a_version_1_database_gains_the_average_price_and_keeps_its_rows(pg_url: str) -> None:
    db = make_database(pg_url, 10.0, "normal")
    models = make_models(db)
    db.create_tables([models.version])
    MIGRATIONS[0].apply(db, models)  # the tables as version 1 made them, then one order row in them
    models.version.create(version=1, name="initial schema", applied_at="2026-11-01T00:00:00+00:00")
    cid = encode("a1", LV, Side.BUY, 1)
    row = (1, "a1", "BTCUSDT", cid, LV, "BUY", LV, 100, "FILLED", 41, 100, 1_000, 2_000)
    db.execute_sql(f"INSERT INTO orders VALUES ({', '.join(['%s'] * len(row))})", row)
    db.close()
    store = open_store(pg_url, "a1", "BTCUSDT")
    (found,) = store.orders()
    assert (found.status, found.order_id, found.executed_qty, found.avg_price) == ("FILLED", 41, 100, None)
    snap = OrderSnapshot(cid, 41, Side.BUY, LV, 100, 100, OrderStatus.FILLED, 1_000, Decimal("99955.83000"))
    store.update_known_order(snap, now_ms=3_000)
    assert str(store.order(cid).avg_price) == "99955.83000"  # type: ignore[union-attr]
    store.close()


def test_each_bot_and_symbol_sees_only_its_own_rows_on_a_shared_database(pg_url: str) -> None:
    fees = {("a1", "BTCUSDT"): "0.000000123456789", ("a1", "ETHUSDT"): "1.10000000", ("b2", "BTCUSDT"): "7"}
    stores = {scope: open_store(pg_url, *scope) for scope in fees}
    try:
        for (bot, symbol), fee in fees.items():
            s = stores[(bot, symbol)]
            cid = encode(bot, LV, Side.BUY, 1)
            s.record_intent(cid, LV, Side.BUY, LV, 100, 1)
            s.record_order(OrderSnapshot(cid, 7, Side.BUY, LV, 100, 0, OrderStatus.NEW, 1), 2)
            assert s.record_fill(_fill(bot, 1, fee))  # the same trade id in every scope
            s.save_book(SlotBook(bot))
            s.set_control("paused", symbol)
        for (bot, symbol), fee in fees.items():
            s = stores[(bot, symbol)]
            (row,) = s.orders()
            assert (row.client_id, row.status) == (encode(bot, LV, Side.BUY, 1), "NEW")
            (f,) = s.fills()
            assert f.fee.as_tuple() == Decimal(fee).as_tuple()  # every digit and the scale kept
            assert s.get_control("paused") == symbol
            assert s.load_book() == SlotBook(bot)
            assert not s.record_fill(_fill(bot, 1, fee))  # idempotent within its own scope
    finally:
        for s in stores.values():
            s.close()


def test_the_trading_lock_is_per_bot_and_symbol_across_processes(pg_url: str) -> None:
    first, second, other = (
        open_store(pg_url, "a1", "BTCUSDT"),
        open_store(pg_url, "a1", "BTCUSDT"),
        open_store(pg_url, "a1", "ETHUSDT"),
    )
    try:
        first.acquire_lock("host:1:aa", 1_000)
        other.acquire_lock("host:2:bb", 1_000)  # another symbol: its own lock
        with pytest.raises(StoreLockedError, match="host:1:aa"):
            second.acquire_lock("host:3:cc", 2_000, stale_after_ms=60_000)
        first.release_lock()
        second.acquire_lock("host:3:cc", 3_000)
    finally:
        for s in (first, second, other):
            s.close()


def test_an_unreachable_database_is_one_clear_error_without_the_password() -> None:
    with pytest.raises(StoreError) as err:
        open_store("postgresql://bot:s3cret@127.0.0.1:1/nowhere", "a1", "BTCUSDT")
    text = str(err.value)
    assert "s3cret" not in text and "127.0.0.1" in text and "\n" not in text


def test_a_reader_next_to_a_running_bot_always_loads_a_consistent_book(pg_url: str) -> None:
    # The bot commits book rows and slot rows together; a reader in another connection (status, doctor,
    # a test harness) must see one commit or the next, never the book row of one and the slots of another.
    from market_maker.core.actions import Place
    from market_maker.core.fills import apply_fill
    from market_maker.core.rules import SymbolRules
    from market_maker.core.slots import ack, submit

    rules = SymbolRules("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))

    def buy_filled(book: SlotBook, level: int, trade_id: int) -> SlotBook:
        book, cid = submit(book, Place(level, Side.BUY, level, 100))
        book = ack(book, cid)
        fill = Fill(trade_id, cid, Side.BUY, level, 100, 100, Decimal("0.01"), "USDT", 0)
        return apply_fill(book, fill, rules, 1000)[0]

    writer = open_store(pg_url, "mm1", "BTCUSDT")
    reader = open_store(pg_url, "mm1", "BTCUSDT")
    books = [SlotBook("mm1")]
    for i in range(1, 6):  # books holding 1..5 filled levels: every save changes the totals
        books.append(buy_filled(books[-1], 10_000_000 + 1000 * i, i))
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            n = 0
            while not stop.is_set():
                writer.save_book(books[n % len(books)])
                n += 1
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            writer.close()

    t = threading.Thread(target=write)
    t.start()
    try:
        for _ in range(300):
            book = reader.load_book()
            assert book is None or book.held_total == sum(s.held for s in book)
    finally:
        stop.set()
        t.join()
        reader.close()
    assert not errors
