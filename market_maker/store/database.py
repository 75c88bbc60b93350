"""Connecting to the store's database: a SQLite path (the default) or a URL (``postgresql://...``).

SQLite gets WAL, ``synchronous=NORMAL`` (safe with WAL), foreign keys and a busy timeout on every
connection. peewee keeps one connection per thread (``threading.local``).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from peewee import Database, SqliteDatabase
from playhouse.db_url import connect as connect_url

from market_maker.store.private import create_private_file

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",  # with WAL: a power loss may lose the last commits, never corrupts
    "foreign_keys": 1,
    "cache_size": -16_000,  # 16 MB
}
SYNCHRONOUS = ("normal", "full")  # "full": every commit survives a power loss (slower)


def is_url(database: str) -> bool:
    """True for ``scheme://...`` database strings, False for file paths."""
    return "://" in database


def display_name(database: str) -> str:
    """The database as it may be shown in messages and logs: a URL's password is masked."""
    if not is_url(database):
        return database if len(database) <= 120 else f"{database[:70]}...{database[-40:]}"
    parts = urlsplit(database)
    if parts.password is None:
        return database
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def make_database(database: str, busy_timeout_s: float, synchronous: str = "normal") -> Database:
    """An unconnected peewee database for ``database``; creates the parent directories of a SQLite file."""
    if synchronous not in SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}, got {synchronous!r}")
    pragmas = {**SQLITE_PRAGMAS, "synchronous": synchronous}
    if is_url(database):
        scheme = urlsplit(database).scheme
        if scheme.startswith("sqlite"):
            db = connect_url(database, pragmas=pragmas, timeout=busy_timeout_s)
            _make_parent(str(db.database))
            return db
        return connect_url(database)
    path = str(Path(database).expanduser()) if database != ":memory:" else database
    _make_parent(path)
    return SqliteDatabase(path, pragmas=pragmas, timeout=busy_timeout_s)


def _make_parent(path: str) -> None:
    """Create a SQLite file's directories (0700) and the file itself (0600) before SQLite does (0644):
    its WAL and shared-memory files then get the same 0600."""
    if path and path != ":memory:" and not path.startswith("file:"):
        create_private_file(Path(path))
