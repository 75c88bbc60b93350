"""Where a running bot's ops endpoint listens, recorded in its store so that ``status`` finds it.

With ``ops.port: 0`` (the default) the OS picks a free port, so two bots on one machine never collide;
the bot writes ``http://host:port`` to its store's control rows (keyed by bot id and symbol) once it
holds the trading lock, and removes it on a clean stop. ``status`` reads it back. A bot killed with
SIGKILL leaves its address behind: the next reader finds nothing listening there (or another program,
which :func:`market_maker.ops.client.fetch_status` tells apart by the bot id in the document).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from market_maker.settings.models import Config
from market_maker.store import StoreError, open_store
from market_maker.store.database import is_url
from market_maker.store.lock import process_gone

log = logging.getLogger(__name__)

ADDRESS_KEY = "ops_url"


def publish(config: Config, url: str) -> bool:
    """Record ``url`` as this bot's ops address; False (logged) when the store cannot be written."""
    try:
        store = open_store(config.engine.database, config.bot.id, config.trading.symbol)
        try:
            store.set_control(ADDRESS_KEY, url)
        finally:
            store.close()
    except StoreError as exc:
        log.error("ops endpoint %s not recorded, `status` will not find it: %s", url, exc)
        return False
    return True


def withdraw(config: Config, url: str) -> None:
    """Remove the recorded address if it is still ``url`` (a later bot may have replaced it)."""
    try:
        store = open_store(config.engine.database, config.bot.id, config.trading.symbol)
        try:
            with store.atomic():
                if store.get_control(ADDRESS_KEY) == url:
                    store.pop_control(ADDRESS_KEY)
        finally:
            store.close()
    except StoreError as exc:
        log.info("ops address left in the store: %s", exc)


def recorded(config: Config, wait_s: float = 0.0, grace_s: float = 0.0) -> str | None:
    """The address the bot recorded, or None (no database yet, or no running bot wrote one).

    A bot launched a moment ago (``run & status``) may not have opened its store yet: look again for
    ``grace_s``; one that holds its lock but has not recorded an address yet is starting: wait for it
    up to ``wait_s``.
    """
    start = time.monotonic()
    while True:
        url, starting = _look(config)
        waited = time.monotonic() - start
        if url is not None or waited >= (wait_s if starting else grace_s):
            return url
        time.sleep(0.2)


def _look(config: Config) -> tuple[str | None, bool]:
    """(recorded address, a live bot holds the lock)."""
    db = config.engine.database
    if not is_url(db) and db != ":memory:" and not Path(db).exists():
        return None, False  # never create a database just to look into it
    store = open_store(db, config.bot.id, config.trading.symbol)
    try:
        holder = store.lock_holder()
        live = holder is not None and not process_gone(holder.pid, holder.host)
        return store.get_control(ADDRESS_KEY), live
    finally:
        store.close()
