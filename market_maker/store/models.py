"""The store's tables, as peewee models bound to one database.

Models are built per database by :func:`make_models` (not bound globally), so several stores (files,
or later a PostgreSQL database for the Durable engine) can be open in one process. Every trading row
carries ``bot_id`` and ``symbol``: one database may hold many bots and symbols.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    Database,
    IntegerField,
    Model,
    TextField,
)

from market_maker.store.fields import ExactDecimalField


class Models(NamedTuple):
    """The model classes of one database, in creation order (typed Any: peewee models are dynamic)."""

    version: Any
    book: Any
    slot: Any
    order: Any
    fill: Any
    round_trip: Any
    risk: Any
    control: Any
    lock: Any


def make_models(db: Database) -> Models:
    """Model classes bound to ``db`` (the current schema; migrations create and change the tables)."""

    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Scoped(Base):
        bot_id = CharField(max_length=32)
        symbol = CharField(max_length=32)

    class SchemaVersion(Base):
        version = IntegerField(primary_key=True)
        name = TextField()
        applied_at = TextField()  # ISO-8601 UTC, for people reading the file

        class Meta:
            table_name = "schema_version"

    class BookRow(Scoped):
        next_gen = BigIntegerField()
        dust = ExactDecimalField()
        dust_cost = ExactDecimalField()
        held_total = BigIntegerField()
        buy_working_total = BigIntegerField()

        class Meta:
            table_name = "book"
            indexes = ((("bot_id", "symbol"), True),)

    class SlotRow(Scoped):
        level = BigIntegerField()
        state = CharField(max_length=16)
        client_id = CharField(max_length=36)
        doc = TextField()  # the whole core Slot as exact JSON (see codec.py)

        class Meta:
            table_name = "slot"
            indexes = ((("bot_id", "symbol", "level"), True), (("bot_id", "symbol", "client_id"), False))

    class OrderRowModel(Scoped):
        client_id = CharField(max_length=36)
        level = BigIntegerField()
        side = CharField(max_length=4)
        price = BigIntegerField()  # ticks
        qty = BigIntegerField()  # steps
        status = CharField(max_length=24)
        order_id = BigIntegerField(null=True)
        executed_qty = BigIntegerField(default=0)
        created_ms = BigIntegerField()
        updated_ms = BigIntegerField()
        # the venue's average price of what executed (schema 2); NULL until the venue reported one
        avg_price = ExactDecimalField(null=True)

        class Meta:
            table_name = "orders"
            indexes = ((("bot_id", "symbol", "client_id"), True), (("bot_id", "symbol", "status"), False))

    class FillRow(Scoped):
        trade_id = BigIntegerField()
        client_id = CharField(max_length=36)
        side = CharField(max_length=4)
        price = BigIntegerField()
        qty = BigIntegerField()
        cum_qty = BigIntegerField()
        fee = ExactDecimalField()
        fee_asset = CharField(max_length=16)
        time_ms = BigIntegerField()
        is_maker = BooleanField()
        order_id = BigIntegerField()

        class Meta:
            table_name = "fill"
            indexes = ((("bot_id", "symbol", "trade_id"), True), (("bot_id", "symbol", "time_ms"), False))

    class RoundTripRow(Scoped):
        level = BigIntegerField()
        qty = BigIntegerField()
        buy_cost = ExactDecimalField()
        proceeds = ExactDecimalField()
        fees = ExactDecimalField()
        realized = ExactDecimalField()
        time_ms = BigIntegerField()

        class Meta:
            table_name = "round_trip"
            indexes = ((("bot_id", "symbol", "time_ms"), False),)

    class RiskRow(Scoped):
        doc = TextField()  # JSON with exact decimals (see codec.py)

        class Meta:
            table_name = "risk"
            indexes = ((("bot_id", "symbol"), True),)

    class ControlRow(Scoped):
        key = CharField(max_length=64)
        value = TextField()

        class Meta:
            table_name = "control"
            indexes = ((("bot_id", "symbol", "key"), True),)

    class LockRow(Scoped):
        owner = TextField()
        pid = IntegerField()
        host = TextField()
        since_ms = BigIntegerField()
        heartbeat_ms = BigIntegerField()

        class Meta:
            table_name = "lock"
            indexes = ((("bot_id", "symbol"), True),)

    return Models(
        SchemaVersion, BookRow, SlotRow, OrderRowModel, FillRow, RoundTripRow, RiskRow, ControlRow, LockRow
    )
