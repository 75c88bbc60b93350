"""Starting paper trading over (``paper reset``, ``run --fresh``): remove the venue's state file and
the bot's database, after saying what goes.

A SQLite database goes with its WAL files (and the Durable engine's DBOS file beside it). A PostgreSQL
database is shared by several bots: only this bot's rows on its symbol are deleted from it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from market_maker.durable.settings import system_database_path
from market_maker.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_UNSAFE, EXIT_USAGE
from market_maker.ops.paper_venue import paper_state_path, shared_database
from market_maker.settings.models import Config
from market_maker.sim.state_file import VenueBusyError, acquire_lock, lock_path
from market_maker.store import StoreError, open_store
from market_maker.store.database import display_name


def paper_files(config: Config) -> list[Path]:
    """The files that exist and go: the venue state (lock, temporary) and a SQLite database's files."""
    found: list[Path] = []
    state = paper_state_path(config)
    if state is not None:
        found += [state, lock_path(state), state.with_name(state.name + ".tmp")]
    database = config.engine.database.removeprefix("sqlite:///")
    if not shared_database(config) and database != ":memory:":
        db = Path(database).expanduser()
        dbs = [db, system_database_path(str(db))] if config.engine.type == "durable" else [db]
        for p in dbs:
            found += [p, p.with_name(p.name + "-wal"), p.with_name(p.name + "-shm")]
    return [p for p in found if p.exists()]


def reset_paper_or_fail(config: Config, say: Callable[[str], None], what: str) -> int:
    """:func:`reset_paper` for a command (``what``: ``paper reset``, ``--fresh``): EXIT_OK, or one
    ``error:`` line on stderr and the exit code (4 while a bot runs on it, 2 not a paper configuration,
    1 a file or the database could not be removed)."""
    try:
        reset_paper(config, say)
    except VenueBusyError as exc:
        print(f"error: {exc}: stop that bot first", file=sys.stderr)
        return EXIT_UNSAFE
    except ValueError as exc:
        print(f"error: {what}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, StoreError) as exc:
        print(f"error: {what}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def reset_paper(config: Config, say: Callable[[str], None]) -> None:
    """Remove what :func:`paper_files` lists (and a shared database's rows of this bot), telling ``say``
    about each first. Raises ``ValueError`` (not a paper configuration), :class:`VenueBusyError` (a bot
    runs on it), ``OSError`` / :class:`StoreError`."""
    if config.exchange.venue != "sim" or config.exchange.rest_url is not None:
        raise ValueError("paper reset is for the built-in simulator (exchange.venue sim without rest_url)")
    state = paper_state_path(config)
    # held while removing: VenueBusyError while a bot trades on it, and none starts meanwhile
    lock = acquire_lock(state) if state is not None and state.exists() else None
    try:
        _remove(config, say)
    finally:
        if lock is not None:
            os.close(lock)


def _remove(config: Config, say: Callable[[str], None]) -> None:
    files = paper_files(config)
    for p in files:
        say(f"removing {p}")
    if shared_database(config):
        where = display_name(config.engine.database)
        say(f"removing bot {config.bot.id}'s rows on {config.trading.symbol} from {where}")
        store = open_store(config.engine.database, config.bot.id, config.trading.symbol)
        try:
            store.forget()
        finally:
            store.close()
    elif not files:
        say("nothing to remove: no paper venue state or database yet")
    for p in files:
        p.unlink(missing_ok=True)


__all__ = ["StoreError", "VenueBusyError", "paper_files", "reset_paper"]
