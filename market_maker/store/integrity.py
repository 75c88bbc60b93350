"""Is the store sound enough to trade from? Checked before the first order (and by ``doctor``).

A bot that trusts a damaged store can place orders for slots it no longer knows, or forget fills it
booked: so a store is refused (exit 4, one line naming the problem and the fix) when

- a table of the schema is missing (someone dropped it, or a partial restore);
- SQLite's ``PRAGMA quick_check`` does not answer ``ok`` (pages damaged on disk); PostgreSQL checks its
  own pages, so there the tables' invariants are what is checked;
- the slot book cannot be read back: an unknown slot state, slots without a book, totals that do not
  add up (``Store.load_book`` raises those).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from peewee import PeeweeException, SqliteDatabase

from market_maker.store.errors import StoreError

if TYPE_CHECKING:
    from market_maker.store.store import Store

FIX = "restore the database from a backup, or move it aside and start with `run --adopt`"


class StoreDamagedError(StoreError):
    """The store's file or tables are damaged: trading from it is unsafe."""


def verify_store(store: Store) -> None:
    """Raise :class:`StoreDamagedError` (one line: what is wrong, then the fix) unless the store is sound."""
    db, where = store.db, store.where
    try:
        if isinstance(db, SqliteDatabase):
            rows = db.execute_sql("PRAGMA quick_check").fetchall()
            if [tuple(r) for r in rows] != [("ok",)]:
                first = " ".join(str(rows[0][0]).split())[:160] if rows else "no answer"
                raise StoreDamagedError(f"store {where} is damaged (PRAGMA quick_check: {first}): {FIX}")
        missing = [m._meta.table_name for m in store.models if not db.table_exists(m._meta.table_name)]
    except (PeeweeException, sqlite3.Error) as exc:
        raise StoreDamagedError(f"store {where} is damaged ({' '.join(str(exc).split())}): {FIX}") from exc
    if missing:
        raise StoreDamagedError(f"store {where}: table {', '.join(missing)} missing: {FIX}")
    try:
        store.load_book()
    except StoreDamagedError:
        raise
    except StoreError as exc:
        raise StoreDamagedError(f"{exc}: {FIX}") from exc
