"""Opening a store: directories, migrations, WAL, and clear refusals for files it cannot use."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from market_maker.store import StoreError, open_store
from market_maker.store.migrations import CURRENT_VERSION

TABLES = {"schema_version", "book", "slot", "orders", "fill", "round_trip", "risk", "control", "lock"}


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path)


def test_migrates_an_empty_file_and_creates_missing_directories(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "bot.db"
    path.parent.mkdir(parents=True)
    path.touch()  # an empty file is an empty SQLite database
    open_store(str(path), "mm1", "BTCUSDT").close()
    with _raw(path) as raw:
        names = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        versions = [r[0] for r in raw.execute("SELECT version FROM schema_version ORDER BY version")]
    assert names >= TABLES
    assert versions == list(range(1, CURRENT_VERSION + 1))
    open_store(str(tmp_path / "new" / "dir" / "x.db"), "mm1", "BTCUSDT").close()
    assert (tmp_path / "new" / "dir" / "x.db").exists()


def test_reopening_at_the_current_version_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    open_store(str(path), "mm1", "BTCUSDT").close()
    with _raw(path) as raw:
        before = (
            raw.execute("PRAGMA schema_version").fetchone(),
            raw.execute("SELECT * FROM schema_version").fetchall(),
        )
    store = open_store(str(path), "mm1", "BTCUSDT")
    with _raw(path) as raw:
        after = (
            raw.execute("PRAGMA schema_version").fetchone(),
            raw.execute("SELECT * FROM schema_version").fetchall(),
        )
    store.close()
    assert after == before  # no DDL ran (SQLite bumps its schema cookie on any) and no version row was added


def test_journal_mode_is_wal(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    open_store(str(path), "mm1", "BTCUSDT").close()
    with _raw(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_sqlite_url_works_like_a_path(tmp_path: Path) -> None:
    path = tmp_path / "u" / "bot.db"
    store = open_store(f"sqlite:///{path}", "mm1", "BTCUSDT")
    store.set_control("k", "v")
    store.close()
    assert open_store(str(path), "mm1", "BTCUSDT").get_control("k") == "v"


def test_a_corrupted_file_is_a_store_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(random.Random(5).randbytes(8192))
    with pytest.raises(StoreError, match=f"cannot open store {path}: file is not a database") as e:
        open_store(str(path), "mm1", "BTCUSDT")
    assert "\n" not in str(e.value)


def test_a_text_file_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are not the slots you are looking for\n" * 100)
    with pytest.raises(StoreError, match=r"notes\.txt"):
        open_store(str(path), "mm1", "BTCUSDT")


def test_a_database_locked_by_another_process_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE other (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match=rf"cannot open store {path}: database is locked"):
            open_store(str(path), "mm1", "BTCUSDT", busy_timeout_s=0.1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    open_store(str(path), "mm1", "BTCUSDT").close()  # fine once the other writer is gone


def test_a_schema_from_a_newer_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    open_store(str(path), "mm1", "BTCUSDT").close()
    with _raw(path) as raw:
        raw.execute("INSERT INTO schema_version VALUES (?, 'future', '2030-01-01')", (CURRENT_VERSION + 1,))
    with pytest.raises(StoreError, match=f"schema version {CURRENT_VERSION + 1}, newer than this program"):
        open_store(str(path), "mm1", "BTCUSDT")


def test_bad_bot_id_or_symbol_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="bot id 'my bot'"):
        open_store(str(tmp_path / "a.db"), "my bot", "BTCUSDT")
    with pytest.raises(StoreError, match="symbol 'BTC/USDT'"):
        open_store(str(tmp_path / "a.db"), "mm1", "BTC/USDT")


def test_a_url_password_never_appears_in_errors() -> None:
    with pytest.raises(StoreError) as e:
        open_store("postgresql://bot:s3cr3t@127.0.0.1:1/mm", "mm1", "BTCUSDT", busy_timeout_s=0.1)
    assert "s3cr3t" not in str(e.value) and "postgresql://bot:***@127.0.0.1:1/mm" in str(e.value)


V1_DUMP = Path(__file__).resolve().parents[1] / "data" / "store_v1.sql"


def test_a_version_1_store_gains_the_average_price_and_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "paper1.sqlite"
    with _raw(path) as raw:
        raw.executescript(V1_DUMP.read_text())
        before = {t: raw.execute(f'SELECT * FROM "{t}"').fetchall() for t in ("orders", "fill")}
    store = open_store(str(path), "mm1", "BTCUSDT")
    filled, working = store.orders()
    assert (filled.status, filled.executed_qty, filled.avg_price) == ("FILLED", 100, None)  # never recorded
    assert (working.status, working.order_id, working.avg_price) == ("NEW", 42, None)
    assert [f.trade_id for f in store.fills()] == [7]
    store.close()
    with _raw(path) as raw:
        assert {t: raw.execute(f'SELECT * FROM "{t}"').fetchall() for t in ("orders", "fill")} == {
            t: [(*r, None) for r in rows] if t == "orders" else rows for t, rows in before.items()
        }
        versions = [r[0] for r in raw.execute("SELECT version FROM schema_version ORDER BY version")]
        migrated = raw.execute("SELECT sql FROM sqlite_master WHERE name = 'orders'").fetchone()
    assert versions == list(range(1, CURRENT_VERSION + 1))
    open_store(str(tmp_path / "new.sqlite"), "mm1", "BTCUSDT").close()
    with _raw(tmp_path / "new.sqlite") as raw:  # a new store and a migrated one have the same table
        assert raw.execute("SELECT sql FROM sqlite_master WHERE name = 'orders'").fetchone() == migrated
