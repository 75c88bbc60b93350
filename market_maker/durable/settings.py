"""Where DBOS keeps its state and under which names a bot's process runs its workflows."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from market_maker.store.database import display_name
from market_maker.store.private import create_private_file

APP_NAME = "market_maker"
# Recovery only resumes workflows of the same application version. Bump it only when the workflows'
# steps change incompatibly; old pending workflows are then listed by `workflows` and must be resumed
# by hand. (DBOS's default, a hash of the source, would strand them after any code change.)
APPLICATION_VERSION = "mm-orders-1"


@dataclass(frozen=True, slots=True)
class DurableSettings:
    """DBOS configuration of one bot process."""

    system_database_url: str = field(repr=False)  # may carry a password
    where: str  # the same, password masked: for messages
    executor_id: str
    sqlite_path: Path | None  # the SQLite system database file (None on PostgreSQL)


def is_postgres(database: str) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) URL."""
    return database.startswith(("postgresql://", "postgres://"))


def system_database_path(database: str) -> Path:
    """The DBOS system database next to the peewee file: ``var/bot.sqlite`` -> ``var/bot.dbos.sqlite``."""
    if database == ":memory:" or "://" in database:
        raise ValueError(f"engine.database {database!r}: the Durable engine needs a SQLite file path")
    p = Path(database).expanduser().resolve()
    return p.with_name(f"{p.stem}.dbos{p.suffix or '.sqlite'}")


def durable_settings(database: str, bot_id: str, symbol: str) -> DurableSettings:
    """Settings for ``engine.database``: PostgreSQL holds DBOS's tables (schema ``dbos``) next to the
    store's; a SQLite store gets its own DBOS file beside it.

    The executor id is ``<bot>-<symbol>``: the store's lock lets one process at a time trade a bot and
    symbol, so it is unique among live processes, and a bot moved to another host still recovers its
    own pending workflows.
    """
    executor = f"{bot_id}-{symbol}"
    if is_postgres(database):
        url = "postgresql://" + database.split("://", 1)[1]
        return DurableSettings(url, display_name(url), executor, None)
    path = system_database_path(database)
    return DurableSettings(f"sqlite:///{path}", str(path), executor, path)


def prepare_sqlite(path: Path) -> None:
    """Create the file in WAL mode (the mode persists in the file): DBOS does not switch it on, and a
    rollback journal stalls its notification poller."""
    create_private_file(path)  # 0600 in a 0700 directory, as the bot's own database
    conn = sqlite3.connect(path, timeout=30)
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    finally:
        conn.close()
    if str(mode).lower() != "wal":
        raise OSError(f"{path}: could not switch to WAL mode (got {mode})")
