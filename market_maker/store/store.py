"""The Simple engine's store: slots, orders, fills, round trips, risk state, controls and the lock.

One writer (the SlotManagerActor's thread) writes trading rows; any thread may read. peewee keeps one
connection per thread, opened on first use: a thread that used the store calls :meth:`Store.close`
before it ends. Every row is scoped by (bot_id, symbol). Database errors surface as
:class:`StoreError` with the database named (a URL's password masked).
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from decimal import Decimal
from typing import Any

from peewee import Database, IntegrityError, PeeweeException, SqliteDatabase, fn

from market_maker.core.ids import decode, valid_bot_id
from market_maker.core.model import Fill, OrderSnapshot, Side
from market_maker.core.slot_events import RoundTripClosed
from market_maker.core.slots import Slot, SlotBook, changed_since
from market_maker.store import lock as locks
from market_maker.store import sqlite_writes as sql
from market_maker.store.codec import dict_from_json, dict_to_json, slot_from_json, slot_to_json
from market_maker.store.database import display_name, is_url, make_database
from market_maker.store.errors import StoreError
from market_maker.store.migrations import migrate, write_transaction
from market_maker.store.models import Models, make_models
from market_maker.store.records import (
    INTENT,
    OPEN_STATUSES,
    ORDER_STATUSES,
    OrderRow,
    fill_columns,
    fill_from_row,
    order_from_row,
    round_trip_columns,
    round_trip_from_row,
)

log = logging.getLogger(__name__)

_SYMBOL_RE = re.compile(r"^[A-Za-z0-9_]{1,32}$")
_CHUNK = 100  # rows per multi-row insert (well under SQLite's variable limit)


class Store:
    """Persistence for one bot on one symbol; build it with :func:`open_store`."""

    def __init__(self, db: Database, models: Models, bot_id: str, symbol: str, where: str) -> None:
        self._db = db
        self._m = models
        self.bot_id = bot_id
        self.symbol = symbol
        self.where = where
        self._lock_owner: str | None = None
        # SQLite writes go through sqlite_writes' prepared statements (they are on the order path);
        # other databases (PostgreSQL) keep peewee's query building.
        self._sqlite = isinstance(db, SqliteDatabase)
        self._id_pair = (bot_id, symbol)
        self._book_row_saved = False  # save_book_diff wrote the book row once (from this object)
        # The slot levels stored, as save_book last wrote them, so a save costs O(changed levels) instead
        # of reading every level: valid only for the connection (thread) that wrote them and while no other
        # connection changed the file (SQLite's data_version); dropped when a transaction around it fails.
        self._stored: set[int] | None = None
        self._stored_key: tuple[Any, int] | None = None
        self._stored_guard = threading.Lock()

    def __repr__(self) -> str:
        return f"Store({self.where!r}, bot_id={self.bot_id!r}, symbol={self.symbol!r})"

    @property
    def db(self) -> Database:
        """The peewee database (integrity checks read it directly)."""
        return self._db

    @property
    def models(self) -> Models:
        """The model classes of this database."""
        return self._m

    def holds_nothing(self) -> bool:
        """True when nothing of this bot and symbol was ever stored: no book, no order, no fill (a new
        store, or one whose rows were deleted)."""
        m = self._m
        with self._guard("read"):
            return not any(
                model.select().where(self._scope(model)).exists() for model in (m.book, m.order, m.fill)
            )

    # --- plumbing ----------------------------------------------------------------------------------

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except (PeeweeException, sqlite3.Error) as e:
            raise StoreError(f"store {self.where}: {what} failed: {_one_line(e)}") from e

    def _write(self) -> AbstractContextManager[Any]:
        """A write transaction, or nothing when the caller's transaction is open (no savepoint needed:
        the caller's transaction already makes these writes all-or-nothing)."""
        return nullcontext() if self._db.in_transaction() else write_transaction(self._db)

    def _scope(self, model: Any) -> Any:
        return (model.bot_id == self.bot_id) & (model.symbol == self.symbol)

    def _ids(self) -> dict[str, str]:
        return {"bot_id": self.bot_id, "symbol": self.symbol}

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction around several writes (nested blocks become savepoints)."""
        try:
            with self._guard("transaction"), write_transaction(self._db):
                yield
        except BaseException:
            self._forget_stored()  # a save_book inside may have been rolled back
            self._book_row_saved = False  # ... and a save_book_diff's book row with it
            raise

    def close(self) -> None:
        """Close the calling thread's connection (each thread that used the store closes its own)."""
        with self._guard("close"):
            if not self._db.is_closed():
                self._db.close()

    def defer_checkpoints(self, pages: int) -> bool:
        """On SQLite, let the calling thread's commits checkpoint the WAL only once it holds ``pages``
        pages (a Checkpointer does it before then, see checkpoints.py); False for other databases."""
        if not self._sqlite:
            return False
        with self._guard("set checkpoints"):
            self._db.execute_sql(f"PRAGMA wal_autocheckpoint = {int(pages)}")
        return True

    def checkpoint(self) -> tuple[int, int, int] | None:
        """A PASSIVE WAL checkpoint on the calling thread's connection (it waits for no reader or
        writer): (busy, WAL frames, frames checkpointed); None for databases that are not SQLite."""
        if not self._sqlite:
            return None
        with self._guard("checkpoint"):
            busy, frames, done = self._db.execute_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(busy), int(frames), int(done)

    def sqlite_pragmas(self) -> dict[str, Any]:
        """The connection settings that matter for safety (SQLite only; empty for other databases)."""
        if not isinstance(self._db, SqliteDatabase):
            return {}
        names = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        with self._guard("read settings"):
            return {n: self._db.execute_sql(f"PRAGMA {n}").fetchone()[0] for n in names}

    # --- lock --------------------------------------------------------------------------------------

    def _scope_text(self) -> str:
        return f"bot {self.bot_id} on {self.symbol}"

    def acquire_lock(self, owner: str, now_ms: int, stale_after_ms: int = 0) -> None:
        """Take the trading lock of this bot and symbol, or raise :class:`StoreLockedError` naming the holder.

        Taking a lock we already hold refreshes its heartbeat. A stale lock (heartbeat older than
        ``stale_after_ms`` when > 0, or a holder process on this host that no longer exists) is taken over.
        """
        if not owner.strip():
            raise StoreError(f"store {self.where}: the lock owner must not be empty (e.g. host:pid)")
        pid, host = locks.this_process()
        lock = self._m.lock
        with self._guard("acquire lock"), write_transaction(self._db):
            row = lock.get_or_none(self._scope(lock))
            if row is None:
                lock.create(
                    **self._ids(), owner=owner, pid=pid, host=host, since_ms=now_ms, heartbeat_ms=now_ms
                )
            else:
                h = locks.holder_of(row)
                if locks.is_ours(h, owner):
                    lock.update(heartbeat_ms=now_ms).where(self._scope(lock)).execute()
                elif locks.is_stale(h, now_ms, stale_after_ms):
                    locks.log_takeover(self.where, self._scope_text(), h, owner)
                    lock.update(owner=owner, pid=pid, host=host, since_ms=now_ms, heartbeat_ms=now_ms).where(
                        self._scope(lock)
                    ).execute()
                else:
                    raise locks.locked_error(self.where, self._scope_text(), h, now_ms)
        self._lock_owner = owner

    def _our_lock(self) -> Any:
        pid, host = locks.this_process()
        lock = self._m.lock
        return self._scope(lock) & (lock.owner == self._lock_owner) & (lock.pid == pid) & (lock.host == host)

    def heartbeat_lock(self, now_ms: int) -> None:
        """Refresh our lock's heartbeat; raises :class:`StoreLockedError` if another process took it over."""
        if self._lock_owner is None:
            raise StoreError(f"store {self.where}: heartbeat without a lock (call acquire_lock first)")
        lock = self._m.lock
        with self._guard("lock heartbeat"), write_transaction(self._db):
            if lock.update(heartbeat_ms=now_ms).where(self._our_lock()).execute() == 1:
                return
            row = lock.get_or_none(self._scope(lock))
        if row is None:
            raise StoreError(
                f"store {self.where}: the lock of {self._scope_text()} was removed by another process"
            )
        raise locks.locked_error(self.where, self._scope_text(), locks.holder_of(row), now_ms)

    def release_lock(self) -> None:
        """Give the lock up (nothing happens when we do not hold it)."""
        if self._lock_owner is None:
            return
        with self._guard("release lock"):
            self._m.lock.delete().where(self._our_lock()).execute()
        self._lock_owner = None

    def lock_holder(self) -> locks.LockHolder | None:
        """Who holds the lock of this bot and symbol now (for status output), or None."""
        with self._guard("read lock"):
            row = self._m.lock.get_or_none(self._scope(self._m.lock))
        return None if row is None else locks.holder_of(row)

    # --- slot book ---------------------------------------------------------------------------------

    def load_book(self) -> SlotBook | None:
        """The slot book exactly as last saved, or None when none was saved for this bot and symbol."""
        m = self._m
        with self._guard("load book"), self._db.atomic():
            if not isinstance(self._db, SqliteDatabase) and self._db.transaction_depth() == 1:
                # one snapshot for both reads: under PostgreSQL's default READ COMMITTED a reader next to
                # a running bot (status, doctor, tests) could see the book row of one commit and the slot
                # rows of the next, and refuse a consistent book (SQLite's WAL read already is a snapshot)
                self._db.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            row = m.book.get_or_none(self._scope(m.book))
            slot_rows = list(m.slot.select().where(self._scope(m.slot)).order_by(m.slot.level))
        if row is None:
            if slot_rows:
                raise StoreError(f"store {self.where}: slots of {self._scope_text()} exist without a book")
            return None
        slots: dict[int, Slot] = {}
        for r in slot_rows:
            s = slot_from_json(r.doc, f"{self.where} (level {r.level})")
            if (s.level, s.state.value, s.client_id) != (r.level, r.state, r.client_id):
                raise StoreError(f"store {self.where}: slot row at level {r.level} disagrees with its doc")
            slots[s.level] = s
        book = SlotBook(
            bot_id=self.bot_id,
            slots=slots,
            next_gen=row.next_gen,
            dust=row.dust,
            dust_cost=row.dust_cost,
            held_total=row.held_total,
            buy_working_total=row.buy_working_total,
        )
        self._check_totals(book)
        return book

    def _check_totals(self, book: SlotBook) -> None:
        held = sum(s.held for s in book.slots.values())
        buys = sum(s.remaining for s in book.slots.values() if s.side is Side.BUY)
        if (held, buys) != (book.held_total, book.buy_working_total):
            raise StoreError(
                f"store {self.where}: book totals (held {book.held_total}, working buys "
                f"{book.buy_working_total}) do not match its slots (held {held}, working buys {buys})"
            )

    def save_book(self, book: SlotBook, changed_levels: Iterable[int] | None = None) -> None:
        """Persist the book: its fields, the slots at ``changed_levels`` (None = all) and any slot not
        stored yet; levels no longer in the book are deleted."""
        if book.bot_id != self.bot_id:
            raise StoreError(f"store {self.where}: book of bot {book.bot_id!r} given to bot {self.bot_id!r}")
        try:
            self._save_book(book, changed_levels)
        except BaseException:
            self._forget_stored()  # rolled back: what is stored is no longer known
            raise

    def _save_book(self, book: SlotBook, changed_levels: Iterable[int] | None) -> None:
        if self._sqlite:
            self._save_book_sqlite(book, changed_levels)
            return
        m = self._m
        with self._guard("save book"), write_transaction(self._db):
            m.book.insert(
                **self._ids(),
                next_gen=book.next_gen,
                dust=book.dust,
                dust_cost=book.dust_cost,
                held_total=book.held_total,
                buy_working_total=book.buy_working_total,
            ).on_conflict(
                conflict_target=[m.book.bot_id, m.book.symbol],
                preserve=[
                    m.book.next_gen,
                    m.book.dust,
                    m.book.dust_cost,
                    m.book.held_total,
                    m.book.buy_working_total,
                ],
            ).execute()
            stored = self._stored_levels()
            gone = sorted(stored - book.slots.keys())
            for i in range(0, len(gone), _CHUNK):
                m.slot.delete().where(self._scope(m.slot) & m.slot.level.in_(gone[i : i + _CHUNK])).execute()
            if changed_levels is None:
                write = set(book.slots)
            else:
                write = (set(changed_levels) & book.slots.keys()) | (book.slots.keys() - stored)
            rows = [
                {
                    **self._ids(),
                    "level": lv,
                    "state": s.state.value,
                    "client_id": s.client_id,
                    "doc": slot_to_json(s),
                }
                for lv in sorted(write)
                for s in (book.slots[lv],)
            ]
            for i in range(0, len(rows), _CHUNK):
                m.slot.insert_many(rows[i : i + _CHUNK]).on_conflict(
                    conflict_target=[m.slot.bot_id, m.slot.symbol, m.slot.level],
                    preserve=[m.slot.state, m.slot.client_id, m.slot.doc],
                ).execute()
            self._remember_stored(set(book.slots))

    def save_book_diff(self, old: SlotBook, new: SlotBook) -> None:
        """Persist ``new`` when ``old`` is exactly what the store holds (its only writer saved it): only
        the slots that differ (transitions replace a slot, never mutate it) and, when its fields changed,
        the book row are written, with no read first. Other callers use :meth:`save_book`."""
        if new.bot_id != self.bot_id:
            raise StoreError(f"store {self.where}: book of bot {new.bot_id!r} given to bot {self.bot_id!r}")
        changed = changed_since(old, new)  # O(transitions) when new was made from old, else compare all
        if changed is None:
            changed = sorted(
                lv for lv in old.slots.keys() | new.slots.keys() if old.slots.get(lv) is not new.slots.get(lv)
            )
        if not self._sqlite:
            self.save_book(new, changed)
            return
        fields = _book_fields(new)
        rows = [
            (lv, s.state.value, s.client_id, slot_to_json(s)) for lv in changed if (s := new.slots.get(lv))
        ]
        gone = [lv for lv in changed if lv not in new.slots]
        self._forget_stored()  # what save_book remembers may no longer be what is stored
        write_row = fields != _book_fields(old) or not self._book_row_saved
        # One statement is atomic on its own: no BEGIN / COMMIT around it (each SQLite call hands the
        # GIL to other threads, and a cancel request's commit is just its slot row)
        single = write_row + len(rows) + len(gone) == 1
        try:
            with self._guard("save book"), nullcontext() if single else self._write():
                sql.save_slots(
                    self._db.connection(), self._id_pair, fields if write_row else None, rows, gone
                )
        except BaseException:
            self._book_row_saved = False  # rolled back: write it again next time
            raise
        self._book_row_saved = True

    def _save_book_sqlite(self, book: SlotBook, changed_levels: Iterable[int] | None) -> None:
        with self._guard("save book"), self._write():
            stored = self._stored_levels()
            if changed_levels is None:
                write = set(book.slots)
            else:
                write = (set(changed_levels) & book.slots.keys()) | (book.slots.keys() - stored)
            rows = [
                (lv, s.state.value, s.client_id, slot_to_json(s))
                for lv in sorted(write)
                for s in (book.slots[lv],)
            ]
            fields = _book_fields(book)
            sql.save_slots(
                self._db.connection(), self._id_pair, fields, rows, sorted(stored - book.slots.keys())
            )
            self._remember_stored(set(book.slots))

    def _stored_levels(self) -> set[int]:
        """The stored slot levels (inside save_book's write transaction): remembered, or read once."""
        key = self._connection_key()
        with self._stored_guard:
            if self._stored is not None and key is not None and self._stored_key is not None:
                conn, version = self._stored_key
                if conn is key[0] and version == key[1]:
                    return self._stored
        m = self._m
        return {r.level for r in m.slot.select(m.slot.level).where(self._scope(m.slot))}

    def _remember_stored(self, levels: set[int]) -> None:
        key = self._connection_key()
        with self._stored_guard:
            self._stored, self._stored_key = (levels, key) if key is not None else (None, None)

    def _forget_stored(self) -> None:
        with self._stored_guard:
            self._stored, self._stored_key = None, None

    def _connection_key(self) -> tuple[Any, int] | None:
        """The connection that writes (the object itself, so a new one never passes for it) and SQLite's
        data_version on it, which changes when any other connection or process commits; None for other
        databases (no cache: each save reads the stored levels)."""
        if not isinstance(self._db, SqliteDatabase):
            return None
        conn = self._db.connection()
        return conn, int(conn.execute("PRAGMA data_version").fetchone()[0])

    # --- orders ------------------------------------------------------------------------------------

    def _check_client_id(self, client_id: str, level: int | None = None) -> int:
        parts = decode(client_id, self.bot_id)
        if parts is None:
            raise StoreError(f"store {self.where}: {client_id!r} is not a client id of bot {self.bot_id}")
        if level is not None and parts.level != level:
            raise StoreError(
                f"store {self.where}: client id {client_id} is of level {parts.level}, not {level}"
            )
        return parts.level

    def record_intent(
        self, client_id: str, level: int, side: Side, price: int, qty: int, now_ms: int
    ) -> None:
        """Write the order row (status INTENT) *before* the request goes out; repeating the same intent is
        a no-op, a different order under the same client id is refused."""
        self._check_client_id(client_id, level)
        if self._sqlite:
            with self._guard("record intent"):
                found = sql.insert_intent(
                    self._db.connection(),
                    self._id_pair,
                    client_id,
                    level,
                    Side(side).value,
                    price,
                    qty,
                    now_ms,
                )
            if found is not None:
                self._refuse_intent(client_id, (level, Side(side).value, price, qty), found)
            return
        o = self._m.order
        with self._guard("record intent"), write_transaction(self._db):
            row = o.get_or_none(self._scope(o) & (o.client_id == client_id))
            if row is None:
                o.create(
                    **self._ids(),
                    client_id=client_id,
                    level=level,
                    side=Side(side).value,
                    price=price,
                    qty=qty,
                    status=INTENT,
                    executed_qty=0,
                    created_ms=now_ms,
                    updated_ms=now_ms,
                )
                return
        self._refuse_intent(
            client_id,
            (level, Side(side).value, price, qty),
            (row.level, row.side, row.price, row.qty, row.status),
        )

    def _refuse_intent(self, client_id: str, wanted: tuple[Any, ...], row: tuple[Any, ...]) -> None:
        """Repeating the same intent is a no-op; a different order under the same client id is refused."""
        if row[:4] != wanted or row[4] != INTENT:
            _, side, price, qty, status = row
            raise StoreError(
                f"store {self.where}: client id {client_id} is already recorded "
                f"({side} {qty} @ {price}, {status})"
            )

    def update_order(
        self,
        client_id: str,
        status: str,
        order_id: int | None = None,
        executed_qty: int | None = None,
        now_ms: int = 0,
        avg_price: Decimal | None = None,
    ) -> None:
        """Record an order's new status. A finished order (filled, cancelled, ...) never reopens, and the
        executed quantity never goes down, whatever order the reports arrive in; ``avg_price`` (the
        venue's average execution price) is taken with the quantity it describes, unless that is less
        than the row already holds."""
        if status not in ORDER_STATUSES:
            raise StoreError(f"store {self.where}: unknown order status {status!r} for {client_id}")
        if self._sqlite:
            with self._guard("update order"):
                done = sql.update_order(
                    self._db.connection(),
                    self._id_pair,
                    client_id,
                    status,
                    order_id,
                    executed_qty,
                    now_ms,
                    avg_price,
                )
            if not done:
                raise StoreError(f"store {self.where}: no order {client_id} recorded (record_intent first)")
            return
        o = self._m.order
        with self._guard("update order"), write_transaction(self._db):
            row = o.get_or_none(self._scope(o) & (o.client_id == client_id))
            if row is None:
                raise StoreError(f"store {self.where}: no order {client_id} recorded (record_intent first)")
            if row.status in OPEN_STATUSES or status not in OPEN_STATUSES:
                row.status = status
            if order_id is not None:
                row.order_id = order_id
            reported = row.executed_qty if executed_qty is None else executed_qty
            if avg_price is not None and reported >= row.executed_qty:  # as sqlite_writes' _AVG
                row.avg_price = avg_price
            if executed_qty is not None:
                row.executed_qty = max(row.executed_qty, executed_qty)
            row.updated_ms = max(row.updated_ms, now_ms)
            row.save()

    def record_order(self, snap: OrderSnapshot, now_ms: int) -> None:
        """Record an order found on the exchange (adopted at reconciliation): inserted if unknown, else
        updated like :meth:`update_order`."""
        level = self._check_client_id(snap.client_id)
        if self._sqlite:
            with self._guard("record order"):
                sql.upsert_order(self._db.connection(), self._id_pair, snap, level, now_ms)
            return
        o = self._m.order
        with self.atomic():
            if o.get_or_none(self._scope(o) & (o.client_id == snap.client_id)) is None:
                with self._guard("record order"):
                    o.create(
                        **self._ids(),
                        client_id=snap.client_id,
                        level=level,
                        side=snap.side.value,
                        price=snap.price,
                        qty=snap.orig_qty,
                        status=INTENT,
                        executed_qty=0,
                        created_ms=snap.time_ms or now_ms,
                        updated_ms=now_ms,
                    )
            self.update_order(
                snap.client_id, snap.status.value, snap.order_id, snap.executed_qty, now_ms, snap.avg_price
            )

    def update_known_order(self, snap: OrderSnapshot, now_ms: int) -> bool:
        """Apply ``snap`` to its stored order row as :meth:`record_order` does, but only when there is one
        (never inserted); False when there is none. One statement on SQLite (no read first)."""
        if decode(snap.client_id, self.bot_id) is None:
            return False  # never one of ours: no row
        if not self._sqlite:
            if not self.has_order(snap.client_id):
                return False
            self.record_order(snap, now_ms)
            return True
        with self._guard("update order"):
            return sql.update_order(
                self._db.connection(),
                self._id_pair,
                snap.client_id,
                snap.status.value,
                snap.order_id,
                max(0, snap.executed_qty),  # as upsert_order stores it
                now_ms,
                snap.avg_price,
            )

    def orders(self, open_only: bool = False) -> list[OrderRow]:
        """The orders of this bot and symbol, oldest first (only those that may still work if asked)."""
        o = self._m.order
        q = o.select().where(self._scope(o))
        if open_only:
            q = q.where(o.status.in_(sorted(OPEN_STATUSES)))
        with self._guard("read orders"):
            return [order_from_row(r) for r in q.order_by(o.created_ms, o.id)]

    def order(self, client_id: str) -> OrderRow | None:
        """One order by client id, or None."""
        o = self._m.order
        with self._guard("read order"):
            r = o.get_or_none(self._scope(o) & (o.client_id == client_id))
        return None if r is None else order_from_row(r)

    def has_order(self, client_id: str) -> bool:
        """True when an order row exists for ``client_id`` (a cheaper :meth:`order` for the hot path)."""
        if not self._sqlite:
            return self.order(client_id) is not None
        with self._guard("read order"):
            return sql.order_exists(self._db.connection(), self._id_pair, client_id)

    def prune_orders(self, updated_before_ms: int) -> int:
        """Delete finished orders last updated before ``updated_before_ms``; returns how many went.

        Open orders (intent, unknown, working) are never deleted, whatever their age.
        """
        o = self._m.order
        q = o.delete().where(
            self._scope(o) & o.status.not_in(sorted(OPEN_STATUSES)) & (o.updated_ms < updated_before_ms)
        )
        with self._guard("prune orders"), write_transaction(self._db):
            return int(q.execute())

    # --- fills and round trips ---------------------------------------------------------------------

    def record_fill(self, fill: Fill) -> bool:
        """Store one trade; False (and nothing written) when its trade id is already stored."""
        f = self._m.fill
        with self._guard("record fill"):
            if self._sqlite:
                if sql.insert_fill(self._db.connection(), self._id_pair, fill):
                    return True
            else:
                try:
                    with self._db.atomic():  # a savepoint inside a caller's transaction
                        f.create(**self._ids(), **fill_columns(fill))
                    return True
                except IntegrityError:
                    pass
            old = f.get_or_none(self._scope(f) & (f.trade_id == fill.trade_id))
        if old is not None and fill_from_row(old) != fill:
            log.warning("store %s: trade %d reported again, differently: %s", self.where, fill.trade_id, fill)
        return False

    def fills(self, since_ms: int | None = None) -> list[Fill]:
        """Every stored trade (or those at or after ``since_ms``), in time order, then trade id."""
        f = self._m.fill
        q = f.select().where(self._scope(f))
        if since_ms is not None:
            q = q.where(f.time_ms >= since_ms)
        with self._guard("read fills"):
            return [fill_from_row(r) for r in q.order_by(f.time_ms, f.trade_id)]

    def last_trade_id(self) -> int | None:
        """The highest stored trade id (reconciliation asks the exchange for trades after it)."""
        f = self._m.fill
        with self._guard("read fills"):
            v = f.select(fn.MAX(f.trade_id)).where(self._scope(f)).scalar()
        return None if v is None else int(v)

    def last_fill_time_ms(self) -> int | None:
        """Time of the latest stored trade."""
        f = self._m.fill
        with self._guard("read fills"):
            v = f.select(fn.MAX(f.time_ms)).where(self._scope(f)).scalar()
        return None if v is None else int(v)

    def record_round_trip(self, rt: RoundTripClosed) -> None:
        """Store one closed round trip (in the same :meth:`atomic` block as the book that closed it)."""
        with self._guard("record round trip"):
            if self._sqlite:
                sql.insert_round_trip(self._db.connection(), self._id_pair, rt)
                return
            self._m.round_trip.create(**self._ids(), **round_trip_columns(rt))

    def round_trips(self, since_ms: int | None = None) -> list[RoundTripClosed]:
        """Every stored round trip (or those closed at or after ``since_ms``), in closing order."""
        r = self._m.round_trip
        q = r.select().where(self._scope(r))
        if since_ms is not None:
            q = q.where(r.time_ms >= since_ms)
        with self._guard("read round trips"):
            return [round_trip_from_row(x) for x in q.order_by(r.time_ms, r.id)]

    # --- risk state and controls -------------------------------------------------------------------

    def save_risk(self, state: dict[str, Any]) -> None:
        """Store the risk state (breaker, equity peak, paused, ...): plain values, Decimals kept exact."""
        doc = dict_to_json(state)
        r = self._m.risk
        with self._guard("save risk"):
            r.insert(**self._ids(), doc=doc).on_conflict(
                conflict_target=[r.bot_id, r.symbol], preserve=[r.doc]
            ).execute()

    def load_risk(self) -> dict[str, Any] | None:
        """The risk state last saved, or None."""
        r = self._m.risk
        with self._guard("load risk"):
            row = r.get_or_none(self._scope(r))
        return None if row is None else dict_from_json(row.doc, self.where)

    def set_control(self, key: str, value: str) -> None:
        """Set a control value (e.g. a pause request from the CLI to the running bot)."""
        c = self._m.control
        with self._guard("set control"):
            c.insert(**self._ids(), key=key, value=value).on_conflict(
                conflict_target=[c.bot_id, c.symbol, c.key], preserve=[c.value]
            ).execute()

    def get_control(self, key: str) -> str | None:
        """A control value, or None when it is not set."""
        c = self._m.control
        with self._guard("read control"):
            row = c.get_or_none(self._scope(c) & (c.key == key))
        return None if row is None else str(row.value)

    def pop_control(self, key: str) -> str | None:
        """Read and delete a control value in one transaction (a request handled exactly once)."""
        c = self._m.control
        with self._guard("take control"), write_transaction(self._db):
            row = c.get_or_none(self._scope(c) & (c.key == key))
            if row is None:
                return None
            c.delete().where(self._scope(c) & (c.key == key)).execute()
        return str(row.value)

    def forget(self) -> int:
        """Delete every row of this bot and symbol (``paper reset`` on a shared PostgreSQL database),
        in one transaction; the lock row stays with its holder. Returns how many rows went."""
        m = self._m
        with self._guard("forget"), write_transaction(self._db):
            return sum(
                int(t.delete().where(self._scope(t)).execute())
                for t in (m.book, m.slot, m.order, m.fill, m.round_trip, m.risk, m.control)
            )


def _book_fields(book: SlotBook) -> tuple[Any, ...]:
    """The book row's values, in sqlite_writes.BOOK_UPSERT's order."""
    return (book.next_gen, book.dust, book.dust_cost, book.held_total, book.buy_working_total)


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def open_store(
    database: str, bot_id: str, symbol: str, *, busy_timeout_s: float = 10.0, synchronous: str = "normal"
) -> Store:
    """Open (creating directories and tables, applying migrations) the store of ``bot_id`` on ``symbol``.

    ``database`` is a SQLite file path or a database URL (``sqlite:///...``, ``postgresql://...``).
    ``busy_timeout_s`` bounds the wait for another writer; ``synchronous="full"`` makes every commit
    survive a power loss (SQLite; the default ``"normal"`` is safe against crashes, not power loss).
    Raises :class:`StoreError` naming the database when it is corrupt, not a database, locked or newer.
    """
    where = display_name(database)
    if not valid_bot_id(bot_id):
        raise StoreError(f"store {where}: bot id {bot_id!r} must be 1-12 letters or digits")
    if not _SYMBOL_RE.match(symbol):
        raise StoreError(f"store {where}: symbol {symbol!r} must be 1-32 letters, digits or _")
    try:
        db = make_database(database, busy_timeout_s, synchronous)
    except (OSError, ValueError, PeeweeException) as e:
        raise StoreError(f"cannot open store {where}: {_one_line(e)}") from e
    models = make_models(db)
    try:
        db.connect(reuse_if_open=True)
        migrate(db, models, where)
        if isinstance(db, SqliteDatabase) and not is_url(database) and database != ":memory:":
            mode = db.execute_sql("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("store %s: journal mode is %s, not wal", where, mode)
    except PeeweeException as e:
        db.close()
        raise StoreError(f"cannot open store {where}: {_one_line(e)}") from e
    except StoreError:
        db.close()
        raise
    return Store(db, models, bot_id, symbol, where)
