"""The versioned schema: numbered migrations applied in order when a store opens.

``schema_version`` holds one row per applied migration. Opening a database at the current version
writes nothing; a database written by a newer program is refused (never silently downgraded).

Rule for schema changes: append a migration (the next number) that changes the tables with
``playhouse.migrate`` operations, and change the models in models.py to match. Migration 1 builds the
tables from the models, so once a model changes, migration 1 must keep creating the *version 1* tables:
freeze their definitions there before the first change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from peewee import (
    BigIntegerField,
    CharField,
    Database,
    Model,
    PostgresqlDatabase,
    SqliteDatabase,
    fn,
)
from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as run_operations

from market_maker.store.errors import StoreError
from market_maker.store.fields import ExactDecimalField
from market_maker.store.models import Models


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered step of the schema."""

    number: int
    name: str
    apply: Callable[[Database, Models], None]


def _orders_v1(db: Database) -> Any:
    """The ``orders`` table as version 1 made it (frozen here: models.py holds the current one)."""

    class OrdersV1(Model):
        bot_id = CharField(max_length=32)
        symbol = CharField(max_length=32)
        client_id = CharField(max_length=36)
        level = BigIntegerField()
        side = CharField(max_length=4)
        price = BigIntegerField()
        qty = BigIntegerField()
        status = CharField(max_length=24)
        order_id = BigIntegerField(null=True)
        executed_qty = BigIntegerField(default=0)
        created_ms = BigIntegerField()
        updated_ms = BigIntegerField()

        class Meta:
            database = db
            table_name = "orders"
            indexes = ((("bot_id", "symbol", "client_id"), True), (("bot_id", "symbol", "status"), False))

    return OrdersV1


def _initial(db: Database, models: Models) -> None:
    later = (models.version, models.order)  # the schema table is made first; orders changed in 2
    db.create_tables([*(m for m in models if m not in later), _orders_v1(db)])


def _order_avg_price(db: Database, models: Models) -> None:
    # a nullable column: existing rows keep everything and read NULL (the average was never recorded)
    run_operations(
        SchemaMigrator.from_database(db).add_column("orders", "avg_price", ExactDecimalField(null=True))
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _initial),
    Migration(2, "orders.avg_price: the venue's average execution price", _order_avg_price),
)
CURRENT_VERSION = MIGRATIONS[-1].number
MIGRATION_LOCK_ID = 0x6D6D5F73746F7265  # "mm_store": PostgreSQL advisory lock serializing migrations


def schema_version(db: Database, models: Models) -> int:
    """The version the database is at (0 for an empty database)."""
    if not db.table_exists(models.version._meta.table_name):
        return 0
    return int(models.version.select(fn.MAX(models.version.version)).scalar() or 0)


def write_transaction(db: Database) -> Any:
    """A transaction that takes the write lock up front on SQLite (no busy upgrade deadlocks)."""
    return db.atomic("IMMEDIATE") if isinstance(db, SqliteDatabase) else db.atomic()


def migrate(db: Database, models: Models, where: str) -> int:
    """Bring the database at ``where`` to :data:`CURRENT_VERSION`; returns the version it was at."""
    found = schema_version(db, models)
    if found == CURRENT_VERSION:
        return found
    if found > CURRENT_VERSION:
        raise StoreError(
            f"store {where} has schema version {found}, newer than this program's {CURRENT_VERSION}: "
            "upgrade the program"
        )
    with write_transaction(db):
        if isinstance(db, PostgresqlDatabase):
            # several bot processes may open one new database at once: one migrates, the others wait
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_ID,))
        db.create_tables([models.version])
        found = schema_version(db, models)  # another process may have migrated meanwhile
        for m in MIGRATIONS:
            if m.number > found:
                m.apply(db, models)
                models.version.create(
                    version=m.number, name=m.name, applied_at=datetime.now(UTC).isoformat(timespec="seconds")
                )
    return found
