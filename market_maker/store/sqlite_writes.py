"""The Simple engine's write path on SQLite as plain prepared statements (no query building per write).

The slot manager commits before every placement it sends, so these writes are on the tick-to-order path:
peewee builds each query afresh (a quarter of the store's time was SQL building), while the ``sqlite3``
module keeps these fixed texts prepared per connection. The tables and their meaning are the peewee
models' (models.py, migrations.py); the rules are the same as the peewee path's in store.py: an order's
status never reopens once finished, its executed quantity never goes down, a trade id is stored once.
Callers run these on the thread's peewee connection, inside the store's transaction when there is one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import fields
from decimal import Decimal
from typing import Any

from market_maker.core.model import Fill, OrderSnapshot
from market_maker.core.slot_events import RoundTripClosed
from market_maker.store.fields import exact_text
from market_maker.store.records import INTENT, OPEN_STATUSES, fill_columns, round_trip_columns

_OPEN = ", ".join(f"'{s}'" for s in sorted(OPEN_STATUSES))  # fixed constants, not input

BOOK_UPSERT = (
    "INSERT INTO book (bot_id, symbol, next_gen, dust, dust_cost, held_total, buy_working_total) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (bot_id, symbol) DO UPDATE SET next_gen = excluded.next_gen, "
    "dust = excluded.dust, dust_cost = excluded.dust_cost, held_total = excluded.held_total, "
    "buy_working_total = excluded.buy_working_total"
)
SLOT_UPSERT = (
    "INSERT INTO slot (bot_id, symbol, level, state, client_id, doc) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (bot_id, symbol, level) DO UPDATE SET state = excluded.state, "
    "client_id = excluded.client_id, doc = excluded.doc"
)
SLOT_DELETE = "DELETE FROM slot WHERE bot_id = ? AND symbol = ? AND level = ?"
INTENT_INSERT = (
    "INSERT INTO orders (bot_id, symbol, client_id, level, side, price, qty, status, executed_qty, "
    "created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) "
    "ON CONFLICT (bot_id, symbol, client_id) DO NOTHING"
)
ORDER_READ = (
    "SELECT level, side, price, qty, status FROM orders WHERE bot_id = ? AND symbol = ? AND client_id = ?"
)
ORDER_EXISTS = "SELECT 1 FROM orders WHERE bot_id = ? AND symbol = ? AND client_id = ?"
# The status rule of Store.update_order in SQL: a finished order never reopens.
_STATUS = (
    f"CASE WHEN orders.status IN ({_OPEN}) OR {{new}} NOT IN ({_OPEN}) THEN {{new}} ELSE orders.status END"
)
# The average price of Store.update_order: a report's average, unless it describes less than the row
# holds (the executed quantity never goes down, nor does the average go back to an older report's).
_AVG = "CASE WHEN {avg} IS NOT NULL AND {qty} >= orders.executed_qty THEN {avg} ELSE orders.avg_price END"
ORDER_UPDATE = (
    f"UPDATE orders SET status = {_STATUS.format(new='?1')}, order_id = COALESCE(?2, order_id), "
    "executed_qty = MAX(executed_qty, COALESCE(?3, executed_qty)), updated_ms = MAX(updated_ms, ?4), "
    f"avg_price = {_AVG.format(avg='?8', qty='COALESCE(?3, orders.executed_qty)')} "
    "WHERE bot_id = ?5 AND symbol = ?6 AND client_id = ?7"
)
ORDER_UPSERT = (
    "INSERT INTO orders (bot_id, symbol, client_id, level, side, price, qty, status, order_id, executed_qty, "
    "created_ms, updated_ms, avg_price) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (bot_id, symbol, client_id) DO UPDATE SET "
    f"status = {_STATUS.format(new='excluded.status')}, "
    "order_id = COALESCE(excluded.order_id, orders.order_id), "
    "executed_qty = MAX(orders.executed_qty, excluded.executed_qty), "
    "updated_ms = MAX(orders.updated_ms, excluded.updated_ms), "
    f"avg_price = {_AVG.format(avg='excluded.avg_price', qty='excluded.executed_qty')}"
)


def _insert(table: str, names: Sequence[str], tail: str = "") -> str:
    cols = ("bot_id", "symbol", *names)
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}){tail}"


_FILL_NAMES = tuple(f.name for f in fields(Fill))
_ROUND_TRIP_NAMES = tuple(f.name for f in fields(RoundTripClosed))
FILL_INSERT = _insert("fill", _FILL_NAMES, " ON CONFLICT (bot_id, symbol, trade_id) DO NOTHING")
ROUND_TRIP_INSERT = _insert("round_trip", _ROUND_TRIP_NAMES)


def _db_value(v: Any) -> Any:
    """A column value as SQLite stores it in these tables: decimals as exact TEXT, booleans as 0/1; no
    column here holds a float, so a float (money gone inexact) is refused, as the peewee fields do."""
    if isinstance(v, Decimal | float):
        return exact_text(v)
    if isinstance(v, bool):
        return int(v)
    return v


def save_slots(
    conn: sqlite3.Connection,
    ids: tuple[str, str],
    book_fields: tuple[Any, ...] | None,
    rows: Sequence[tuple[int, str, str, str]],
    gone: Sequence[int],
) -> None:
    """Upsert the book row (``next_gen, dust, dust_cost, held_total, buy_working_total``; None: leave it),
    upsert the slot ``rows`` (level, state, client id, doc) and delete the slots at ``gone`` levels.
    Each call to SQLite lets other threads take the GIL, so none is made without something to write."""
    if book_fields is not None:
        conn.execute(BOOK_UPSERT, (*ids, *(_db_value(v) for v in book_fields)))
    if len(gone) == 1:
        conn.execute(SLOT_DELETE, (*ids, gone[0]))
    elif gone:
        conn.executemany(SLOT_DELETE, [(*ids, lv) for lv in gone])
    if len(rows) == 1:
        conn.execute(SLOT_UPSERT, (*ids, *rows[0]))
    elif rows:
        conn.executemany(SLOT_UPSERT, [(*ids, *r) for r in rows])


def insert_intent(
    conn: sqlite3.Connection,
    ids: tuple[str, str],
    client_id: str,
    level: int,
    side: str,
    price: int,
    qty: int,
    now_ms: int,
) -> tuple[int, str, int, int, str] | None:
    """Insert the INTENT row: None when inserted, else the stored (level, side, price, qty, status)."""
    cur = conn.execute(INTENT_INSERT, (*ids, client_id, level, side, price, qty, INTENT, now_ms, now_ms))
    if cur.rowcount == 1:
        return None
    row = conn.execute(ORDER_READ, (*ids, client_id)).fetchone()
    return None if row is None else tuple(row)


def update_order(
    conn: sqlite3.Connection,
    ids: tuple[str, str],
    client_id: str,
    status: str,
    order_id: int | None,
    executed_qty: int | None,
    now_ms: int,
    avg_price: Decimal | None = None,
) -> bool:
    """Apply a status report to an existing order row; False when there is no such row."""
    avg = None if avg_price is None else exact_text(avg_price)
    cur = conn.execute(ORDER_UPDATE, (status, order_id, executed_qty, now_ms, *ids, client_id, avg))
    return cur.rowcount == 1


def upsert_order(
    conn: sqlite3.Connection, ids: tuple[str, str], snap: OrderSnapshot, level: int, now_ms: int
) -> None:
    """Insert an order found on the exchange, or apply its snapshot to the stored row: one statement."""
    conn.execute(
        ORDER_UPSERT,
        (
            *ids,
            snap.client_id,
            level,
            snap.side.value,
            snap.price,
            snap.orig_qty,
            snap.status.value,
            snap.order_id,
            max(0, snap.executed_qty),
            snap.time_ms or now_ms,
            now_ms,
            None if snap.avg_price is None else exact_text(snap.avg_price),
        ),
    )


def insert_fill(conn: sqlite3.Connection, ids: tuple[str, str], fill: Fill) -> bool:
    """Store one trade; False (nothing written) when its trade id is already stored."""
    cols = fill_columns(fill)
    cur = conn.execute(FILL_INSERT, (*ids, *(_db_value(cols[n]) for n in _FILL_NAMES)))
    return cur.rowcount == 1


def insert_round_trip(conn: sqlite3.Connection, ids: tuple[str, str], rt: RoundTripClosed) -> None:
    """Store one closed round trip."""
    cols = round_trip_columns(rt)
    conn.execute(ROUND_TRIP_INSERT, (*ids, *(_db_value(cols[n]) for n in _ROUND_TRIP_NAMES)))


def order_exists(conn: sqlite3.Connection, ids: tuple[str, str], client_id: str) -> bool:
    """True when the orders table has a row for ``client_id``."""
    return conn.execute(ORDER_EXISTS, (*ids, client_id)).fetchone() is not None
